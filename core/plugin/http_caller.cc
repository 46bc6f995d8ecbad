// HttpCaller: a call is one exchange on the pool of its origin plus a uv_timer of its own,
// which first bounds the call (its deadline) and then delivers its result (re-armed at 0 ms),
// so `done` never runs inside start(), cancel(), shutdown() or a pool callback. A call object
// is freed only in its timer's close callback; a pool is deleted only after its shutdown
// finished, from the reaper timer (never inside its own done callback).
#include "core/plugin/http_caller.h"

#include <algorithm>
#include <cassert>

#include "core/config/config.h"
#include "core/log/log.h"
#include "core/plugin/http_call_request.h"
#include "core/upstream/intrusive_list.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::plugin {

struct HttpCaller::Impl {
  // One origin's pool. Open (in `origins`, takes calls) → Closing (in `closing`: evicted or
  // shut down, pool->shutdown() called) → Closed (its shutdown finished; the reaper deletes it).
  struct Origin {
    enum class State : uint8_t { Open, Closing, Closed };
    Impl* owner = nullptr;
    std::string key;  // "https://host:port"
    std::unique_ptr<upstream::UpstreamPool> pool;
    size_t calls = 0;        // exchanges in flight on it; an Open origin with 0 is evictable
    uint64_t last_used = 0;  // `tick` when a call last started or ended on it (LRU)
    State state = State::Open;
  };

  explicit Impl(uv_loop_t* l);

  HttpCall* start(HttpCallRequest request, HttpCallDone done, void* arg, std::string* error);
  void cancel(HttpCall* call);
  void shutdown(void (*done)(void*), void* arg);

  Origin* origin_for(const PreparedHttpCall& prepared, std::string* error);
  void begin_close(std::unique_ptr<Origin> origin);
  void maybe_finish_shutdown();
  // A call's timer closed: the call is freed.
  void on_call_freed();

  static void on_pool_closed_cb(void* arg);
  static void on_reap_timer_cb(uv_timer_t* t);
  static void on_reap_closed_cb(uv_handle_t* h);

  uv_loop_t* loop;
  std::vector<std::unique_ptr<Origin>> origins;  // Open ones, at most kMaxOrigins
  std::vector<std::unique_ptr<Origin>> closing;  // Closing or Closed, until the reaper runs
  upstream::IntrusiveList<HttpCall> in_flight;   // started, neither delivered nor cancelled
  size_t calls_alive = 0;   // HttpCall objects not yet freed (in flight + timers closing)
  uint64_t tick = 0;        // counts starts and ends, for Origin::last_used
  uv_timer_t reap_timer{};  // 0 ms: deletes Closed origins outside their own callbacks
  bool shutting_down = false;
  bool reap_closing = false;  // the reaper's close began: the last step of shutdown
  void (*shutdown_done)(void*) = nullptr;
  void* shutdown_arg = nullptr;
};

// One call. Its state and the transitions allowed (set_state asserts them):
//   Exchanging → Receiving                  the response head arrived
//   Exchanging|Receiving → Delivering       the exchange ended (complete, failed, too large,
//                                           shutdown): the result is final, the timer re-armed
//                                           at 0 ms
//   Exchanging|Receiving|Delivering → Done  the timer fired (deadline: the exchange is aborted,
//                                           "timeout after Nms"; or delivery): done() runs,
//                                           then the timer closes
//   Exchanging|Receiving|Delivering → Cancelled  cancel(): exchange aborted, the timer closes
// Done and Cancelled are final: the object is freed in the timer's close callback.
class HttpCall final : public upstream::ResponseSink, public upstream::ListNode<HttpCall> {
 public:
  enum class State : uint8_t { Exchanging, Receiving, Delivering, Done, Cancelled };

  static const char* to_string(State s) {
    switch (s) {
      case State::Exchanging:
        return "exchanging";
      case State::Receiving:
        return "receiving";
      case State::Delivering:
        return "delivering";
      case State::Done:
        return "done";
      case State::Cancelled:
        return "cancelled";
    }
    return "?";
  }

  void set_state(State to) {
    const bool ok = [&] {
      switch (to) {
        case State::Exchanging:
          return false;
        case State::Receiving:
          return state == State::Exchanging;
        case State::Delivering:
        case State::Cancelled:
        case State::Done:
          return state == State::Exchanging || state == State::Receiving ||
                 (to != State::Delivering && state == State::Delivering);
      }
      return false;
    }();
    if (!ok) {
      log::error(std::string("HttpCall: transition ") + to_string(state) + " -> " + to_string(to) +
                 " not allowed");
      assert(false && "HttpCall: transition not allowed");
    }
    state = to;
  }

  bool exchanging() const { return state == State::Exchanging || state == State::Receiving; }

  // The exchange is over (ended by the pool, or aborted by us): the origin is free of it.
  void end_exchange() {
    exchange = nullptr;
    --origin->calls;
    origin->last_used = ++owner->tick;
    origin = nullptr;
  }
  void abort_exchange() {
    origin->pool->abort(exchange);
    end_exchange();
  }

  // Ends the call with `error` (status, headers and body dropped) on the next timer tick.
  void fail_soon(std::string error) {
    result.error = std::move(error);
    result.status = 0;
    result.headers.clear();
    result.body.clear();
    deliver_soon();
  }
  void deliver_soon() {
    set_state(State::Delivering);
    uv_timer_start(&timer, &on_timer_cb, 0, 0);
  }

  // Runs `done` and closes the timer (which frees the call).
  void deliver() {
    set_state(State::Done);
    owner->in_flight.remove(this);
    if (done != nullptr) done(arg, result);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), &on_timer_closed_cb);
  }

  void cancel() {
    if (!exchanging() && state != State::Delivering) return;  // Done or Cancelled already
    if (exchanging()) abort_exchange();
    set_state(State::Cancelled);
    owner->in_flight.remove(this);
    uv_timer_stop(&timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), &on_timer_closed_cb);
  }

  // ResponseSink: the pool's callbacks (never from inside its start()).
  void on_upstream_head(int status, std::span<const upstream::ResponseHeader> headers,
                        std::optional<uint64_t> content_length) override {
    set_state(State::Receiving);
    if (content_length && *content_length > max_response_bytes) {
      too_large();
      return;
    }
    result.status = status;
    result.headers.reserve(headers.size());
    for (const auto& h : headers) result.headers.emplace_back(h.name, h.value);
    if (content_length) result.body.reserve(static_cast<size_t>(*content_length));
  }

  void on_upstream_body(const char* data, size_t len) override {
    if (!exchanging()) return;  // too large already (aborted inside the same read)
    if (len > max_response_bytes - result.body.size()) {
      too_large();
      return;
    }
    result.body.append(data, len);
  }

  void on_upstream_done() override {
    end_exchange();
    deliver_soon();
  }

  void on_upstream_failure(const upstream::Failure& failure) override {
    end_exchange();
    fail_soon(describe(failure));
  }

  void too_large() {
    abort_exchange();
    fail_soon("response too large (> " + std::to_string(max_response_bytes) + " bytes)");
  }

  static std::string describe(const upstream::Failure& f) {
    std::string what;
    switch (f.kind) {
      case upstream::FailureKind::ConnectFailure:
        what = "connect failed";
        break;
      case upstream::FailureKind::Reset:
        what = "reset";
        break;
      case upstream::FailureKind::Timeout:
        what = "timeout";
        break;
      case upstream::FailureKind::Protocol:
        what = "bad response";
        break;
      case upstream::FailureKind::Overloaded:
        what = "overloaded";
        break;
    }
    if (f.detail != nullptr && *f.detail != '\0') {
      what += ": ";
      what += f.detail;
    }
    return what;
  }

  static void on_timer_cb(uv_timer_t* t) {
    auto* call = static_cast<HttpCall*>(t->data);
    if (call->exchanging()) {  // the deadline
      call->abort_exchange();
      call->result = HttpCallResult{};
      call->result.error = "timeout after " + std::to_string(call->timeout_ms) + "ms";
    }
    call->deliver();
  }

  static void on_timer_closed_cb(uv_handle_t* h) {
    auto* call = static_cast<HttpCall*>(h->data);
    HttpCaller::Impl* owner = call->owner;
    delete call;
    owner->on_call_freed();
  }

  HttpCaller::Impl* owner = nullptr;
  HttpCaller::Impl::Origin* origin = nullptr;  // while exchanging: whose pool carries it
  upstream::Exchange* exchange = nullptr;      // while exchanging
  uv_timer_t timer{};  // the deadline, then the delivery; the call is freed in its close_cb
  HttpCallDone done = nullptr;
  void* arg = nullptr;
  std::string head;  // request line + headers; the pool reads it until the exchange ends
  std::string body;  // the request body, likewise
  uint64_t timeout_ms = 0;
  size_t max_response_bytes = 0;
  HttpCallResult result;  // filled while receiving; final once Delivering
  State state = State::Exchanging;
};

// ---- HttpCaller::Impl ----------------------------------------------------------------------

HttpCaller::Impl::Impl(uv_loop_t* l) : loop(l) {
  uv_timer_init(loop, &reap_timer);
  reap_timer.data = this;
}

HttpCall* HttpCaller::Impl::start(HttpCallRequest request, HttpCallDone done, void* arg,
                                  std::string* error) {
  if (shutting_down) {
    if (error != nullptr) *error = "worker shutting down";
    return nullptr;
  }
  if (in_flight.size() >= kMaxCallsInFlight) {
    if (error != nullptr) {
      *error = "too many calls in flight (at most " + std::to_string(kMaxCallsInFlight) + ")";
    }
    return nullptr;
  }
  PreparedHttpCall prepared;
  if (!prepare_http_call(request, &prepared, error)) return nullptr;
  Origin* origin = origin_for(prepared, error);
  if (origin == nullptr) return nullptr;

  auto* call = new HttpCall();
  call->owner = this;
  call->origin = origin;
  call->done = done;
  call->arg = arg;
  call->head = std::move(prepared.head);
  call->body = std::move(request.body);
  call->timeout_ms = static_cast<uint64_t>(request.timeout.count());
  call->max_response_bytes = request.max_response_bytes;
  uv_timer_init(loop, &call->timer);
  call->timer.data = call;
  in_flight.push_back(call);
  ++calls_alive;
  ++origin->calls;
  origin->last_used = ++tick;

  uv_buf_t bufs[2] = {uv_buf_init(call->head.data(), static_cast<unsigned>(call->head.size())),
                      uv_buf_init(call->body.data(), static_cast<unsigned>(call->body.size()))};
  const size_t n = call->body.empty() ? 1 : 2;
  uv_timer_start(&call->timer, &HttpCall::on_timer_cb, call->timeout_ms, 0);
  call->exchange = origin->pool->start(std::span<const uv_buf_t>(bufs, n), call);
  return call;
}

HttpCaller::Impl::Origin* HttpCaller::Impl::origin_for(const PreparedHttpCall& prepared,
                                                       std::string* error) {
  for (const auto& o : origins) {
    if (o->key == prepared.origin_key) return o.get();
  }
  if (origins.size() >= kMaxOrigins) {
    // Make room: the least recently used origin without calls in flight.
    auto victim = origins.end();
    for (auto it = origins.begin(); it != origins.end(); ++it) {
      if ((*it)->calls == 0 && (victim == origins.end() || (*it)->last_used < (*victim)->last_used))
        victim = it;
    }
    if (victim == origins.end()) {
      if (error != nullptr) {
        *error =
            "too many origins with calls in flight (at most " + std::to_string(kMaxOrigins) + ")";
      }
      return nullptr;
    }
    std::unique_ptr<Origin> evicted = std::move(*victim);
    origins.erase(victim);
    begin_close(std::move(evicted));
  }
  // The pool's settings: its per-phase timeouts are only a ceiling (each call's own timer is
  // its deadline); the idle limit governs keep-alive reuse.
  config::Provider provider;
  provider.name = prepared.origin_key;
  provider.type = "http_call";
  provider.base_url = prepared.origin_key;
  provider.url = prepared.origin;
  provider.timeouts.connect = config::Duration{kMaxTimeout.count()};
  provider.timeouts.first_byte = config::Duration{kMaxTimeout.count()};
  provider.timeouts.idle = config::Duration{kIdleTimeout.count()};
  provider.timeouts.total = config::Duration{kMaxTimeout.count()};
  provider.max_connections = kMaxConnectionsPerOrigin;
  auto origin = std::make_unique<Origin>();
  origin->owner = this;
  origin->key = prepared.origin_key;
  origin->pool = std::make_unique<upstream::UpstreamPool>(loop, provider);
  origins.push_back(std::move(origin));
  return origins.back().get();
}

void HttpCaller::Impl::begin_close(std::unique_ptr<Origin> origin) {
  origin->state = Origin::State::Closing;
  Origin* o = origin.get();
  closing.push_back(std::move(origin));
  o->pool->shutdown(&on_pool_closed_cb, o);
}

void HttpCaller::Impl::on_pool_closed_cb(void* arg) {
  auto* o = static_cast<Origin*>(arg);
  o->state = Origin::State::Closed;
  Impl* self = o->owner;
  if (self->shutting_down) {
    self->maybe_finish_shutdown();
  } else {
    uv_timer_start(&self->reap_timer, &on_reap_timer_cb, 0, 0);
  }
}

void HttpCaller::Impl::on_reap_timer_cb(uv_timer_t* t) {
  auto* self = static_cast<Impl*>(t->data);
  std::erase_if(self->closing,
                [](const std::unique_ptr<Origin>& o) { return o->state == Origin::State::Closed; });
}

void HttpCaller::Impl::cancel(HttpCall* call) {
  call->cancel();
}

void HttpCaller::Impl::shutdown(void (*done)(void*), void* arg) {
  assert(!shutting_down && "HttpCaller::shutdown called twice");
  shutting_down = true;
  shutdown_done = done;
  shutdown_arg = arg;
  for (HttpCall* call = in_flight.front(); call != nullptr; call = in_flight.next_of(call)) {
    if (call->exchanging()) {
      call->abort_exchange();
      call->fail_soon("worker shutting down");
    }
  }
  std::vector<std::unique_ptr<Origin>> open;
  open.swap(origins);
  for (auto& o : open) begin_close(std::move(o));
  maybe_finish_shutdown();
}

void HttpCaller::Impl::on_call_freed() {
  --calls_alive;
  maybe_finish_shutdown();
}

void HttpCaller::Impl::maybe_finish_shutdown() {
  if (!shutting_down || reap_closing || calls_alive > 0) return;
  for (const auto& o : closing) {
    if (o->state != Origin::State::Closed) return;
  }
  reap_closing = true;
  uv_timer_stop(&reap_timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&reap_timer), &on_reap_closed_cb);
}

void HttpCaller::Impl::on_reap_closed_cb(uv_handle_t* h) {
  auto* self = static_cast<Impl*>(h->data);
  self->closing.clear();  // every pool's shutdown finished; not inside any of their callbacks
  if (self->shutdown_done != nullptr) self->shutdown_done(self->shutdown_arg);
}

// ---- public face --------------------------------------------------------------------------

HttpCaller::HttpCaller(uv_loop_t* loop) : impl_(std::make_unique<Impl>(loop)) {}

HttpCaller::~HttpCaller() {
  assert((impl_->reap_closing && impl_->closing.empty()) && "HttpCaller destroyed before shutdown");
}

HttpCall* HttpCaller::start(HttpCallRequest request, HttpCallDone done, void* arg,
                            std::string* error) {
  return impl_->start(std::move(request), done, arg, error);
}

void HttpCaller::cancel(HttpCall* call) {
  if (call != nullptr) impl_->cancel(call);
}

void HttpCaller::shutdown(void (*done)(void* arg), void* arg) {
  impl_->shutdown(done, arg);
}

size_t HttpCaller::calls_in_flight() const {
  return impl_->in_flight.size();
}

size_t HttpCaller::origins() const {
  return impl_->origins.size();
}

}  // namespace sluice::plugin
