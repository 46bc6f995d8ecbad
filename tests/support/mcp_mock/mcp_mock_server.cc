#include "tests/support/mcp_mock/mcp_mock_server.h"

#include <llhttp.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

namespace sluice::mcp_mock {

using test::Json;

namespace {

constexpr size_t kMaxHeadBytes = 64 << 10;
constexpr size_t kMaxBodyBytes = 8 << 20;
constexpr size_t kMaxBufferedInput = 16 << 20;
constexpr size_t kMaxQueuedOutput = 64 << 20;

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

}  // namespace

// One client connection. Reading → (a request) → Answering (a delay may run) → Reading again;
// Streaming: a GET stream, kept open for pushed events; Hanging: never answered; Closing: the
// handles are closing. The object deletes itself when both handles have closed.
class Connection {
 public:
  enum class State : uint8_t { Reading, Answering, Streaming, Hanging, Closing };

  static void accept(McpMockServer& server, uv_stream_t* listener) {
    auto* c = new Connection(server);
    uv_tcp_init(server.loop(), &c->tcp_);
    uv_timer_init(server.loop(), &c->timer_);
    c->tcp_.data = c;
    c->timer_.data = c;
    server.add(c);
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp_)) != 0) {
      c->close();
      return;
    }
    uv_tcp_nodelay(&c->tcp_, 1);
    uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp_), on_alloc, on_read);
  }

  void push(const std::string& event) {
    if (state_ == State::Streaming) write(chunk(event));
  }

  void close() {
    if (state_ == State::Closing) return;
    if (state_ == State::Streaming) server_.state().stream_closed();
    state_ = State::Closing;
    server_.remove(this);
    uv_timer_stop(&timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
  }

 private:
  explicit Connection(McpMockServer& server) : server_(server) {
    llhttp_settings_init(&settings_);
    settings_.on_message_begin = [](llhttp_t* p) {
      auto* c = static_cast<Connection*>(p->data);
      c->request_ = Request{};
      c->field_.clear();
      c->value_.clear();
      c->head_bytes_ = 0;
      return 0;
    };
    settings_.on_url = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = static_cast<Connection*>(p->data);
      if ((c->head_bytes_ += len) > kMaxHeadBytes) return -1;
      c->request_.path.append(at, len);
      return 0;
    };
    settings_.on_header_field = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = static_cast<Connection*>(p->data);
      if ((c->head_bytes_ += len) > kMaxHeadBytes) return -1;
      c->field_.append(at, len);
      return 0;
    };
    settings_.on_header_value = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = static_cast<Connection*>(p->data);
      if ((c->head_bytes_ += len) > kMaxHeadBytes) return -1;
      c->value_.append(at, len);
      return 0;
    };
    settings_.on_header_value_complete = [](llhttp_t* p) {
      auto* c = static_cast<Connection*>(p->data);
      std::string name = std::move(c->field_);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c->request_.headers.emplace_back(std::move(name), std::move(c->value_));
      c->field_.clear();
      c->value_.clear();
      return 0;
    };
    settings_.on_body = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = static_cast<Connection*>(p->data);
      if (c->request_.body.size() + len > kMaxBodyBytes) return -1;
      c->request_.body.append(at, len);
      return 0;
    };
    settings_.on_message_complete = [](llhttp_t* p) {
      auto* c = static_cast<Connection*>(p->data);
      c->keep_alive_ = llhttp_should_keep_alive(p) != 0;
      c->request_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
      return static_cast<int>(HPE_PAUSED);
    };
    llhttp_init(&parser_, HTTP_REQUEST, &settings_);
    parser_.data = this;
  }

  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
    static char storage[64 << 10];
    *buf = uv_buf_init(storage, sizeof storage);
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* c = static_cast<Connection*>(stream->data);
    if (nread < 0) {
      c->close();
      return;
    }
    if (nread == 0 || c->state_ == State::Closing) return;
    if (c->input_.size() + static_cast<size_t>(nread) > kMaxBufferedInput) {
      c->close();
      return;
    }
    c->input_.append(buf->base, static_cast<size_t>(nread));
    if (c->state_ == State::Reading) c->feed();
  }

  void feed() {
    while (state_ == State::Reading && !input_.empty()) {
      llhttp_errno_t err = llhttp_execute(&parser_, input_.data(), input_.size());
      if (err == HPE_OK) {
        input_.clear();
        return;
      }
      if (err != HPE_PAUSED) {
        write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        close_after_write_ = true;
        state_ = State::Answering;
        return;
      }
      input_.erase(0, static_cast<size_t>(llhttp_get_error_pos(&parser_) - input_.data()));
      llhttp_resume(&parser_);
      dispatch();
    }
  }

  void dispatch() {
    state_ = State::Answering;
    const std::string path = request_.path.substr(0, request_.path.find('?'));
    if (path.rfind("/__", 0) == 0) {
      control(path);
      return;
    }
    if (path != "/mcp") {
      answer_ = Answer{};
      answer_.status = 404;
      answer_.content_type = "text/plain";
      answer_.body = "no such path: " + path;
      play();
      return;
    }
    answer_ = server_.state().handle(request_);
    server_.flush_stream_events();
    if (answer_.kind == Answer::Kind::Hang) {
      state_ = State::Hanging;
      return;
    }
    if (answer_.kind == Answer::Kind::Close) {
      close();
      return;
    }
    if (answer_.delay_ms > 0) {
      uv_timer_start(&timer_, on_timer, answer_.delay_ms, 0);
      return;
    }
    play();
  }

  void control(const std::string& path) {
    answer_ = Answer{};
    uint32_t down_ms = 0;
    if (request_.method == "POST" && path == "/__control") {
      std::string error;
      if (server_.state().control(request_.body, &error, &down_ms)) {
        answer_.body = R"({"ok":true})";
      } else {
        answer_.status = 400;
        answer_.body = Json(error).dump();
      }
    } else if (request_.method == "GET" && path == "/__stats") {
      answer_.body = server_.state().stats().dump();
    } else if (request_.method == "GET" && path == "/__requests") {
      answer_.body = server_.state().recorded().dump();
    } else if (request_.method == "POST" && path == "/__reset") {
      server_.state().reset();
      answer_.body = R"({"ok":true})";
    } else {
      answer_.status = 404;
      answer_.body = R"({"error":"unknown control endpoint"})";
    }
    play();
    server_.flush_stream_events();
    if (down_ms > 0) {
      close_after_write_ = true;  // this answer still goes out; then this connection closes too
      server_.go_down(down_ms, this);
    }
  }

  static void on_timer(uv_timer_t* t) {
    auto* c = static_cast<Connection*>(t->data);
    if (c->state_ == State::Answering) c->play();
  }

  // Writes answer_ and goes back to reading (or streaming, for a GET stream).
  void play() {
    std::string head =
        "HTTP/1.1 " + std::to_string(answer_.status) + " " + reason(answer_.status) + "\r\n";
    for (const auto& [n, v] : answer_.headers) head += n + ": " + v + "\r\n";
    if (!answer_.content_type.empty()) head += "Content-Type: " + answer_.content_type + "\r\n";
    if (!keep_alive_) head += "Connection: close\r\n";
    if (answer_.kind == Answer::Kind::Stream || answer_.sse) {
      head += "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
      write(std::move(head));
      if (answer_.kind == Answer::Kind::Stream) {
        state_ = State::Streaming;
        server_.state().stream_opened();
        write(chunk(": stream open\n\n"));
        return;
      }
      for (const std::string& e : answer_.events) write(chunk(e));
      write("0\r\n\r\n");
    } else {
      head += "Content-Length: " + std::to_string(answer_.body.size()) + "\r\n\r\n";
      write(std::move(head) + answer_.body);
    }
    if (!keep_alive_) {
      close_after_write_ = true;
      return;
    }
    state_ = State::Reading;
    feed();
  }

  struct Write {
    uv_write_t req;
    std::string bytes;
  };

  void write(std::string bytes) {
    auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
    if (state_ == State::Closing) return;
    if (uv_stream_get_write_queue_size(stream) > kMaxQueuedOutput) {
      close();
      return;
    }
    auto* w = new Write{{}, std::move(bytes)};
    uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
    if (uv_write(&w->req, stream, &buf, 1, on_written) != 0) {
      delete w;
      close();
    }
  }

  static void on_written(uv_write_t* req, int status) {
    auto* w = reinterpret_cast<Write*>(req);
    auto* c = static_cast<Connection*>(req->handle->data);
    delete w;
    if (status < 0) {
      if (status != UV_ECANCELED) c->close();
      return;
    }
    if (c->close_after_write_ &&
        uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&c->tcp_)) == 0) {
      c->close();
    }
  }

  static void on_closed(uv_handle_t* h) {
    auto* c = static_cast<Connection*>(h->data);
    if (++c->closed_ == 2) delete c;
  }

  McpMockServer& server_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  State state_ = State::Reading;
  int closed_ = 0;
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  std::string input_;
  Request request_;
  std::string field_;
  std::string value_;
  size_t head_bytes_ = 0;
  Answer answer_;
};

McpMockServer::McpMockServer(uv_loop_t* loop, Options options)
    : loop_(loop), state_(std::move(options)) {
  uv_timer_init(loop_, &up_timer_);
  up_timer_.data = this;
}

int McpMockServer::listen(const std::string& host, uint16_t port) {
  sockaddr_in addr{};
  int rc = uv_ip4_addr(host.c_str(), port, &addr);
  if (rc != 0) return rc;
  listener_ = new uv_tcp_t;
  uv_tcp_init(loop_, listener_);
  listener_->data = this;
  if ((rc = uv_tcp_bind(listener_, reinterpret_cast<sockaddr*>(&addr), 0)) != 0 ||
      (rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 1024, on_connection)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
    return rc;
  }
  sockaddr_in bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  host_ = host;
  port_ = ntohs(bound.sin_port);
  return port_;
}

void McpMockServer::on_connection(uv_stream_t* listener, int status) {
  if (status < 0) return;
  Connection::accept(*static_cast<McpMockServer*>(listener->data), listener);
}

void McpMockServer::remove(Connection* c) {
  std::erase(connections_, c);
}

void McpMockServer::flush_stream_events() {
  std::vector<std::string> events = state_.take_stream_events();
  if (events.empty()) return;
  std::vector<Connection*> all = connections_;
  for (Connection* c : all) {
    for (const std::string& e : events) c->push(e);
  }
}

void McpMockServer::go_down(uint32_t ms, Connection* except) {
  if (listener_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
  }
  std::vector<Connection*> all = connections_;
  for (Connection* c : all) {
    if (c != except) c->close();
  }
  uv_timer_start(&up_timer_, on_up_timer, ms, 0);
}

void McpMockServer::on_up_timer(uv_timer_t* timer) {
  auto* self = static_cast<McpMockServer*>(timer->data);
  if (self->listen(self->host_, self->port_) < 0) {
    uv_timer_start(timer, on_up_timer, 50, 0);  // the port may linger a moment: try again
  }
}

}  // namespace sluice::mcp_mock
