#include "tests/support/mock/mock_server.h"

#include <llhttp.h>
#include <sys/socket.h>

#include <cctype>
#include <utility>
#include <vector>

#include "tests/support/json.h"
#include "tests/support/mock/anthropic_replies.h"
#include "tests/support/mock/exchange_script.h"
#include "tests/support/mock/ollama_replies.h"
#include "tests/support/mock/openai_replies.h"

namespace sluice::mock {

using test::Json;

namespace {

constexpr size_t kMaxHeadBytes = 64 << 10;      // request line + headers
constexpr size_t kMaxBodyBytes = 32 << 20;      // one request body
constexpr size_t kMaxBufferedInput = 40 << 20;  // unparsed bytes while a reply plays
constexpr size_t kMaxQueuedOutput = 256 << 20;  // a client that stops reading is dropped
// (large: the back-pressure test makes sluice stop reading a ~30 MB stream on purpose)
constexpr uint64_t kCloseLingerMs = 2000;  // after FIN, wait this long for the peer's FIN

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One accepted client connection. Owns its two handles; deletes itself when both have closed.
class Connection {
 public:
  static void accept(MockServer& server, uv_stream_t* listener);

 private:
  // Reading  - parsing requests from `input_`;
  // Replying - a script plays; the parser is paused and new input is only buffered;
  // Hanging  - the request will never be answered; we only wait for the peer to leave;
  // Closing  - FIN sent (or about to be), waiting for the peer's FIN or the linger timer;
  //            handles are closed by close_handles() from any state.
  enum class State : uint8_t { Reading, Replying, Hanging, Closing };

  explicit Connection(MockServer& server);

  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_timer(uv_timer_t* timer);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_close(uv_handle_t* handle);

  static int on_message_begin(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, size_t len);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);
  static const llhttp_settings_t& settings();

  void feed();
  void dispatch();
  Script control_reply(const std::string& path, uint64_t sequence);
  void run_script();
  void finish_exchange();
  void write_bytes(std::string bytes);
  void close_gracefully();
  void reset();
  void close_handles();
  void reply_and_close(int status, std::string_view message, std::string_view code);
  bool count_head(size_t len);
  const std::string* header(std::string_view lowercase_name) const;

  MockServer& server_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;        // script waits and the closing linger
  uv_shutdown_t shutdown_;  // used at most once
  llhttp_t parser_;
  State state_ = State::Reading;
  int open_handles_ = 0;
  bool handles_closing_ = false;
  bool in_feed_ = false;  // finish_exchange() called from inside feed() must not recurse

  std::string input_;  // received, not yet parsed
  Script script_;

  // The request being parsed.
  std::string url_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  std::vector<std::pair<std::string, std::string>> headers_;  // lowercase names
  std::string body_;
  size_t head_bytes_ = 0;
  int limit_status_ = 0;  // 431 or 413 when a callback refused the request
  bool keep_alive_ = true;
};

Connection::Connection(MockServer& server) : server_(server) {
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
}

void Connection::accept(MockServer& server, uv_stream_t* listener) {
  auto* c = new Connection(server);
  uv_tcp_init(server.loop(), &c->tcp_);
  uv_timer_init(server.loop(), &c->timer_);
  c->tcp_.data = c;
  c->timer_.data = c;
  c->open_handles_ = 2;
  ++server.connections_open;
  ++server.connections_total;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp_)) != 0) {
    c->close_handles();
    return;
  }
  uv_tcp_nodelay(&c->tcp_, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp_), on_alloc, on_read);
}

void Connection::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  // One loop thread: a single static buffer is consumed by on_read before the next alloc.
  static char storage[64 << 10];
  *buf = uv_buf_init(storage, sizeof storage);
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread < 0) {  // EOF or error: the peer left, whatever we were doing
    c->close_handles();
    return;
  }
  if (nread == 0 || c->state_ == State::Closing) return;
  if (c->input_.size() + static_cast<size_t>(nread) > kMaxBufferedInput) {
    c->close_handles();
    return;
  }
  c->input_.append(buf->base, static_cast<size_t>(nread));
  if (c->state_ == State::Reading) c->feed();
}

void Connection::feed() {
  in_feed_ = true;
  while (state_ == State::Reading && !input_.empty()) {
    llhttp_errno_t err = llhttp_execute(&parser_, input_.data(), input_.size());
    if (err == HPE_OK) {
      input_.clear();
      break;
    }
    if (err == HPE_PAUSED) {  // a whole request arrived (on_message_complete paused)
      input_.erase(0, static_cast<size_t>(llhttp_get_error_pos(&parser_) - input_.data()));
      llhttp_resume(&parser_);
      dispatch();
      continue;
    }
    if (limit_status_ == 431) {
      reply_and_close(431, "mock provider: request head too large", "head_too_large");
    } else if (limit_status_ == 413) {
      reply_and_close(413, "mock provider: request body too large", "body_too_large");
    } else {
      reply_and_close(400, std::string("mock provider: bad HTTP: ") + llhttp_errno_name(err),
                      "bad_http");
    }
    break;
  }
  in_feed_ = false;
}

const std::string* Connection::header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers_)
    if (name == lowercase_name) return &value;
  return nullptr;
}

void Connection::dispatch() {
  std::string method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  std::string path = url_.substr(0, url_.find('?'));
  state_ = State::Replying;

  if (path.rfind("/__", 0) == 0) {
    script_ = control_reply(path, 0);
    run_script();
    return;
  }

  uint64_t sequence = server_.control().next_sequence();
  const std::string* spec = header("x-mock-behavior");
  std::string error;
  auto behavior = server_.control().choose(path, spec ? *spec : "", &error);

  Json headers = Json::object();
  for (const auto& [name, value] : headers_) {
    const Json& seen = headers[name];
    headers.set(name, seen.is_string() ? seen.str() + ", " + value : value);
  }
  // The API shape is chosen by path: Anthropic's /v1/messages, Ollama's /api/..., else OpenAI.
  Reply r;
  if (!behavior) {
    const std::string message = "mock provider: bad x-mock-behavior: " + error;
    if (is_anthropic_path(path)) {
      r = anthropic_error_reply(400, message);
    } else if (is_ollama_path(path)) {
      r = ollama_error_reply(400, message);
    } else {
      r = error_reply(400, message, "invalid_request_error", "bad_behavior");
    }
  } else if (is_anthropic_path(path)) {
    r = anthropic_reply(method, path, body_, *behavior, sequence);
  } else if (is_ollama_path(path)) {
    r = ollama_reply(method, path, body_, *behavior, sequence);
  } else {
    r = openai_reply(method, path, body_, *behavior, sequence);
  }
  // What the reply's body says (before any cut the behaviour makes), bounded like the request
  // body: a test compares it with what sluice forwarded to its client.
  auto cut = [](std::string_view s) {
    return std::string(s.substr(0, ControlState::kMaxRecordedBody));
  };
  std::string reply_body = cut(r.body);
  for (const std::string& event : r.events) {
    if (reply_body.size() >= ControlState::kMaxRecordedBody) break;
    reply_body += cut(event);
  }
  Json record = Json::object();
  record.set("seq", sequence);
  record.set("method", method);
  record.set("path", url_);
  record.set("headers", headers);
  record.set("body", cut(body_));
  record.set("behavior", behavior ? behavior->spec : "invalid: " + error);
  record.set("reply_status", r.status);
  record.set("reply_body", cut(reply_body));
  server_.control().record(std::move(record));

  script_ = build_script(r, behavior ? *behavior : Behavior{}, keep_alive_, sequence);
  run_script();
}

Script Connection::control_reply(const std::string& path, uint64_t sequence) {
  std::string method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  Reply r;
  Json ok = Json::object();
  ok.set("ok", true);
  if (method == "POST" && path == "/__control") {
    std::string error;
    if (server_.control().add_rule(body_, &error))
      r.body = ok.dump();
    else
      r = error_reply(400, "mock provider: " + error, "invalid_request_error", "bad_control");
  } else if (method == "GET" && path == "/__requests") {
    r.body = server_.control().recorded().dump();
  } else if (method == "POST" && path == "/__reset") {
    server_.control().reset();
    r.body = ok.dump();
  } else if (method == "GET" && path == "/__stats") {
    Json stats = Json::object();
    stats.set("connections_open", server_.connections_open);
    stats.set("connections_total", server_.connections_total);
    stats.set("requests_total", server_.control().requests_total());
    r.body = stats.dump();
  } else {
    r = error_reply(404, "mock provider: unknown control endpoint " + path, "invalid_request_error",
                    "unknown_url");
  }
  return build_script(r, Behavior{}, keep_alive_, sequence);
}

void Connection::run_script() {
  while (state_ == State::Replying && !script_.empty()) {
    Step step = std::move(script_.front());
    script_.pop_front();
    switch (step.kind) {
      case Step::Kind::Write:
        write_bytes(std::move(step.bytes));
        break;
      case Step::Kind::Wait:
        uv_timer_start(&timer_, on_timer, step.ms, 0);
        return;
      case Step::Kind::Finish:
        finish_exchange();
        return;
      case Step::Kind::Close:
        close_gracefully();
        return;
      case Step::Kind::Reset:
        reset();
        return;
      case Step::Kind::Hang:
        state_ = State::Hanging;
        return;
    }
  }
}

void Connection::finish_exchange() {
  url_.clear();
  headers_.clear();
  body_.clear();
  state_ = State::Reading;
  if (!in_feed_) feed();  // pipelined requests may already be buffered
}

struct WriteRequest {
  uv_write_t req;
  std::string bytes;
};

void Connection::write_bytes(std::string bytes) {
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (uv_stream_get_write_queue_size(stream) > kMaxQueuedOutput) {  // the client stopped reading
    close_handles();
    return;
  }
  auto* w = new WriteRequest{{}, std::move(bytes)};
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  int rc = uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int status) {
    auto* done = reinterpret_cast<WriteRequest*>(req);
    auto* c = static_cast<Connection*>(req->handle->data);
    delete done;
    if (status < 0 && status != UV_ECANCELED) c->close_handles();
  });
  if (rc != 0) {
    delete w;
    close_handles();
  }
}

void Connection::close_gracefully() {
  if (handles_closing_) return;
  state_ = State::Closing;
  // Keep reading (and discarding) until the peer's FIN: closing with unread input would turn
  // our FIN into an RST that can destroy the reply still in flight.
  uv_timer_start(&timer_, on_timer, kCloseLingerMs, 0);
  if (uv_shutdown(&shutdown_, reinterpret_cast<uv_stream_t*>(&tcp_), on_shutdown) != 0)
    close_handles();
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) {
  auto* c = static_cast<Connection*>(req->handle->data);
  if (status < 0 && status != UV_ECANCELED) c->close_handles();
}

void Connection::reset() {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) == 0) {
    struct linger hard = {1, 0};  // close() sends RST instead of FIN
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  }
  close_handles();
}

void Connection::on_timer(uv_timer_t* timer) {
  auto* c = static_cast<Connection*>(timer->data);
  if (c->state_ == State::Replying)
    c->run_script();
  else if (c->state_ == State::Closing)
    c->close_handles();
}

void Connection::close_handles() {
  if (handles_closing_) return;
  handles_closing_ = true;
  state_ = State::Closing;
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
}

void Connection::on_close(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  if (--c->open_handles_ > 0) return;
  --c->server_.connections_open;
  delete c;
}

void Connection::reply_and_close(int status, std::string_view message, std::string_view code) {
  state_ = State::Replying;
  script_ = build_script(error_reply(status, message, "invalid_request_error", code), Behavior{},
                         /*keep_alive=*/false, 0);
  run_script();
}

// ---- llhttp callbacks ------------------------------------------------------------------------

const llhttp_settings_t& Connection::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t x;
    llhttp_settings_init(&x);
    x.on_message_begin = on_message_begin;
    x.on_url = on_url;
    x.on_header_field = on_header_field;
    x.on_header_value = on_header_value;
    x.on_header_value_complete = on_header_value_complete;
    x.on_body = on_body;
    x.on_message_complete = on_message_complete;
    return x;
  }();
  return s;
}

bool Connection::count_head(size_t len) {
  head_bytes_ += len;
  if (head_bytes_ <= kMaxHeadBytes) return true;
  limit_status_ = 431;
  return false;
}

int Connection::on_message_begin(llhttp_t* p) {
  auto* c = static_cast<Connection*>(p->data);
  c->url_.clear();
  c->headers_.clear();
  c->body_.clear();
  c->field_.clear();
  c->value_.clear();
  c->in_value_ = false;
  c->head_bytes_ = 0;
  return 0;
}

int Connection::on_url(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<Connection*>(p->data);
  if (!c->count_head(len)) return -1;
  c->url_.append(at, len);
  return 0;
}

int Connection::on_header_field(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<Connection*>(p->data);
  if (!c->count_head(len)) return -1;
  c->field_.append(at, len);
  return 0;
}

int Connection::on_header_value(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<Connection*>(p->data);
  if (!c->count_head(len)) return -1;
  c->value_.append(at, len);
  return 0;
}

int Connection::on_header_value_complete(llhttp_t* p) {
  auto* c = static_cast<Connection*>(p->data);
  if (c->headers_.size() >= 1000) {
    c->limit_status_ = 431;
    return -1;
  }
  c->headers_.emplace_back(lowercase(std::move(c->field_)), std::move(c->value_));
  c->field_.clear();
  c->value_.clear();
  return 0;
}

int Connection::on_body(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<Connection*>(p->data);
  if (c->body_.size() + len > kMaxBodyBytes) {
    c->limit_status_ = 413;
    return -1;
  }
  c->body_.append(at, len);
  return 0;
}

int Connection::on_message_complete(llhttp_t* p) {
  auto* c = static_cast<Connection*>(p->data);
  c->keep_alive_ = llhttp_should_keep_alive(p) != 0;
  return HPE_PAUSED;  // feed() answers it before parsing the next pipelined request
}

}  // namespace

MockServer::MockServer(uv_loop_t* loop, Behavior defaults)
    : loop_(loop), control_(std::move(defaults)) {}

int MockServer::listen(const std::string& host, uint16_t port) {
  sockaddr_storage addr{};
  int rc = host.find(':') != std::string::npos
               ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
               : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) return rc;
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  if ((rc = uv_tcp_bind(&listener_, reinterpret_cast<sockaddr*>(&addr), 0)) != 0) return rc;
  if ((rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, on_connection)) != 0)
    return rc;
  sockaddr_storage bound{};
  int len = sizeof bound;
  if ((rc = uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len)) != 0)
    return rc;
  return bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void MockServer::on_connection(uv_stream_t* listener, int status) {
  if (status < 0) return;
  Connection::accept(*static_cast<MockServer*>(listener->data), listener);
}

}  // namespace sluice::mock
