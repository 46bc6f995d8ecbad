// RedisClient::Impl, the bytes: commands written through the Transport (one write in flight,
// the rest accumulating), replies parsed and matched in order with the commands in flight,
// and the NOSCRIPT answer (SCRIPT LOAD, then the EVALSHA once more).
#include "core/redis/client_impl.h"

namespace sluice::redis {

// ---- writing ------------------------------------------------------------------------------

void RedisClient::Impl::flush() {
  if ((flags_ & (kWriteInFlight | kTcpClosing)) || !transport_ || failure_kind_) return;
  if (!out_.empty() && transport_->handshake_complete()) {
    writing_.swap(out_);  // out_ gets the old, empty buffer (and keeps its capacity)
    send_buf_ = uv_buf_init(writing_.data(), static_cast<unsigned>(writing_.size()));
    if (transport_->send({&send_buf_, 1}) == upstream::Transport::Status::Failed) {
      fail_soon("protocol", std::string("TLS: ") + transport_->error_detail());
      return;
    }
  }
  std::span<const uv_buf_t> bufs = transport_->take_output();
  if (bufs.empty()) {
    writing_.clear();
    return;
  }
  write_req_.data = this;
  int r = uv_write(&write_req_, stream(), bufs.data(), static_cast<unsigned>(bufs.size()),
                   &on_write_cb);
  if (r < 0) {
    transport_->output_written();
    writing_.clear();
    fail_soon("connect", "writing to Redis failed: " + uv_error_text(r));
    return;
  }
  flags_ |= kWriteInFlight;
}

void RedisClient::Impl::on_write_cb(uv_write_t* req, int status) {
  auto* c = static_cast<Impl*>(req->data);
  c->flags_ &= ~kWriteInFlight;
  c->transport_->output_written();
  c->writing_.clear();
  if (c->flags_ & kTcpClosing) return;  // UV_ECANCELED from uv_close
  if (status < 0) {
    c->drop("connect", "writing to Redis failed: " + uv_error_text(status));
    return;
  }
  c->flush();  // what accumulated during the write
}

// flush() may run inside command(), where no callback may be called: a failure it finds
// drops the connection on the next loop turn, and nothing more is written meanwhile.
void RedisClient::Impl::fail_soon(const char* kind, std::string detail) {
  failure_kind_ = kind;
  failure_detail_ = std::move(detail);
  failure_gen_ = gen_;
  uv_idle_start(&idle_, &on_idle_cb);
}

// ---- reading ------------------------------------------------------------------------------

void RedisClient::Impl::on_alloc_cb(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<Impl*>(h->data);
  *buf = uv_buf_init(c->buffers_.take(), upstream::ReadBufferPool::kBufferSize);
}

void RedisClient::Impl::on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Impl*>(s->data);
  if (nread > 0) c->on_bytes(buf->base, static_cast<size_t>(nread));
  if (buf->base) c->buffers_.give(buf->base);
  if (nread < 0 && !(c->flags_ & kTcpClosing)) {
    const char* what = c->state_ == State::Connecting
                           ? "Redis closed the connection during set-up: "
                           : "Redis closed the connection: ";
    c->drop("connect", what + uv_error_text(static_cast<int>(nread)));
  }
}

void RedisClient::Impl::on_bytes(const char* data, size_t len) {
  if (flags_ & kTcpClosing) return;
  uint64_t gen = gen_;
  upstream::Transport::Status st = transport_->receive(data, len, &on_plaintext_cb, this);
  if (gen != gen_) return;  // a reply's callback dropped or closed the connection
  if (st == upstream::Transport::Status::Failed) {
    bool handshake = step_ == Step::Handshaking;
    drop(handshake ? "connect" : "protocol",
         std::string(handshake ? "TLS handshake with " : "TLS with ") + where() + ": " +
             transport_->error_detail());
    return;
  }
  if (st == upstream::Transport::Status::Closed) {
    drop("connect", "Redis ended the TLS session");
    return;
  }
  flush();  // handshake messages, alerts, key updates
  if (step_ == Step::Handshaking && transport_->handshake_complete()) on_transport_ready();
}

void RedisClient::Impl::on_plaintext_cb(void* arg, const char* data, size_t len) {
  static_cast<Impl*>(arg)->on_plaintext(data, len);
}

void RedisClient::Impl::on_plaintext(const char* data, size_t len) {
  if (flags_ & kTcpClosing) return;  // bytes decrypted after a reply dropped the connection
  uint64_t gen = gen_;
  if (!reader_->feed(data, len)) {
    drop("protocol", "invalid reply from Redis: " + reader_->error());
    return;
  }
  RedisReply reply;
  while (gen == gen_) {
    switch (reader_->next(&reply)) {
      case ReplyReader::Result::NeedMore:
        return;
      case ReplyReader::Result::Error:
        drop("protocol", "invalid reply from Redis: " + reader_->error());
        return;
      case ReplyReader::Result::Reply:
        on_reply(std::move(reply));
        reply = RedisReply{};
        break;
    }
  }
}

void RedisClient::Impl::on_reply(RedisReply&& reply) {
  if (inflight_.empty()) {
    drop("protocol", "Redis sent a reply to no command");
    return;
  }
  PendingCommand p = std::move(inflight_.front());
  inflight_.pop_front();
  bool timed_out = timed_out_ > 0;
  if (timed_out) --timed_out_;
  switch (p.kind) {
    case PendingCommand::Kind::Setup:
      on_setup_reply(p, reply);
      return;
    case PendingCommand::Kind::ScriptLoad:
      p.script->loading = false;
      // The EVALSHA behind it fails NOSCRIPT again and, retried already, reaches its caller.
      if (reply.type == RedisReply::Type::Error) report("reply");
      return;
    case PendingCommand::Kind::User:
      break;
  }
  bool error = reply.type == RedisReply::Type::Error;
  if (error && p.script && !p.retried && !timed_out && reply.str.starts_with("NOSCRIPT")) {
    reload_and_retry(std::move(p));
    return;
  }
  if (timed_out) return;  // its caller has had Timeout: the reply only kept the order
  Callback cb = std::move(p.cb);
  if (error) report("reply");
  RedisResult r;
  r.status = Status::Ok;
  r.reply = std::move(reply);
  cb(std::move(r));
}

// Redis lost the script (restart, SCRIPT FLUSH, failover): SCRIPT LOAD it, then the same
// EVALSHA once more. Both go behind whatever is in flight; the caller hears only the final
// answer. The EVALSHA gets a fresh deadline (at most one more `timeout` for the caller, on a
// rare event) so that deadlines stay in queue order.
void RedisClient::Impl::reload_and_retry(PendingCommand&& p) {
  ScriptSource* script = p.script;
  bool load = !script->loading;
  if (load) {
    std::string_view argv[] = {"SCRIPT", "LOAD", script->source};
    append_command(argv, &out_);
    PendingCommand loader;
    loader.kind = PendingCommand::Kind::ScriptLoad;
    loader.script = script;
    script->loading = true;
    push(std::move(loader));
  }
  out_ += p.evalsha;
  p.retried = true;
  push(std::move(p));
  if (load) report("noscript");
}

}  // namespace sluice::redis
