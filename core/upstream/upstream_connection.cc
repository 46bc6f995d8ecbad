#include "core/upstream/upstream_connection.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/upstream/exchange.h"
#include "core/upstream/idle_probe.h"

namespace sluice::upstream {
namespace {

std::string uv_error_text(int err) {
  char name[32];
  char text[128];
  uv_err_name_r(err, name, sizeof name);
  uv_strerror_r(err, text, sizeof text);
  return std::string(text) + " (" + name + ")";
}

}  // namespace

UpstreamConnection::UpstreamConnection(const ConnectionSettings* settings, ConnectionOwner* owner)
    : s_(settings), owner_(owner), parser_(this) {}

UpstreamConnection::~UpstreamConnection() {
  if (state_ != ConnState::Closed) {
    std::fprintf(stderr, "sluice: UpstreamConnection destroyed in state %s\n", to_string(state_));
    std::abort();
  }
}

// A transition outside the table is a bug in this file: stop loudly, in every build type, as
// HAProxy's BUG_ON does, rather than carry on with a connection in an impossible state.
void UpstreamConnection::set_state(ConnState to) {
  if (!transition_allowed(state_, to)) {
    std::fprintf(stderr, "sluice: upstream connection: illegal transition %s -> %s\n",
                 to_string(state_), to_string(to));
    std::abort();
  }
  state_ = to;
}

void UpstreamConnection::attach(Exchange* ex) {
  exchange_ = ex;
  if (ex) {
    ex->conn = this;
    ex->where = Exchange::Where::Attached;
  }
}

Exchange* UpstreamConnection::detach() {
  Exchange* ex = exchange_;
  exchange_ = nullptr;
  if (ex) ex->conn = nullptr;
  return ex;
}

// ---- set-up: DNS, TCP connect (address after address), TLS handshake ----------------------

void UpstreamConnection::open(Exchange* ex) {
  attach(ex);
  uv_timer_init(s_->loop, &timer_);
  timer_.data = this;
  flags_ |= kTimerOpen;
  connect_deadline_ms_ = now() + s_->connect_ms;
  arm_timer();

  std::span<const sockaddr_storage> cached = s_->dns->cached();
  if (!cached.empty()) {
    on_resolved(0, cached);
    return;
  }
  int r = s_->dns->wait(this);
  if (r < 0) on_resolved(r, {});
}

void UpstreamConnection::on_resolved(int status, std::span<const sockaddr_storage> addrs) {
  if (state_ != ConnState::Resolving) return;
  if (status < 0) {
    detail_ = "DNS lookup of " +
              (s_->connect_request.empty() ? s_->host : s_->proxy_label + "'s host") +
              " failed: " + uv_error_text(status);
    fail_connect();
    return;
  }
  addrs_.assign(addrs.begin(), addrs.end());
  addr_index_ = 0;
  set_state(ConnState::Connecting);
  connect_next();
}

void UpstreamConnection::connect_next() {
  if (addr_index_ >= addrs_.size()) {
    detail_ = "connect to " + std::string(s_->connect_request.empty() ? "" : "proxy ") +
              describe_address(addrs_.empty() ? 0 : addrs_.size() - 1) +
              " failed: " + uv_error_text(last_connect_error_);
    fail_connect();
    return;
  }
  if (!(flags_ & kTcpOpen)) {
    int r = uv_tcp_init(s_->loop, &tcp_);
    if (r < 0) {
      last_connect_error_ = r;
      addr_index_ = addrs_.size();
      connect_next();
      return;
    }
    tcp_.data = this;
    flags_ |= kTcpOpen;
  }
  connect_req_.data = this;
  int r = uv_tcp_connect(&connect_req_, &tcp_,
                         reinterpret_cast<const sockaddr*>(&addrs_[addr_index_]), &on_connect_cb);
  if (r == 0) return;
  last_connect_error_ = r;
  ++addr_index_;
  reopen_tcp_for_next_address();
}

// A handle whose connect failed may hold a socket of the other address family: the next
// address gets a fresh one, initialized once this one's close callback has run.
void UpstreamConnection::reopen_tcp_for_next_address() {
  if (addr_index_ >= addrs_.size()) {
    connect_next();  // reports the failure; close() closes the handle
    return;
  }
  flags_ |= kReconnecting;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &on_tcp_closed_cb);
}

void UpstreamConnection::on_connect_cb(uv_connect_t* req, int status) {
  auto* c = static_cast<UpstreamConnection*>(req->data);
  if (c->state_ != ConnState::Connecting) return;  // closing: status is UV_ECANCELED
  if (status < 0) {
    c->last_connect_error_ = status;
    ++c->addr_index_;
    c->reopen_tcp_for_next_address();
    return;
  }
  c->on_connected();
}

void UpstreamConnection::on_connected() {
  uv_tcp_nodelay(&tcp_, 1);
  uv_tcp_keepalive(&tcp_, 1, 60);  // notice dead peers behind NATs while pooled
  if (!s_->connect_request.empty()) {
    start_tunnel();
    return;
  }
  start_transport();
}

// Through a proxy: CONNECT first; the transport (TLS to the provider itself: SNI and
// verification name the provider, never the proxy) starts once the proxy answers 2xx.
void UpstreamConnection::start_tunnel() {
  set_state(ConnState::Tunnelling);
  tunnel_ = std::make_unique<TunnelReply>();
  // The request lives in the settings, which outlive the connection: no copy for the write.
  uv_buf_t buf = uv_buf_init(const_cast<char*>(s_->connect_request.data()),
                             static_cast<unsigned>(s_->connect_request.size()));
  write_req_.data = this;
  int r = uv_write(&write_req_, stream(), &buf, 1, &on_write_cb);
  if (r < 0) {
    on_write_error(r);
    return;
  }
  flags_ |= kWriteInFlight | kWriteCarriesConnect;
  update_reading();
}

void UpstreamConnection::on_tunnel_bytes(const char* data, size_t len) {
  size_t consumed = 0;
  const std::string target = s_->host + ":" + std::to_string(s_->port);
  switch (tunnel_->feed(data, len, &consumed)) {
    case TunnelReply::Result::NeedMore:
      return;
    case TunnelReply::Result::Established:
      if (consumed < len) {
        // Neither a TLS server nor an HTTP/1.1 server speaks first: these bytes are not the
        // provider's, and treating them as its answer would be worse than failing.
        detail_ = s_->proxy_label + " sent bytes after its CONNECT answer for " + target;
        fail_connect();
        return;
      }
      tunnel_.reset();
      start_transport();
      return;
    case TunnelReply::Result::Refused:
      detail_ = "proxy refused CONNECT to " + target + ": " + std::to_string(tunnel_->status()) +
                (tunnel_->reason().empty() ? "" : " " + tunnel_->reason()) + " (" +
                s_->proxy_label + ")";
      fail_connect();
      return;
    case TunnelReply::Result::Malformed:
      detail_ = s_->proxy_label + " answered CONNECT to " + target + " with something not HTTP/1.x";
      fail_connect();
      return;
    case TunnelReply::Result::TooLarge:
      detail_ = s_->proxy_label + "'s answer to CONNECT " + target + " exceeds " +
                std::to_string(TunnelReply::kMaxHeadBytes) + " bytes";
      fail_connect();
      return;
  }
}

void UpstreamConnection::start_transport() {
  transport_ = s_->tls ? make_tls_transport(s_->ssl_ctx, s_->tls_name, s_->tls_name_is_ip,
                                            s_->tls_verify, s_->buffers)
                       : make_tcp_transport();
  if (transport_->start() == Transport::Status::Failed) {
    detail_ = transport_->error_detail();
    fail_connect();
    return;
  }
  if (!transport_->handshake_complete()) {
    set_state(ConnState::Handshaking);
    update_reading();
    flush_output();  // the ClientHello
    return;
  }
  transport_ready();
}

void UpstreamConnection::transport_ready() {
  if (exchange_) {
    begin_request();
  } else {
    become_idle();
  }
}

void UpstreamConnection::become_idle() {
  set_state(ConnState::Idle);
  idle_since_ms_ = now();
  arm_timer();
  update_reading();
  owner_->on_connection_idle(this);
}

void UpstreamConnection::fail_connect(TimeoutKind timeout) {
  if (exchange_) {
    fail(FailureKind::ConnectFailure, timeout);
  } else {
    close();
  }
}

// ---- one exchange: write the request, read the response -----------------------------------

bool UpstreamConnection::verify_idle() {
  uv_os_fd_t fd;
  if (state_ != ConnState::Idle || uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) != 0) {
    return false;
  }
  if (probe_idle_socket(fd) == IdleProbe::Open) return true;
  close();  // a stale keep-alive connection: nothing of any request was written to it
  return false;
}

void UpstreamConnection::assign(Exchange* ex) {
  attach(ex);
  begin_request();
}

void UpstreamConnection::begin_request() {
  Exchange* ex = exchange_;
  flags_ &= ~kPerExchangeFlags;
  parser_.reset(ex->head_request);
  set_state(ConnState::Writing);
  write_started_ms_ = now();
  arm_timer();
  update_reading();
  if (transport_->send(ex->request) == Transport::Status::Failed) {
    detail_ = transport_->error_detail();
    fail(FailureKind::Reset, TimeoutKind::None);
    return;
  }
  flags_ |= kRequestQueued;
  flush_output();
}

void UpstreamConnection::flush_output() {
  if (flags_ & kWriteInFlight) return;  // the write callback flushes what accumulated
  if (!transport_) return;              // still tunnelling
  std::span<const uv_buf_t> bufs = transport_->take_output();
  if (bufs.empty()) return;
  write_req_.data = this;
  int r = uv_write(&write_req_, stream(), bufs.data(), static_cast<unsigned>(bufs.size()),
                   &on_write_cb);
  if (r < 0) {
    on_write_error(r);
    return;
  }
  flags_ |= kWriteInFlight;
  if (flags_ & kRequestQueued) {
    flags_ &= ~kRequestQueued;
    flags_ |= kWriteCarriesRequest;
  }
}

void UpstreamConnection::on_write_cb(uv_write_t* req, int status) {
  auto* c = static_cast<UpstreamConnection*>(req->data);
  c->flags_ &= ~kWriteInFlight;
  // The CONNECT came from the settings, not from the transport: its buffers are not to be
  // released (the transport may already hold queued output of its own by now).
  if (c->flags_ & kWriteCarriesConnect) {
    c->flags_ &= ~kWriteCarriesConnect;
  } else {
    c->transport_->output_written();
  }
  if (c->state_ == ConnState::Closing) return;
  if (status < 0) {
    c->on_write_error(status);
    return;
  }
  if (c->flags_ & kWriteCarriesRequest) {
    c->flags_ &= ~kWriteCarriesRequest;
    c->flags_ |= kRequestWritten;
    if (c->state_ == ConnState::Writing) {
      c->set_state(ConnState::AwaitingHead);
      c->request_written_ms_ = c->now();
      c->arm_timer();
    }
  }
  c->flush_output();
}

void UpstreamConnection::on_write_error(int err) {
  if (state_ == ConnState::Tunnelling) {
    detail_ = "writing CONNECT to " + s_->proxy_label + " failed: " + uv_error_text(err);
    fail_connect();
    return;
  }
  if (state_ == ConnState::Handshaking) {
    detail_ = "TLS handshake write failed: " + uv_error_text(err);
    fail_connect();
    return;
  }
  if (!exchange_) {
    close();
    return;
  }
  if (flags_ & kResponseStarted) {
    // The server answered early (e.g. 413) and stopped reading: read its answer, then close.
    flags_ |= kNotReusable;
    return;
  }
  // Part of the request may be on the wire already (libuv does not say how much of a failed
  // write went out): an attempt for the retry policy to judge, never a silent re-send.
  detail_ = "writing the request failed: " + uv_error_text(err);
  fail(FailureKind::Reset, TimeoutKind::None);
}

void UpstreamConnection::on_alloc_cb(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<UpstreamConnection*>(h->data);
  *buf = uv_buf_init(c->s_->buffers->take(), ReadBufferPool::kBufferSize);
}

void UpstreamConnection::on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<UpstreamConnection*>(s->data);
  if (nread > 0) c->on_bytes(buf->base, static_cast<size_t>(nread));
  if (buf->base) c->s_->buffers->give(buf->base);
  if (nread < 0) c->on_peer_closed(static_cast<int>(nread));
}

void UpstreamConnection::on_bytes(const char* data, size_t len) {
  if (state_ == ConnState::Closing) return;
  if (state_ == ConnState::Tunnelling) {
    on_tunnel_bytes(data, len);
    return;
  }
  Transport::Status st = transport_->receive(data, len, &on_plaintext_cb, this);
  if (state_ == ConnState::Closing) return;  // the plaintext ended the exchange or connection
  if (st == Transport::Status::Failed) {
    detail_ = transport_->error_detail();
    if (state_ == ConnState::Handshaking) {
      fail_connect();
    } else if (exchange_ && !(flags_ & kCompleted)) {
      fail(FailureKind::Reset, TimeoutKind::None);
    } else {
      if (exchange_) finish_exchange();  // complete already; just do not reuse
      if (state_ != ConnState::Closing) close();
    }
    return;
  }
  flush_output();  // handshake messages, alerts, key updates
  if (flags_ & kCompleted) {
    if (st == Transport::Status::Closed) flags_ |= kNotReusable;
    finish_exchange();
    return;
  }
  if (st == Transport::Status::Closed) {
    on_peer_closed(UV_EOF);
    return;
  }
  if (state_ == ConnState::Handshaking && transport_->handshake_complete()) transport_ready();
}

void UpstreamConnection::on_plaintext_cb(void* arg, const char* data, size_t len) {
  static_cast<UpstreamConnection*>(arg)->on_plaintext(data, len);
}

void UpstreamConnection::on_plaintext(const char* data, size_t len) {
  if (state_ == ConnState::Closing) return;
  if (flags_ & kCompleted) {  // more bytes after the end of the response
    flags_ |= kNotReusable;
    return;
  }
  if (state_ != ConnState::Writing && state_ != ConnState::AwaitingHead &&
      state_ != ConnState::ReadingBody) {
    // Idle (or still handshaking): the server spoke without being asked. Nothing it can say
    // there is meaningful HTTP/1.1; do not reuse the connection.
    detail_ = "upstream sent data before any request";
    if (exchange_) {
      fail(FailureKind::Protocol, TimeoutKind::None);
    } else {
      close();
    }
    return;
  }
  last_read_ms_ = now();
  flags_ |= kResponseStarted;
  size_t consumed = 0;
  switch (parser_.feed(data, len, &consumed)) {
    case ResponseParser::Result::NeedMore:
    case ResponseParser::Result::Stopped:  // aborted from a sink callback: already closing
      return;
    case ResponseParser::Result::Complete:
      flags_ |= kCompleted;
      if (consumed < len) flags_ |= kNotReusable;
      return;
    case ResponseParser::Result::Error:
      detail_ = std::string("invalid response from upstream: ") + parser_.error();
      fail(FailureKind::Protocol, TimeoutKind::None);
      return;
  }
}

bool UpstreamConnection::on_response_head(int status, std::span<const ResponseHeader> headers,
                                          std::optional<uint64_t> content_length) {
  set_state(ConnState::ReadingBody);
  arm_timer();
  exchange_->sink->on_upstream_head(status, headers, content_length);
  return exchange_ != nullptr;  // abort() from inside the callback detaches it
}

bool UpstreamConnection::on_response_body(const char* data, size_t len) {
  exchange_->sink->on_upstream_body(data, len);
  return exchange_ != nullptr;
}

void UpstreamConnection::finish_exchange() {
  flags_ &= ~kCompleted;
  bool reusable = parser_.keep_alive() && (flags_ & kRequestWritten) &&
                  !(flags_ & (kNotReusable | kWriteInFlight));
  Exchange* ex = detach();
  ++served_;
  if (reusable) {
    become_idle();  // the owner may hand it the next request right away
  } else {
    close();
  }
  owner_->on_exchange_done(ex);
}

// EOF or a read error.
void UpstreamConnection::on_peer_closed(int err) {
  switch (state_) {
    case ConnState::Idle:  // the server closed a pooled connection: normal, just forget it
      close();
      return;
    case ConnState::Tunnelling:
      detail_ = s_->proxy_label +
                " closed the connection before answering CONNECT: " + uv_error_text(err);
      fail_connect();
      return;
    case ConnState::Handshaking:
      detail_ = "connection closed during the TLS handshake: " + uv_error_text(err);
      fail_connect();
      return;
    case ConnState::Writing:
    case ConnState::AwaitingHead:
    case ConnState::ReadingBody: {
      if (!exchange_) {
        close();
        return;
      }
      if (err == UV_EOF) {
        ResponseParser::Result r = parser_.finish();
        if (r == ResponseParser::Result::Stopped) return;
        if (r == ResponseParser::Result::Complete) {  // a body delimited by the close
          flags_ |= kNotReusable;
          finish_exchange();
          return;
        }
      }
      bool started = flags_ & kResponseStarted;
      detail_ = started ? "upstream closed the connection before the response was complete: "
                        : "upstream closed the connection before responding: ";
      detail_ += uv_error_text(err);
      // Even on a reused connection and before any response byte, this is not the harmless
      // keep-alive race: the request was written, and the provider may have read (and
      // billed) all of it before dying. verify_idle() caught the race before the write; what
      // gets here is an attempt the retry filter decides on (DESIGN §10).
      fail(FailureKind::Reset, TimeoutKind::None);
      return;
    }
    default:
      close();
      return;
  }
}

// ---- back-pressure and timers ------------------------------------------------------------

void UpstreamConnection::update_reading() {
  bool want = false;
  switch (state_) {
    case ConnState::Tunnelling:
    case ConnState::Handshaking:
    case ConnState::Idle:
      want = true;
      break;
    case ConnState::Writing:
    case ConnState::AwaitingHead:
    case ConnState::ReadingBody:
      want = !(exchange_ && exchange_->paused);
      break;
    default:
      break;
  }
  if (want && !(flags_ & kReading)) {
    if (uv_read_start(stream(), &on_alloc_cb, &on_read_cb) == 0) flags_ |= kReading;
  } else if (!want && (flags_ & kReading)) {
    uv_read_stop(stream());
    flags_ &= ~kReading;
  }
}

void UpstreamConnection::update_paused() {
  if (!exchange_ || state_ == ConnState::Closing) return;
  if (!exchange_->paused) last_read_ms_ = now();  // the idle clock restarts on resume
  update_reading();
  arm_timer();
}

UpstreamConnection::Deadline UpstreamConnection::deadline() const {
  Deadline d{UINT64_MAX, TimeoutKind::None};
  bool paused = exchange_ && exchange_->paused;
  switch (state_) {
    case ConnState::Resolving:
    case ConnState::Connecting:
    case ConnState::Tunnelling:  // the connect timeout covers the proxy hop and CONNECT too
    case ConnState::Handshaking:
      d = {connect_deadline_ms_, TimeoutKind::Connect};
      break;
    case ConnState::Idle:
      d = {idle_since_ms_ + s_->idle_ms, TimeoutKind::None};
      break;
    case ConnState::Writing:
      if (!(flags_ & kResponseStarted)) {
        d = {write_started_ms_ + s_->first_byte_ms, TimeoutKind::FirstByte};
        break;
      }
      [[fallthrough]];
    case ConnState::AwaitingHead:
    case ConnState::ReadingBody:
      if (flags_ & kResponseStarted) {
        // A paused exchange is waiting for its client, not for the upstream.
        if (!paused) d = {last_read_ms_ + s_->idle_ms, TimeoutKind::Idle};
      } else {
        d = {request_written_ms_ + s_->first_byte_ms, TimeoutKind::FirstByte};
      }
      break;
    default:
      break;
  }
  if (exchange_ && exchange_->total_deadline_ms < d.at_ms) {
    d = {exchange_->total_deadline_ms, TimeoutKind::Total};
  }
  return d;
}

// Reads do not touch the timer (they only move last_read_ms_): when it fires early, on_timer
// re-arms it for what is left. So a busy stream costs no timer operations per read.
void UpstreamConnection::arm_timer() {
  Deadline d = deadline();
  if (d.at_ms == UINT64_MAX) {
    uv_timer_stop(&timer_);
    return;
  }
  uint64_t t = now();
  const uint64_t due_in = d.at_ms > t ? d.at_ms - t : 0;
  // A running timer due no later than the new deadline stays: if it fires first, on_timer sees
  // the deadline is not reached and arms it for what is left. A request moves the deadline
  // four times (written, answered, idle...), nearly always later (the response and keep-alive
  // limits are long); moving the timer in libuv's heap each time was ~950 instructions per
  // request (bench/profile.sh), now it is about one early wake-up per keep-alive limit.
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&timer_)) &&
      uv_timer_get_due_in(&timer_) <= due_in) {
    return;
  }
  uv_timer_start(&timer_, &on_timer_cb, due_in, 0);
}

void UpstreamConnection::on_timer_cb(uv_timer_t* t) {
  static_cast<UpstreamConnection*>(t->data)->on_timer();
}

void UpstreamConnection::on_timer() {
  if (state_ == ConnState::Closing) return;
  Deadline d = deadline();
  if (d.at_ms == UINT64_MAX) return;
  if (now() < d.at_ms) {
    arm_timer();
    return;
  }
  switch (d.kind) {
    case TimeoutKind::None:  // keep-alive idle limit
      close();
      return;
    case TimeoutKind::Connect:
      detail_ = "connecting to " + s_->host + ":" + std::to_string(s_->port) +
                (s_->connect_request.empty() ? "" : " through " + s_->proxy_label) +
                " timed out after " + std::to_string(s_->connect_ms) + "ms";
      fail_connect(TimeoutKind::Connect);
      return;
    case TimeoutKind::FirstByte:
      detail_ = "no response byte within " + std::to_string(s_->first_byte_ms) + "ms";
      break;
    case TimeoutKind::Idle:
      detail_ = "no response byte for " + std::to_string(s_->idle_ms) + "ms";
      break;
    case TimeoutKind::Total:
      detail_ = "exchange exceeded the total timeout";
      break;
  }
  if (exchange_) {
    fail(FailureKind::Timeout, d.kind);
  } else {
    close();
  }
}

// ---- endings ------------------------------------------------------------------------------

void UpstreamConnection::fail(FailureKind kind, TimeoutKind timeout) {
  Exchange* ex = detach();
  close();
  if (ex) owner_->on_exchange_failed(ex, Failure{kind, timeout, detail_.c_str()});
}

void UpstreamConnection::abandon_exchange() {
  if (!detach()) return;
  switch (state_) {
    case ConnState::Resolving:
    case ConnState::Connecting:
    case ConnState::Tunnelling:
    case ConnState::Handshaking:
      arm_timer();  // the exchange's total deadline no longer applies
      break;
    default:
      close();
      break;
  }
}

Exchange* UpstreamConnection::close_and_detach() {
  Exchange* ex = detach();
  close();
  return ex;
}

void UpstreamConnection::close() {
  if (state_ == ConnState::Closing || state_ == ConnState::Closed) return;
  if (exchange_) {
    std::fprintf(stderr, "sluice: upstream connection closed with an exchange attached\n");
    std::abort();
  }
  if (state_ == ConnState::Resolving) s_->dns->cancel(this);
  set_state(ConnState::Closing);
  flags_ &= ~kReading;
  if ((flags_ & kTcpOpen) && !(flags_ & kReconnecting)) {
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &on_tcp_closed_cb);
  }
  if (flags_ & kTimerOpen) uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &on_timer_closed_cb);
  owner_->on_connection_closing(this);
}

void UpstreamConnection::on_tcp_closed_cb(uv_handle_t* h) {
  auto* c = static_cast<UpstreamConnection*>(h->data);
  c->flags_ &= ~kTcpOpen;
  if (c->flags_ & kReconnecting) {
    c->flags_ &= ~kReconnecting;
    if (c->state_ == ConnState::Connecting) {
      c->connect_next();
      return;
    }
  }
  c->on_handle_closed();
}

void UpstreamConnection::on_timer_closed_cb(uv_handle_t* h) {
  auto* c = static_cast<UpstreamConnection*>(h->data);
  c->flags_ &= ~kTimerOpen;
  c->on_handle_closed();
}

void UpstreamConnection::on_handle_closed() {
  if (state_ != ConnState::Closing || (flags_ & (kTcpOpen | kTimerOpen))) return;
  set_state(ConnState::Closed);
  owner_->on_connection_closed(this);  // deletes this
}

std::string UpstreamConnection::describe_address(size_t index) const {
  if (index >= addrs_.size()) return s_->dns->host() + ":" + std::to_string(s_->dial_port);
  char ip[64] = "?";
  uv_ip_name(reinterpret_cast<const sockaddr*>(&addrs_[index]), ip, sizeof ip);
  bool v6 = addrs_[index].ss_family == AF_INET6;
  std::string out = v6 ? std::string("[") + ip + "]" : std::string(ip);
  return out + ":" + std::to_string(s_->dial_port);
}

}  // namespace sluice::upstream
