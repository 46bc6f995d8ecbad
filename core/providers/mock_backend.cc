#include "core/providers/mock_backend.h"

namespace sluice::providers {

// One mock attempt. Its timer is initialised once and lives until the backend shuts down;
// attempts are recycled through free_, so steady state allocates only the script's strings.
struct MockBackend::Attempt {
  // Delivering — the script is playing; Free — in free_, owns nothing.
  enum class State : uint8_t { Free, WaitingFirstByte, Streaming };
  uv_timer_t timer;
  MockBackend* backend = nullptr;
  upstream::ResponseSink* sink = nullptr;
  MockScript script;
  size_t next_piece = 0;
  State state = State::Free;
  bool paused = false;
  bool scheduled = false;
};

MockBackend::MockBackend(uv_loop_t* loop, const config::Provider& provider)
    : loop_(loop), settings_(provider.mock) {}

MockBackend::~MockBackend() = default;

AttemptHandle* MockBackend::start(const AttemptRequest& request, upstream::ResponseSink* sink) {
  Attempt* a;
  if (free_.empty()) {
    attempts_.push_back(std::make_unique<Attempt>());
    a = attempts_.back().get();
    a->backend = this;
    uv_timer_init(loop_, &a->timer);
    a->timer.data = a;
    ++open_handles_;
  } else {
    a = free_.back();
    free_.pop_back();
  }
  a->sink = sink;
  a->next_piece = 0;
  a->paused = false;
  a->state = Attempt::State::WaitingFirstByte;
  build_mock_script(settings_, request, ++sequence_, a->script);
  // Always through the loop, never synchronously from start() (the backend contract).
  schedule(a, static_cast<uint64_t>(settings_.latency.count()));
  return reinterpret_cast<AttemptHandle*>(a);
}

void MockBackend::schedule(Attempt* a, uint64_t delay_ms) {
  a->scheduled = true;
  uv_timer_start(&a->timer, &MockBackend::on_timer, delay_ms, 0);
}

void MockBackend::on_timer(uv_timer_t* timer) {
  auto* a = static_cast<Attempt*>(timer->data);
  a->scheduled = false;
  a->backend->step(a);
}

void MockBackend::step(Attempt* a) {
  if (a->state == Attempt::State::WaitingFirstByte) {
    static const std::string_view kJson = "application/json";
    static const std::string_view kSse = "text/event-stream";
    upstream::ResponseHeader headers[2] = {
        {"content-type", a->script.streamed ? kSse : kJson},
        {"x-mock-provider", "sluice"},
    };
    std::optional<uint64_t> length;
    if (!a->script.streamed) {
      uint64_t n = 0;
      for (const auto& p : a->script.pieces) n += p.size();
      length = n;
    }
    a->state = Attempt::State::Streaming;
    a->sink->on_upstream_head(a->script.status, headers, length);
    if (a->state != Attempt::State::Streaming) return;  // aborted from the callback
  }
  const bool paced = a->script.streamed && settings_.chunk_delay.count() > 0;
  while (a->state == Attempt::State::Streaming && !a->paused &&
         a->next_piece < a->script.pieces.size()) {
    const std::string& piece = a->script.pieces[a->next_piece++];
    a->sink->on_upstream_body(piece.data(), piece.size());
    if (paced && a->next_piece < a->script.pieces.size()) {
      if (a->state == Attempt::State::Streaming) {
        schedule(a, static_cast<uint64_t>(settings_.chunk_delay.count()));
      }
      return;
    }
  }
  if (a->state == Attempt::State::Streaming && !a->paused &&
      a->next_piece >= a->script.pieces.size()) {
    finish(a);
  }
}

void MockBackend::finish(Attempt* a) {
  upstream::ResponseSink* sink = a->sink;
  a->state = Attempt::State::Free;
  a->sink = nullptr;
  free_.push_back(a);
  sink->on_upstream_done();
}

void MockBackend::abort(AttemptHandle* handle) {
  auto* a = reinterpret_cast<Attempt*>(handle);
  if (a->state == Attempt::State::Free) return;
  uv_timer_stop(&a->timer);
  a->scheduled = false;
  a->state = Attempt::State::Free;
  a->sink = nullptr;
  free_.push_back(a);
}

void MockBackend::pause(AttemptHandle* handle) {
  reinterpret_cast<Attempt*>(handle)->paused = true;
}

void MockBackend::resume(AttemptHandle* handle) {
  auto* a = reinterpret_cast<Attempt*>(handle);
  if (!a->paused) return;
  a->paused = false;
  if (a->state == Attempt::State::Streaming && !a->scheduled) schedule(a, 0);
}

void MockBackend::on_closed(uv_handle_t* handle) {
  auto* a = static_cast<Attempt*>(handle->data);
  MockBackend* self = a->backend;
  if (--self->open_handles_ == 0 && self->shutdown_done_ != nullptr) {
    self->shutdown_done_(self->shutdown_arg_);
  }
}

void MockBackend::shutdown(void (*done)(void* arg), void* arg) {
  shutdown_done_ = done;
  shutdown_arg_ = arg;
  if (open_handles_ == 0) {
    done(arg);
    return;
  }
  for (auto& a : attempts_) {
    uv_timer_stop(&a->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&a->timer), &MockBackend::on_closed);
  }
}

}  // namespace sluice::providers
