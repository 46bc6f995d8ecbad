#include "core/admin/admin_server.h"

#include <cstring>
#include <string>
#include <vector>

#include "core/http/response_builder.h"
#include "core/log/log.h"

namespace sluice::admin {

// One admin connection. Its two handles live here and never move; the object is deleted only
// after both close callbacks ran.
struct AdminServer::Connection {
  // Reading — waiting for or parsing a request (the tcp handle reads unless paused).
  // Writing — one response is being written; input that arrives meanwhile is not read
  //           (reading is stopped) and bytes already read wait in `unparsed`.
  // Closing — uv_close() was called on both handles; nothing else may happen.
  // Reading → Writing (a response) → Reading (written, keep-alive) | Closing (error, close,
  // timeout, or the server closing); any state → Closing.
  enum class State : uint8_t { Reading, Writing, Closing };

  Connection(AdminServer* s, const http::ParserLimits& limits)
      : server(s), parser(limits, &request) {}

  AdminServer* server;
  State state = State::Reading;
  uv_tcp_t tcp;
  uv_timer_t timer;  // request or idle timeout, whichever applies now
  uv_write_t write_req;
  http::HttpRequest request;  // before `parser`, which keeps a pointer to it
  http::RequestParser parser;
  std::string out;       // the response being written
  std::string unparsed;  // bytes read but not yet parsed (pipelined behind a response)
  bool reading = false;  // uv_read_start is in effect
  bool close_after_write = false;
  bool timing_request = false;  // the request timeout is armed for the message in progress
  int open_handles = 0;
};

namespace {

int resolve(uv_loop_t* loop, const config::HostPort& address, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  if (uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(out)) == 0) {
    return 0;
  }
  if (uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(out)) == 0) {
    return 0;
  }
  // A host name: resolved synchronously (no callback), which is fine once, at start-up, on
  // the main loop — never on a worker.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  uv_getaddrinfo_t req;
  int rc = uv_getaddrinfo(loop, &req, nullptr, address.host.c_str(), nullptr, &hints);
  if (rc != 0) return rc;
  std::memcpy(out, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
  uv_freeaddrinfo(req.addrinfo);
  if (out->ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(out)->sin_port = htons(address.port);
  } else {
    reinterpret_cast<sockaddr_in6*>(out)->sin6_port = htons(address.port);
  }
  return 0;
}

uint16_t bound_port(const uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

}  // namespace

AdminServer::AdminServer(uv_loop_t* loop, AdminHooks hooks, metrics::Metrics& metrics)
    : AdminServer(loop, std::move(hooks), metrics, Options{}) {}

AdminServer::AdminServer(uv_loop_t* loop, AdminHooks hooks, metrics::Metrics& metrics,
                         Options options)
    : loop_(loop),
      router_(std::move(hooks), metrics),
      options_(options),
      read_buffer_(new char[kReadBufferSize]) {}

AdminServer::~AdminServer() = default;

int AdminServer::start(const config::HostPort& address) {
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  listener_initialized_ = true;

  sockaddr_storage addr;
  int rc = resolve(loop_, address, &addr);
  if (rc == 0) rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128, &AdminServer::on_connection);
  }
  if (rc != 0) return rc;  // the caller reports it, with the address
  port_ = bound_port(&listener_);
  // Tests and operators read the port from this exact line (port 0 picks a free one).
  log::info("admin listening on " + config::HostPort{address.host, port_}.to_string());
  return 0;
}

void AdminServer::close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  if (listener_initialized_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), &AdminServer::on_listener_closed);
  }
  std::vector<Connection*> open(connections_.begin(), connections_.end());
  for (Connection* c : open) close_connection(c);
  maybe_finish_close();
}

void AdminServer::on_listener_closed(uv_handle_t* handle) {
  auto* self = static_cast<AdminServer*>(handle->data);
  self->listener_closed_ = true;
  self->maybe_finish_close();
}

void AdminServer::maybe_finish_close() {
  if (!closing_ || !connections_.empty()) return;
  if (listener_initialized_ && !listener_closed_) return;
  // Move the callback out first: it may destroy this server.
  std::function<void()> done = std::move(on_closed_);
  on_closed_ = nullptr;
  if (done) done();
}

void AdminServer::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<AdminServer*>(listener->data);
  if (status < 0) {
    log::warn(std::string("admin: accept failed: ") + uv_strerror(status));
    return;
  }
  auto* c = new Connection(self, self->options_.limits);
  uv_tcp_init(self->loop_, &c->tcp);
  uv_timer_init(self->loop_, &c->timer);
  c->tcp.data = c;
  c->timer.data = c;
  c->open_handles = 2;
  self->connections_.insert(c);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0 || self->closing_ ||
      self->connections_.size() > self->options_.max_connections) {
    self->close_connection(c);  // over the bound: accepted only to be closed
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  self->arm_timer(c, self->options_.idle_timeout);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), &AdminServer::alloc_buffer,
                &AdminServer::on_read);
  c->reading = true;
}

void AdminServer::alloc_buffer(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  AdminServer* self = static_cast<Connection*>(handle->data)->server;
  *buf = uv_buf_init(self->read_buffer_.get(), kReadBufferSize);
}

void AdminServer::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread < 0) {  // EOF or a socket error: nothing more to answer
    c->server->close_connection(c);
    return;
  }
  if (nread == 0) return;
  c->server->process(c, buf->base, static_cast<size_t>(nread));
}

void AdminServer::process(Connection* c, const char* data, size_t len) {
  while (len > 0 && c->state == Connection::State::Reading) {
    const http::RequestParser::FeedResult r = c->parser.feed(data, len);
    data += r.consumed;
    len -= r.consumed;
    if (r.state == http::RequestParser::State::NeedMore) {
      if (!c->timing_request && c->parser.in_message()) {
        c->timing_request = true;  // the whole request must arrive within request_timeout
        arm_timer(c, options_.request_timeout);
      }
      if (r.consumed == 0) break;  // defensive: the parser promised to take everything
      continue;
    }
    if (r.state == http::RequestParser::State::Failed) {
      const http::ParseError e = c->parser.error();
      respond(c,
              admin_error(http::status_of(e), c->parser.detail(), http::error_type_of(e),
                          http::error_type_of(e)),
              /*head_only=*/false, /*keep_alive=*/false);
      return;  // the framing of whatever follows is unknown: answer and close
    }
    // Complete.
    c->timing_request = false;
    const http::HttpRequest& req = c->request;
    std::vector<http::HeaderView> headers;
    headers.reserve(req.header_count());
    for (size_t i = 0; i < req.header_count(); ++i) headers.push_back(req.header_at(i));
    const AdminResponse response = router_.handle(req.method(), req.target(), headers);
    respond(c, response, req.method() == "HEAD", req.keep_alive && !closing_);
    c->parser.next_message();
  }
  if (len > 0 && c->state != Connection::State::Closing) {
    // A pipelined request behind the one being answered: keep its bytes, stop reading until
    // the response is written (bounded by one read buffer).
    c->unparsed.append(data, len);
  }
}

void AdminServer::respond(Connection* c, const AdminResponse& response, bool head_only,
                          bool keep_alive) {
  std::string& out = c->out;
  out.clear();
  http::append_status_line(out, response.status);
  http::append_header(out, "Content-Type", response.content_type);
  http::append_header(out, "Content-Length", static_cast<uint64_t>(response.body.size()));
  http::append_header(out, "Cache-Control", "no-store");
  for (const auto& [name, value] : response.headers) http::append_header(out, name, value);
  if (!keep_alive) {
    http::append_header(out, "Connection", "close");
  } else if (c->request.http_minor == 0) {
    http::append_header(out, "Connection", "keep-alive");  // HTTP/1.0 closes unless told
  }
  out.append("\r\n");
  if (!head_only) out.append(response.body);
  c->close_after_write = !keep_alive;
  start_write(c);
}

void AdminServer::start_write(Connection* c) {
  c->state = Connection::State::Writing;
  if (c->reading) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
    c->reading = false;
  }
  arm_timer(c, options_.idle_timeout);  // a client that never reads is dropped, too
  c->write_req.data = c;
  uv_buf_t buf = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
  int rc = uv_write(&c->write_req, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1,
                    &AdminServer::on_write);
  if (rc != 0) close_connection(c);
}

void AdminServer::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  if (c->state == Connection::State::Closing) return;  // cancelled by close_connection
  AdminServer* self = c->server;
  if (status < 0 || c->close_after_write || self->closing_) {
    self->close_connection(c);
    return;
  }
  c->state = Connection::State::Reading;
  c->out.clear();
  self->arm_timer(c, self->options_.idle_timeout);
  if (!c->unparsed.empty()) {
    std::string pending = std::move(c->unparsed);
    c->unparsed.clear();
    self->process(c, pending.data(), pending.size());
  }
  if (c->state == Connection::State::Reading && !c->reading) {
    uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), &AdminServer::alloc_buffer,
                  &AdminServer::on_read);
    c->reading = true;
  }
}

void AdminServer::arm_timer(Connection* c, std::chrono::milliseconds timeout) {
  uv_timer_start(&c->timer, &AdminServer::on_timeout, static_cast<uint64_t>(timeout.count()), 0);
}

void AdminServer::on_timeout(uv_timer_t* timer) {
  auto* c = static_cast<Connection*>(timer->data);
  c->server->close_connection(c);
}

void AdminServer::close_connection(Connection* c) {
  if (c->state == Connection::State::Closing) return;
  c->state = Connection::State::Closing;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), &AdminServer::on_connection_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), &AdminServer::on_connection_handle_closed);
}

void AdminServer::on_connection_handle_closed(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  if (--c->open_handles > 0) return;
  AdminServer* self = c->server;
  self->connections_.erase(c);
  delete c;
  self->maybe_finish_close();
}

}  // namespace sluice::admin
