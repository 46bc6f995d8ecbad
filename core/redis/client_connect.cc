// RedisClient::Impl, connecting: DNS (DnsCache), TCP address after address, the Transport
// (TLS handshake for rediss://), then AUTH and SELECT pipelined until Ready.
#include "core/redis/client_impl.h"

namespace sluice::redis {

// ---- connecting: DNS, TCP (address after address), TLS, AUTH/SELECT ------------------------

void RedisClient::Impl::on_backoff_cb(uv_timer_t* t) {
  auto* c = static_cast<Impl*>(t->data);
  if (c->state_ != State::Down && c->state_ != State::Connecting) return;
  if (c->flags_ & kTcpOpen) {  // the last connection's handle is still closing
    c->flags_ |= kConnectWhenClosed;
    return;
  }
  c->start_connect();
}

void RedisClient::Impl::start_connect() {
  if (state_ == State::Down) {
    set_state(State::Connecting);
    if (state_ != State::Connecting) return;  // the observer closed the client
  }
  step_ = Step::Resolving;
  connect_deadline_ms_ = now() + static_cast<uint64_t>(opt_.hung_after.count());
  arm_timer();
  std::span<const sockaddr_storage> cached = dns_.cached();
  if (!cached.empty()) {
    on_resolved(0, cached);
    return;
  }
  int r = dns_.wait(this);
  if (r < 0) on_resolved(r, {});
}

void RedisClient::Impl::on_resolved(int status, std::span<const sockaddr_storage> addrs) {
  if (state_ != State::Connecting || step_ != Step::Resolving) return;
  if (status < 0) {
    drop("connect", "DNS lookup of " + opt_.url.host + " failed: " + uv_error_text(status));
    return;
  }
  addrs_.assign(addrs.begin(), addrs.end());
  addr_index_ = 0;
  step_ = Step::TcpConnecting;
  connect_next();
}

void RedisClient::Impl::connect_next() {
  if (addr_index_ >= addrs_.size()) {
    drop("connect", "connect to " + where() + " failed: " + uv_error_text(last_connect_error_));
    return;
  }
  if (flags_ & kTcpOpen) {
    // A handle whose connect failed may hold a socket of the other address family: the next
    // address gets a fresh one, from the close callback of this one.
    flags_ |= kNextAddress;
    close_tcp();
    return;
  }
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  flags_ |= kTcpOpen;
  connect_req_.data = this;
  int r = uv_tcp_connect(&connect_req_, &tcp_,
                         reinterpret_cast<const sockaddr*>(&addrs_[addr_index_]), &on_connect_cb);
  if (r < 0) {
    last_connect_error_ = r;
    ++addr_index_;
    connect_next();
  }
}

void RedisClient::Impl::on_connect_cb(uv_connect_t* req, int status) {
  auto* c = static_cast<Impl*>(req->data);
  // Given up meanwhile (timeout, close()): status is UV_ECANCELED and tcp_ is closing.
  if (c->state_ != State::Connecting || c->step_ != Step::TcpConnecting) return;
  if (status < 0) {
    c->last_connect_error_ = status;
    ++c->addr_index_;
    c->connect_next();
    return;
  }
  c->on_connected();
}

void RedisClient::Impl::on_connected() {
  uv_tcp_nodelay(&tcp_, 1);
  uv_tcp_keepalive(&tcp_, 1, 60);  // notice a dead Redis behind a NAT while idle
  reader_ = std::make_unique<ReplyReader>();
  if (opt_.url.tls) {
    if (!ssl_ctx_) {
      drop("connect", "TLS is not available: " + tls_error_);
      return;
    }
    transport_ = upstream::make_tls_transport(ssl_ctx_, opt_.url.host, dns_.is_ip_literal(),
                                              /*verify=*/true, &buffers_);
  } else {
    transport_ = upstream::make_tcp_transport();
  }
  step_ = Step::Handshaking;
  if (transport_->start() == upstream::Transport::Status::Failed) {
    drop("connect", std::string("TLS with ") + where() + ": " + transport_->error_detail());
    return;
  }
  uv_read_start(stream(), &on_alloc_cb, &on_read_cb);
  flush();  // the ClientHello
  if (transport_->handshake_complete()) on_transport_ready();
}

void RedisClient::Impl::on_transport_ready() {
  step_ = Step::SettingUp;
  const RedisUrl& u = opt_.url;
  if (!u.password.empty()) {
    std::vector<std::string_view> argv{"AUTH"};
    if (!u.username.empty()) argv.push_back(u.username);
    argv.push_back(u.password);
    PendingCommand p;
    p.kind = PendingCommand::Kind::Setup;
    p.setup = "AUTH";
    p.deadline_ms = connect_deadline_ms_;
    append_command(argv, &out_);
    inflight_.push_back(std::move(p));
  }
  if (u.db != 0) {
    std::string db = std::to_string(u.db);
    std::string_view argv[] = {"SELECT", db};
    PendingCommand p;
    p.kind = PendingCommand::Kind::Setup;
    p.setup = "SELECT";
    p.deadline_ms = connect_deadline_ms_;
    append_command(argv, &out_);
    inflight_.push_back(std::move(p));
  }
  if (inflight_.empty()) {
    become_ready();
    return;
  }
  flush();  // pipelined: both go out in one write
}

void RedisClient::Impl::on_setup_reply(const PendingCommand& p, const RedisReply& reply) {
  if (reply.type == RedisReply::Type::Error) {
    bool auth = std::string_view(p.setup) == "AUTH";
    std::string what = auth ? "AUTH" : "SELECT " + std::to_string(opt_.url.db);
    drop(auth ? "auth" : "connect", what + " refused: " + reply.str);
    return;
  }
  if (inflight_.empty()) become_ready();  // that was the last set-up reply
}

void RedisClient::Impl::become_ready() {
  step_ = Step::None;
  last_error_.clear();
  backoff_ = opt_.backoff_min;
  set_state(State::Ready);
}

}  // namespace sluice::redis
