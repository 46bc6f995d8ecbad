#include "bench/loadgen/client_connection.h"

#include <cstring>

namespace sluice::bench {

ClientConnection::ClientConnection(uv_loop_t* loop, const sockaddr_in& target,
                                   const std::string* request, ConnectionEvents* events)
    : loop_(loop), target_(target), request_(request), events_(events) {
  llhttp_settings_init(&settings_);
  settings_.on_body = &on_body;
  settings_.on_message_complete = &on_message_complete;
}

void ClientConnection::connect() {
  if (state_ != State::Closed) return;
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  connect_req_.data = this;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
  state_ = State::Connecting;
  close_error_ = 0;
  lost_request_ = false;
  int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&target_),
                          &on_connect);
  if (rc != 0) fail(rc);
}

void ClientConnection::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<ClientConnection*>(req->data);
  if (self->state_ != State::Connecting) return;  // closed meanwhile
  if (status != 0) {
    self->fail(status);
    return;
  }
  uv_tcp_nodelay(&self->tcp_, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), &on_alloc, &on_read);
  self->state_ = State::Idle;
  self->events_->on_idle(self);
}

void ClientConnection::send(uint64_t intended_ns) {
  if (state_ != State::Idle) return;
  current_ = ResponseResult{};
  current_.intended_ns = intended_ns;
  current_.sent_ns = uv_hrtime();
  message_done_ = false;
  prev_newline_ = false;
  state_ = State::Busy;
  uv_buf_t buf =
      uv_buf_init(const_cast<char*>(request_->data()), static_cast<unsigned>(request_->size()));
  write_req_.data = this;
  int rc = uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, &on_write);
  if (rc != 0) fail(rc);
}

void ClientConnection::on_write(uv_write_t* req, int status) {
  auto* self = static_cast<ClientConnection*>(req->data);
  if (status != 0 && status != UV_ECANCELED) self->fail(status);
}

void ClientConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<ClientConnection*>(h->data);
  *buf = uv_buf_init(self->read_buffer_, sizeof self->read_buffer_);
}

void ClientConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<ClientConnection*>(s->data);
  if (nread == 0) return;
  if (nread < 0) {
    self->fail(static_cast<int>(nread));
    return;
  }
  if (self->state_ != State::Busy) {  // bytes nobody asked for: the framing is lost
    self->fail(UV_EPROTO);
    return;
  }
  uint64_t now = uv_hrtime();
  if (self->current_.first_byte_ns == 0) self->current_.first_byte_ns = now;
  llhttp_errno_t err = llhttp_execute(&self->parser_, buf->base, static_cast<size_t>(nread));
  if (err != HPE_OK && err != HPE_PAUSED) {
    self->fail(UV_EPROTO);
    return;
  }
  if (err == HPE_PAUSED) {
    // Paused by on_message_complete. Bytes after the response were never asked for.
    if (llhttp_get_error_pos(&self->parser_) != buf->base + nread) {
      self->fail(UV_EPROTO);
      return;
    }
    llhttp_resume(&self->parser_);
  }
  if (!self->message_done_) return;
  self->current_.done_ns = now;
  self->current_.status = self->parser_.status_code;
  bool keep_alive = llhttp_should_keep_alive(&self->parser_) != 0;
  self->state_ = State::Idle;
  ResponseResult result = self->current_;
  self->events_->on_response(self, result);
  if (!keep_alive) {
    self->close();
    return;
  }
  if (self->state_ == State::Idle) self->events_->on_idle(self);
}

int ClientConnection::on_body(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<ClientConnection*>(p->data);
  // Count "\n\n" (the end of an SSE event), also when the pair is split across reads.
  for (size_t i = 0; i < len; ++i) {
    bool nl = at[i] == '\n';
    if (nl && self->prev_newline_) {
      ++self->current_.sse_events;
      nl = false;  // "\n\n\n" is one event end, not two
    }
    self->prev_newline_ = nl;
  }
  return 0;
}

int ClientConnection::on_message_complete(llhttp_t* p) {
  static_cast<ClientConnection*>(p->data)->message_done_ = true;
  return HPE_PAUSED;  // anything after it in this read is unexpected; on_read checks
}

void ClientConnection::fail(int error) {
  if (state_ == State::Closing || state_ == State::Closed) return;
  close_error_ = error;
  lost_request_ = state_ == State::Busy;
  close();
}

void ClientConnection::close() {
  if (state_ == State::Closing || state_ == State::Closed) return;
  state_ = State::Closing;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &on_close);
}

void ClientConnection::on_close(uv_handle_t* h) {
  auto* self = static_cast<ClientConnection*>(h->data);
  self->state_ = State::Closed;
  self->events_->on_closed(self, self->lost_request_, self->close_error_);
}

}  // namespace sluice::bench
