// RedisClient::Impl, time: one timer for the connect deadline, then for the oldest unanswered
// command's (Timeout at once), and hung_after past it (the connection is dropped).
#include <algorithm>

#include "core/redis/client_impl.h"

namespace sluice::redis {

// ---- deadlines ----------------------------------------------------------------------------

uint64_t RedisClient::Impl::next_deadline() const {
  if (state_ == State::Connecting) return step_ == Step::None ? UINT64_MAX : connect_deadline_ms_;
  if (state_ != State::Ready || inflight_.empty()) return UINT64_MAX;
  uint64_t d = UINT64_MAX;
  if (timed_out_ < inflight_.size()) d = inflight_[timed_out_].deadline_ms;
  if (timed_out_ > 0) {
    d = std::min(d, inflight_.front().deadline_ms + static_cast<uint64_t>(opt_.hung_after.count()));
  }
  return d;
}

// A running timer due no later than the new deadline stays (it re-arms itself when it fires
// early): a command costs no timer operation unless it is the only one in flight.
void RedisClient::Impl::arm_timer() {
  if (!(flags_ & kDeadlineOpen) || state_ == State::Closed) return;
  uint64_t at = next_deadline();
  if (at == UINT64_MAX) return;  // a running timer finds nothing due and stops by itself
  uint64_t t = now();
  uint64_t due_in = at > t ? at - t : 0;
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&deadline_timer_)) &&
      uv_timer_get_due_in(&deadline_timer_) <= due_in) {
    return;
  }
  uv_timer_start(&deadline_timer_, &on_deadline_cb, due_in, 0);
}

void RedisClient::Impl::on_deadline_cb(uv_timer_t* t) {
  static_cast<Impl*>(t->data)->on_deadline();
}

void RedisClient::Impl::on_deadline() {
  uint64_t t = now();
  if (state_ == State::Connecting) {
    if (step_ == Step::None) return;
    if (t < connect_deadline_ms_) {
      arm_timer();
      return;
    }
    std::string limit = std::to_string(opt_.hung_after.count()) + "ms";
    switch (step_) {
      case Step::Resolving:
        drop("connect", "DNS lookup of " + opt_.url.host + " timed out after " + limit);
        break;
      case Step::TcpConnecting:
        drop("connect", "connecting to " + where() + " timed out after " + limit);
        break;
      case Step::Handshaking:
        drop("connect", "TLS handshake with " + where() + " timed out after " + limit);
        break;
      default:
        drop("timeout", std::string("no answer to ") +
                            (inflight_.empty() ? "set-up" : inflight_.front().setup) + " within " +
                            limit);
        break;
    }
    return;
  }
  if (state_ != State::Ready) return;
  uint64_t gen = gen_;
  while (timed_out_ < inflight_.size() && inflight_[timed_out_].deadline_ms <= t) {
    PendingCommand& p = inflight_[timed_out_++];
    if (!p.cb) continue;  // a SCRIPT LOAD: nobody waits for it
    Callback cb = std::move(p.cb);
    p.cb = nullptr;
    report("timeout");
    cb(result_of(Status::Timeout));
    if (gen != gen_) return;
  }
  if (timed_out_ > 0 &&
      inflight_.front().deadline_ms + static_cast<uint64_t>(opt_.hung_after.count()) <= t) {
    drop("timeout", "no answer from Redis for " +
                        std::to_string((opt_.timeout + opt_.hung_after).count()) +
                        "ms: taken for hung");
    return;
  }
  arm_timer();
}

}  // namespace sluice::redis
