#include "bench/mock_upstream/mock_connection.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "bench/mock_upstream/canned.h"
#include "bench/mock_upstream/mock_server.h"

namespace sluice::bench {
namespace {

uv_buf_t static_buf(const std::string& s) {
  return uv_buf_init(const_cast<char*>(s.data()), static_cast<unsigned>(s.size()));
}

// "stream": true at any spacing. The bench's own request bodies are small and flat, so a
// textual look is enough here (sluice's real parser is measured elsewhere, not in the mock).
bool asks_for_stream(std::string_view body) {
  size_t pos = 0;
  while ((pos = body.find("\"stream\"", pos)) != std::string_view::npos) {
    pos += 8;
    size_t i = pos;
    while (i < body.size() && (body[i] == ' ' || body[i] == ':' || body[i] == '\t')) ++i;
    if (body.substr(i, 4) == "true") return true;
  }
  return false;
}

// POST .../messages (query aside) is Anthropic's Messages API; every other POST is OpenAI's.
bool is_messages_path(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  return url.ends_with("/messages");
}

}  // namespace

MockConnection::MockConnection(uv_loop_t* loop, MockServer* server) : loop_(loop), server_(server) {
  uv_tcp_init(loop_, &tcp_);
  uv_timer_init(loop_, &timer_);
  tcp_.data = this;
  timer_.data = this;
  llhttp_settings_init(&settings_);
  settings_.on_url = &on_url;
  settings_.on_body = &on_body;
  settings_.on_message_complete = &on_message_complete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

void MockConnection::start() {
  uv_tcp_nodelay(&tcp_, 1);
  MockStats& st = server_->stats();
  st.max_connections = std::max(st.max_connections, ++st.connections);
  uv_read_start(stream(), &on_alloc, &on_read);
}

void MockConnection::close() {
  if (state_ == State::Closing) return;
  if (state_ == State::Delaying || state_ == State::Streaming) --server_->stats().in_flight;
  state_ = State::Closing;
  --server_->stats().connections;
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &on_close);
}

void MockConnection::on_close(uv_handle_t* h) {
  auto* self = static_cast<MockConnection*>(h->data);
  if (--self->open_handles_ == 0) delete self;
}

void MockConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<MockConnection*>(h->data);
  *buf = uv_buf_init(self->read_buffer_, sizeof self->read_buffer_);
}

void MockConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<MockConnection*>(s->data);
  if (nread < 0) {
    self->close();
    return;
  }
  if (nread == 0) return;
  self->input_.append(buf->base, static_cast<size_t>(nread));
  self->process_input();
}

int MockConnection::on_url(llhttp_t* p, const char* at, size_t len) {
  static_cast<MockConnection*>(p->data)->url_.append(at, len);
  return 0;
}

int MockConnection::on_body(llhttp_t* p, const char* at, size_t len) {
  static_cast<MockConnection*>(p->data)->body_.append(at, len);
  return 0;
}

int MockConnection::on_message_complete(llhttp_t* p) {
  auto* self = static_cast<MockConnection*>(p->data);
  self->keep_alive_ = llhttp_should_keep_alive(p) != 0;
  std::string_view url = self->url_;
  if (p->method == HTTP_GET && url.starts_with("/__stats")) {
    self->answer_ =
        url.find("reset") != std::string_view::npos ? Answer::StatsReset : Answer::Stats;
  } else if (url.starts_with("/tools/") && (p->method == HTTP_POST || p->method == HTTP_GET)) {
    self->answer_ = Answer::Tool;  // what an http tool's endpoint answers (canned.h)
  } else if (p->method == HTTP_POST) {
    self->answer_ = asks_for_stream(self->body_) ? Answer::Stream : Answer::Completion;
    self->messages_ = is_messages_path(url);
  } else {
    self->answer_ = Answer::NotFound;
  }
  return HPE_PAUSED;  // one request at a time: the rest of input_ waits for this answer
}

void MockConnection::process_input() {
  if (state_ != State::Reading) return;
  if (parsed_ == input_.size()) {
    input_.clear();
    parsed_ = 0;
    return;
  }
  const char* begin = input_.data() + parsed_;
  llhttp_errno_t err = llhttp_execute(&parser_, begin, input_.size() - parsed_);
  if (err == HPE_OK) {
    input_.clear();
    parsed_ = 0;
    return;
  }
  if (err != HPE_PAUSED) {
    close();  // malformed: nothing in the bench sends that, so just drop the connection
    return;
  }
  parsed_ += static_cast<size_t>(llhttp_get_error_pos(&parser_) - begin);
  llhttp_resume(&parser_);
  start_answer();
}

void MockConnection::start_answer() {
  MockStats& st = server_->stats();
  if (answer_ == Answer::Stats || answer_ == Answer::StatsReset) {
    owned_ = json_http_response("{\"requests\":" + std::to_string(st.requests) +
                                ",\"in_flight\":" + std::to_string(st.in_flight) +
                                ",\"max_in_flight\":" + std::to_string(st.max_in_flight) +
                                ",\"connections\":" + std::to_string(st.connections) +
                                ",\"max_connections\":" + std::to_string(st.max_connections) + "}");
    if (answer_ == Answer::StatsReset) {
      st.max_in_flight = st.in_flight;
      st.max_connections = st.connections;
    }
    uv_buf_t b = static_buf(owned_);
    write(&b, 1);
    finish_answer();
    return;
  }
  if (answer_ == Answer::NotFound) {
    uv_buf_t b = static_buf(canned_responses().not_found);
    write(&b, 1);
    finish_answer();
    return;
  }
  ++st.requests;
  st.max_in_flight = std::max(st.max_in_flight, ++st.in_flight);
  state_ = State::Delaying;
  if (server_->options().delay_ms > 0) {
    uv_timer_start(&timer_, &on_timer, server_->options().delay_ms, 0);
  } else {
    send_head();
  }
}

void MockConnection::on_timer(uv_timer_t* t) {
  auto* self = static_cast<MockConnection*>(t->data);
  if (self->state_ == State::Delaying) {
    self->send_head();
  } else if (self->state_ == State::Streaming) {
    self->send_next_event();
  }
}

const CannedStream& MockConnection::canned_stream() const {
  const CannedResponses& c = canned_responses();
  return messages_ ? c.message_stream : c.stream;
}

void MockConnection::send_head() {
  const CannedResponses& c = canned_responses();
  if (answer_ == Answer::Completion || answer_ == Answer::Tool) {
    uv_buf_t b = static_buf(answer_ == Answer::Tool ? c.tool_result
                            : messages_             ? c.message
                                                    : c.completion);
    write(&b, 1);
    --server_->stats().in_flight;
    finish_answer();
    return;
  }
  const CannedStream& s = canned_stream();
  uv_buf_t head[2] = {static_buf(s.head), static_buf(s.first)};
  write(head, 2);
  events_sent_ = 1;
  state_ = State::Streaming;
  send_events();
}

void MockConnection::send_events() {
  const CannedStream& s = canned_stream();
  const MockOptions& o = server_->options();
  if (o.chunk_delay_ms == 0 || events_sent_ >= o.chunks) {
    // Everything left in one write: the remaining events (if no delay), then the tail.
    std::vector<uv_buf_t> bufs;
    for (; events_sent_ < o.chunks; ++events_sent_) bufs.push_back(static_buf(s.chunk));
    bufs.push_back(static_buf(s.tail));
    write(bufs.data(), static_cast<unsigned>(bufs.size()));
    --server_->stats().in_flight;
    finish_answer();
    return;
  }
  uv_timer_start(&timer_, &on_timer, o.chunk_delay_ms, 0);
}

void MockConnection::send_next_event() {
  uv_buf_t b = static_buf(canned_stream().chunk);
  write(&b, 1);
  ++events_sent_;
  send_events();
}

void MockConnection::finish_answer() {
  url_.clear();
  body_.clear();
  if (!keep_alive_) {
    // Let the queued writes go out first: a shutdown request completes after them.
    auto* req = new uv_shutdown_t;
    req->data = this;
    state_ = State::Reading;
    uv_shutdown(req, stream(), [](uv_shutdown_t* r, int) {
      auto* self = static_cast<MockConnection*>(r->data);
      delete r;
      self->close();
    });
    input_.clear();
    parsed_ = 0;
    return;
  }
  state_ = State::Reading;
  process_input();
}

void MockConnection::write(const uv_buf_t* bufs, unsigned n) {
  auto* req = new uv_write_t;
  if (uv_write(req, stream(), bufs, n, &on_write) != 0) delete req;
}

void MockConnection::on_write(uv_write_t* req, int status) {
  delete req;  // a failed write shows up as a read error/EOF, which closes the connection
}

}  // namespace sluice::bench
