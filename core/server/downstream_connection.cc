#include "core/server/downstream_connection.h"

#include <cassert>

#include "core/http/response_builder.h"
#include "core/server/request_slot.h"
#include "core/server/worker.h"

namespace sluice::server {
namespace {

// How long a closing connection keeps draining unread input after its FIN (lingering close).
constexpr uint64_t kLingerMs = 2000;

http::ParserLimits parser_limits(const config::Limits& l) {
  return http::ParserLimits{l.max_request_body, l.max_header_bytes, l.max_headers};
}

const char* code_of(http::ParseError e) {
  switch (e) {
    case http::ParseError::BodyTooLarge:
      return "request_too_large";
    case http::ParseError::HeadTooLarge:
    case http::ParseError::TooManyHeaders:
      return "request_header_fields_too_large";
    case http::ParseError::UnsupportedVersion:
      return "http_version_not_supported";
    case http::ParseError::ConflictingLength:
    case http::ParseError::DuplicateLength:
      return "invalid_framing";
    default:
      return "bad_request";
  }
}

}  // namespace

const char* DownstreamConnection::to_string(State s) {
  switch (s) {
    case State::ReadingRequest:
      return "reading_request";
    case State::Dispatched:
      return "dispatched";
    case State::Lingering:
      return "lingering";
    case State::Closing:
      return "closing";
  }
  return "?";
}

DownstreamConnection::DownstreamConnection(Worker& worker,
                                           std::shared_ptr<const filter::ConfigSnapshot> snapshot)
    : worker_(worker),
      snapshot_(std::move(snapshot)),
      limits_(parser_limits(snapshot_->config().limits)) {
  uv_tcp_init(worker_.loop(), &tcp_);
  uv_timer_init(worker_.loop(), &timer_);
  tcp_.data = this;
  timer_.data = this;
  open_handles_ = 2;
}

DownstreamConnection::~DownstreamConnection() {
  assert(open_handles_ == 0);
  assert(slot_ == nullptr);
}

RequestSlot& DownstreamConnection::slot() {
  if (slot_ == nullptr) slot_ = worker_.request_slots().acquire(*this, limits_);
  return *slot_;
}

bool DownstreamConnection::in_message() const {
  return slot_ != nullptr && slot_->parser.in_message();
}

void DownstreamConnection::go_idle() {
  if (slot_ != nullptr) {
    worker_.request_slots().release(slot_);
    slot_ = nullptr;
  }
  // nginx's rule: buffers are for requests in progress. They are empty here unless a response
  // is still being written; one that grew (pipelining, a slow reader) is freed, not kept.
  if (pipelined_.empty()) std::string().swap(pipelined_);
  if (out_ && !(flags_ & kWriteInFlight) && out_->pending.empty()) out_.reset();
}

void DownstreamConnection::set_state(State next) {
  // Closing is terminal; Lingering only moves on to Closing.
  assert(state_ != State::Closing);
  assert(state_ != State::Lingering || next == State::Closing);
  state_ = next;
}

void DownstreamConnection::start() {
  uv_tcp_nodelay(&tcp_, 1);
  arm_timer(static_cast<uint64_t>(snapshot_->config().limits.header_timeout.count()));
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &on_alloc, &on_read) != 0) close();
}

void DownstreamConnection::arm_timer(uint64_t ms) {
  uv_timer_start(&timer_, &on_timer, ms, 0);
}

void DownstreamConnection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<DownstreamConnection*>(handle->data);
  // One buffer per worker: every read is parsed (and copied out if needed) before the next.
  *buf = uv_buf_init(self->worker_.read_buffer(), Worker::kReadBufferSize);
}

void DownstreamConnection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<DownstreamConnection*>(stream->data);
  if (nread == 0) return;
  if (nread < 0) {
    self->flags_ |= kPeerClosed;
    self->close();
    return;
  }
  if (self->state_ == State::Lingering) return;  // discarded: we are only waiting for EOF
  self->handle_input(buf->base, static_cast<size_t>(nread));
}

void DownstreamConnection::handle_input(const char* data, size_t len) {
  if (flags_ & kCloseAfterFlush) return;  // answered for the last time; only the flush is left
  if (state_ == State::Dispatched || !pipelined_.empty()) {
    // Pipelined requests wait their turn; their bytes are held up to one head's worth plus a
    // read, then reading stops until the current response is done.
    pipelined_.append(data, len);
    const size_t bound = snapshot_->config().limits.max_header_bytes + Worker::kReadBufferSize;
    if (pipelined_.size() > bound && !(flags_ & kReadStopped)) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
      flags_ |= kReadStopped;
    }
    if (state_ == State::ReadingRequest) process_pending();
    return;
  }
  size_t consumed = 0;
  processing_ = true;
  bool more = feed(data, len, &consumed);
  processing_ = false;
  if (more && consumed < len) pipelined_.append(data + consumed, len - consumed);
  if (state_ == State::ReadingRequest && !pipelined_.empty()) process_pending();
}

void DownstreamConnection::process_pending() {
  if (processing_) return;  // the outer loop picks the bytes up
  while (state_ == State::ReadingRequest && !pipelined_.empty()) {
    // The bytes being parsed move out of pipelined_, which collects what arrives meanwhile.
    std::string input;
    input.swap(pipelined_);
    size_t consumed = 0;
    processing_ = true;
    bool more = feed(input.data(), input.size(), &consumed);
    processing_ = false;
    if (!more) return;
    // Whatever feed() did not take goes back in front of anything that arrived meanwhile.
    input.erase(0, consumed);
    input.append(pipelined_);
    pipelined_.swap(input);
    if (consumed == 0) break;
  }
  if ((flags_ & kReadStopped) && state_ == State::ReadingRequest) {
    flags_ &= ~kReadStopped;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &on_alloc, &on_read);
  }
}

// Parses as many whole requests as the bytes hold, dispatching each. Returns false when the
// connection is done with input (rejected or closing); *consumed tells how far it got.
bool DownstreamConnection::feed(const char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  while (*consumed < len) {
    if (state_ != State::ReadingRequest) return state_ == State::Dispatched;
    http::RequestParser& parser = slot().parser;
    const bool was_in_message = parser.in_message();
    http::RequestParser::FeedResult r = parser.feed(data + *consumed, len - *consumed);
    *consumed += r.consumed;
    switch (r.state) {
      case http::RequestParser::State::NeedMore:
        if (!was_in_message && parser.in_message()) {
          // A new request started: it now has header_timeout to arrive whole.
          arm_timer(static_cast<uint64_t>(snapshot_->config().limits.header_timeout.count()));
        }
        if (parser.head_complete() && !(flags_ & kSentContinue)) {
          auto expect = slot_->request.header("expect");
          if (expect && http::iequals(*expect, "100-continue")) {
            flags_ |= kSentContinue;
            static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
            uv_buf_t b = uv_buf_init(const_cast<char*>(kContinue), sizeof kContinue - 1);
            send(&b, 1);
          }
        }
        return true;
      case http::RequestParser::State::Failed:
        reject(parser.error());
        return false;
      case http::RequestParser::State::Complete:
        dispatch();
        if (state_ == State::Lingering || state_ == State::Closing) return false;
        break;
    }
  }
  return true;
}

void DownstreamConnection::dispatch() {
  uv_timer_stop(&timer_);
  flags_ &= ~(kSentContinue | kInMessage);
  set_state(State::Dispatched);
  slot_->session.start(slot_->request, worker_.snapshot());
}

void DownstreamConnection::reject(http::ParseError error) {
  const int status = http::status_of(error);
  std::string body =
      http::openai_error_body(slot_->parser.detail(), "invalid_request_error", code_of(error));
  std::string response = http::json_response(status, body, /*keep_alive=*/false);
  uv_buf_t buf = uv_buf_init(response.data(), static_cast<unsigned>(response.size()));
  send(&buf, 1);
  worker_.count_rejected(status);
  close_gracefully();
}

bool DownstreamConnection::keep_alive_allowed() const {
  return slot_ != nullptr && slot_->request.keep_alive &&
         worker_.state() == Worker::State::Running &&
         !(flags_ & (kPeerClosed | kCloseAfterFlush)) && state_ != State::Closing &&
         state_ != State::Lingering;
}

void DownstreamConnection::on_session_done(bool keep_alive) {
  if (state_ != State::Dispatched) return;  // closed while the session wound down
  slot_->parser.next_message();
  set_state(State::ReadingRequest);
  if (!keep_alive) {
    go_idle();  // nothing more is read: the slot can serve another connection now
    close_gracefully();
    return;
  }
  // A kept-alive connection moves on to the newest config, so an idle one does not keep an old
  // snapshot (and the pools it retired) alive until it closes. Requests keep being parsed with
  // the limits the connection started with (limits_); limits.* apply to new connections.
  if (snapshot_ != worker_.snapshot()) snapshot_ = worker_.snapshot();
  arm_timer(static_cast<uint64_t>(snapshot_->config().limits.idle_timeout.count()));
  // The next request's bytes may be here already (pipelining): they keep the slot. Otherwise
  // the connection is idle and holds none until the next request's first byte.
  if (pipelined_.empty()) {
    go_idle();
  } else {
    process_pending();
  }
  if ((flags_ & kReadStopped) && state_ == State::ReadingRequest) {
    flags_ &= ~kReadStopped;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &on_alloc, &on_read);
  }
}

void DownstreamConnection::send(const uv_buf_t* bufs, unsigned count) {
  if (state_ == State::Closing) return;
  size_t total = 0;
  for (unsigned i = 0; i < count; ++i) total += bufs[i].len;
  size_t written = 0;
  if (!(flags_ & kWriteInFlight) && (!out_ || out_->pending.empty())) {
    // The common case: the kernel takes everything now, nothing is copied or queued.
    int r = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), bufs, count);
    if (r == UV_EAGAIN || r == UV_ENOSYS) {
      r = 0;
    } else if (r < 0) {
      flags_ |= kPeerClosed;
      close();
      return;
    }
    written = static_cast<size_t>(r);
    if (written == total) return;
  }
  if (!out_) out_ = std::make_unique<WriteQueue>();
  size_t skip = written;
  for (unsigned i = 0; i < count; ++i) {
    if (skip >= bufs[i].len) {
      skip -= bufs[i].len;
      continue;
    }
    out_->pending.append(bufs[i].base + skip, bufs[i].len - skip);
    skip = 0;
  }
  if (!(flags_ & kWriteInFlight)) start_write();
}

void DownstreamConnection::start_write() {
  WriteQueue& q = *out_;
  q.writing.swap(q.pending);
  q.pending.clear();
  uv_buf_t buf = uv_buf_init(q.writing.data(), static_cast<unsigned>(q.writing.size()));
  q.req.data = this;
  // A client that stops reading must not hold the connection (and a paused upstream)
  // forever: the write has idle_timeout to make progress.
  arm_timer(static_cast<uint64_t>(snapshot_->config().limits.idle_timeout.count()));
  if (uv_write(&q.req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, &on_write) != 0) {
    q.writing.clear();
    flags_ |= kPeerClosed;
    close();
    return;
  }
  flags_ |= kWriteInFlight;
}

void DownstreamConnection::on_write(uv_write_t* req, int status) {
  auto* self = static_cast<DownstreamConnection*>(req->data);
  self->flags_ &= ~kWriteInFlight;
  self->out_->writing.clear();
  if (self->state_ == State::Closing) return;
  if (status < 0) {
    self->flags_ |= kPeerClosed;
    self->close();
    return;
  }
  if (!self->out_->pending.empty()) {
    self->start_write();
    return;
  }
  if (self->flags_ & kCloseAfterFlush) {
    self->close_gracefully();
    return;
  }
  if (self->slot_ == nullptr) {
    // Idle, the last response flushed: the queue goes too (see go_idle()). libuv is done with
    // the request, so it may be freed inside its own callback.
    self->out_.reset();
    return;
  }
  if (self->queued_bytes() < kWriteLowWatermark) self->slot_->session.on_downstream_drained();
}

void DownstreamConnection::close_gracefully() {
  if (state_ == State::Closing || state_ == State::Lingering) return;
  if (slot_ != nullptr && slot_->session.active()) {
    close();
    return;
  }
  flags_ |= kCloseAfterFlush;
  if (queued_bytes() > 0) return;  // on_write comes back here once the queue is empty
  if (flags_ & kPeerClosed) {
    close();
    return;
  }
  set_state(State::Lingering);
  uv_timer_stop(&timer_);
  if (!shutdown_req_) shutdown_req_ = std::make_unique<uv_shutdown_t>();
  shutdown_req_->data = this;
  if (uv_shutdown(shutdown_req_.get(), reinterpret_cast<uv_stream_t*>(&tcp_), &on_shutdown) != 0) {
    close();
    return;
  }
  if (flags_ & kReadStopped) {
    flags_ &= ~kReadStopped;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &on_alloc, &on_read);
  }
}

void DownstreamConnection::on_shutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<DownstreamConnection*>(req->data);
  if (self->state_ != State::Lingering) return;
  if (status < 0) {
    self->close();
    return;
  }
  self->arm_timer(kLingerMs);
}

void DownstreamConnection::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<DownstreamConnection*>(timer->data);
  switch (self->state_) {
    case State::ReadingRequest:
      if (self->in_message()) {
        // Slowloris protection: the request did not arrive in time.
        std::string body = http::openai_error_body(
            "The request was not received within the server's time limit "
            "(limits.header_timeout / limits.idle_timeout).",
            "invalid_request_error", "request_timeout");
        std::string response = http::json_response(408, body, false);
        uv_buf_t buf = uv_buf_init(response.data(), static_cast<unsigned>(response.size()));
        self->send(&buf, 1);
        self->worker_.count_rejected(408);
        self->close_gracefully();
      } else {
        self->close();  // idle keep-alive connection
      }
      return;
    case State::Lingering:
      self->close();
      return;
    case State::Dispatched:
      if (self->flags_ & kWriteInFlight) self->close();  // the client stopped reading
      return;
    case State::Closing:
      return;
  }
}

void DownstreamConnection::begin_drain() {
  if (state_ == State::ReadingRequest && !in_message() && queued_bytes() == 0) close();
  // Otherwise the current request finishes; keep_alive_allowed() is now false, so its response
  // carries Connection: close and the connection closes after it.
}

void DownstreamConnection::close() {
  if (state_ == State::Closing) return;
  const bool was_dispatched = state_ == State::Dispatched;
  state_ = State::Closing;
  if (was_dispatched && slot_ != nullptr && slot_->session.active()) slot_->session.client_gone();
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &on_close);
}

void DownstreamConnection::on_close(uv_handle_t* handle) {
  auto* self = static_cast<DownstreamConnection*>(handle->data);
  if (--self->open_handles_ != 0) return;
  // The slot goes back only now: a session that was told the client left may still be on the
  // stack of the callback that closed the connection, and must find its memory as it was.
  if (self->slot_ != nullptr) {
    self->worker_.request_slots().release(self->slot_);
    self->slot_ = nullptr;
  }
  self->worker_.connection_closed(self);
}

}  // namespace sluice::server
