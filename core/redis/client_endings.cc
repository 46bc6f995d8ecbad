// RedisClient::Impl, endings: drop() (→ Down, reconnect after a backoff), close() (→ Closed)
// and the close callbacks that free nothing but tell when `done` may run.
#include <algorithm>

#include "core/redis/client_impl.h"

namespace sluice::redis {

// ---- endings ------------------------------------------------------------------------------

// The connection is lost or refused (→ Down): the socket closes, a reconnect is scheduled,
// and every unanswered command fails with Down.
void RedisClient::Impl::drop(const char* kind, std::string detail) {
  if (state_ != State::Connecting && state_ != State::Ready) return;
  ++gen_;
  if (step_ == Step::Resolving) dns_.cancel(this);
  step_ = Step::None;
  last_error_ = std::move(detail);
  failure_kind_ = nullptr;
  close_tcp();
  out_.clear();
  std::deque<PendingCommand> unanswered;
  unanswered.swap(inflight_);
  timed_out_ = 0;
  for (auto& [sha, script] : scripts_) script.loading = false;
  uv_timer_stop(&deadline_timer_);
  uv_timer_start(&backoff_timer_, &on_backoff_cb, static_cast<uint64_t>(backoff_.count()), 0);
  backoff_ = std::min(backoff_ * 2, opt_.backoff_max);

  // Calls out, last: each may close the client (then the rest fail with Closed).
  set_state(State::Down);
  report(kind);
  for (PendingCommand& p : unanswered) {
    if (!p.cb) continue;
    Callback cb = std::move(p.cb);
    p.cb = nullptr;
    cb(result_of(state_ == State::Closed ? Status::Closed : Status::Down));
  }
}

void RedisClient::Impl::close_tcp() {
  if (!(flags_ & kTcpOpen) || (flags_ & kTcpClosing)) return;
  flags_ |= kTcpClosing;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &on_tcp_closed_cb);
}

void RedisClient::Impl::close(std::function<void()> done) {
  if (state_ == State::Closed) {  // closing already: both callbacks run, the first first
    if (done) {
      done_ = [first = std::move(done_), then = std::move(done)] {
        if (first) first();
        then();
      };
    }
    return;
  }
  ++gen_;
  done_ = std::move(done);
  if (step_ == Step::Resolving) dns_.cancel(this);
  step_ = Step::None;
  failure_kind_ = nullptr;
  for (PendingCommand& p : inflight_) {
    if (p.cb) deferred_.push_back({std::move(p.cb), Status::Closed});
  }
  inflight_.clear();
  timed_out_ = 0;
  out_.clear();
  close_tcp();
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline_timer_), &on_timer_closed_cb);
  uv_close(reinterpret_cast<uv_handle_t*>(&backoff_timer_), &on_timer_closed_cb);
  flags_ |= kDnsBusy;
  dns_.shutdown(&on_dns_idle, this);
  if (!deferred_.empty()) uv_idle_start(&idle_, &on_idle_cb);
  set_state(State::Closed);
  maybe_finish_close();
}

void RedisClient::Impl::on_dns_idle(void* arg) {
  auto* c = static_cast<Impl*>(arg);
  c->flags_ &= ~kDnsBusy;
  c->maybe_finish_close();
}

// The idle handle closes last, once every other handle has and nothing waits in deferred_.
void RedisClient::Impl::maybe_finish_close() {
  if (state_ != State::Closed || (flags_ & kIdleClosing) || !deferred_.empty()) return;
  if (flags_ & (kTcpOpen | kDeadlineOpen | kBackoffOpen | kDnsBusy)) return;
  flags_ |= kIdleClosing;
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), &on_idle_closed_cb);
}

void RedisClient::Impl::on_idle_cb(uv_idle_t* h) {
  auto* c = static_cast<Impl*>(h->data);
  if (c->failure_kind_) {
    const char* kind = c->failure_kind_;
    c->failure_kind_ = nullptr;
    if (c->failure_gen_ == c->gen_) c->drop(kind, std::move(c->failure_detail_));
  }
  // Callbacks may queue more: those wait for the next turn (no loop inside one turn).
  std::vector<Deferred> batch;
  batch.swap(c->deferred_);
  for (Deferred& d : batch) d.cb(result_of(d.status));
  if (c->deferred_.empty() && !c->failure_kind_) {
    uv_idle_stop(&c->idle_);
    c->maybe_finish_close();
  }
}

void RedisClient::Impl::on_tcp_closed_cb(uv_handle_t* h) {
  auto* c = static_cast<Impl*>(h->data);
  c->flags_ &= ~(kTcpOpen | kTcpClosing);
  c->transport_.reset();  // only now: a cancelled write's callback still used it
  c->writing_.clear();
  if (c->flags_ & kNextAddress) {
    c->flags_ &= ~kNextAddress;
    if (c->state_ == State::Connecting && c->step_ == Step::TcpConnecting) c->connect_next();
  }
  if (c->flags_ & kConnectWhenClosed) {
    c->flags_ &= ~kConnectWhenClosed;
    if (c->state_ == State::Down) c->start_connect();
  }
  c->maybe_finish_close();
}

void RedisClient::Impl::on_timer_closed_cb(uv_handle_t* h) {
  auto* c = static_cast<Impl*>(h->data);
  c->flags_ &=
      h == reinterpret_cast<uv_handle_t*>(&c->deadline_timer_) ? ~kDeadlineOpen : ~kBackoffOpen;
  c->maybe_finish_close();
}

void RedisClient::Impl::on_idle_closed_cb(uv_handle_t* h) {
  auto* c = static_cast<Impl*>(h->data);
  c->flags_ &= ~(kIdleOpen | kIdleClosing);
  // Commands refused between uv_close and now (from other handles' callbacks) are answered
  // here: after `done` the client may be gone.
  while (!c->deferred_.empty()) {
    std::vector<Deferred> batch;
    batch.swap(c->deferred_);
    for (Deferred& d : batch) d.cb(result_of(d.status));
  }
  std::function<void()> done = std::move(c->done_);
  if (done) done();  // may delete the client: nothing after this
}

}  // namespace sluice::redis
