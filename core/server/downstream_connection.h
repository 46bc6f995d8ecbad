// DownstreamConnection: one agent connection on a worker loop (HTTP/1.1, keep-alive,
// pipelining answered strictly in order). Reads into the worker's shared read buffer and
// parses in place; only pipelined leftovers are copied. Writes try the socket first
// (uv_try_write: no copy when the kernel takes it all) and queue the rest, so a slow reader
// fills a bounded queue whose watermarks pause and resume the upstream (DESIGN §10).
// What a request needs (parser, request, session) is in a RequestSlot taken from the worker's
// pool at the request's first byte and given back when its response is done: an idle
// keep-alive connection holds only this object (request_slot.h; issue 14).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/filter/snapshot.h"
#include "core/http/request_parser.h"  // ParserLimits

namespace sluice::server {

class Worker;
struct RequestSlot;

// Above this many queued bytes the upstream is paused; below the low mark it resumes.
inline constexpr size_t kWriteHighWatermark = size_t{256} * 1024;
inline constexpr size_t kWriteLowWatermark = size_t{64} * 1024;

class DownstreamConnection {
 public:
  // ReadingRequest — waiting for / parsing a request (header or idle timer armed). Holds a
  //                  request slot from the request's first byte; none while idle.
  // Dispatched     — the slot's session owns the current request; further bytes are only
  //                  buffered. Always holds a slot.
  // Lingering      — the last response is out and our FIN sent (uv_shutdown); unread input is
  //                  drained for a moment so the kernel does not answer it with a RST that
  //                  would destroy the response (e.g. a 413 sent before the body was read).
  // Closing        — uv_close issued on both handles; freed in the last close callback, where
  //                  a slot still held goes back to the pool.
  // Transitions: ReadingRequest ⇄ Dispatched; either → Lingering → Closing; any → Closing.
  enum class State : uint8_t { ReadingRequest, Dispatched, Lingering, Closing };
  static const char* to_string(State s);

  // Flag bits (one word, HAProxy style).
  enum Flag : uint32_t {
    kWriteInFlight = 1u << 0,    // uv_write pending on out_->writing
    kCloseAfterFlush = 1u << 1,  // close once the write queue is empty
    kSentContinue = 1u << 2,     // "100 Continue" already sent for the current request
    kReadStopped = 1u << 3,      // reading paused (pipelined buffer full)
    kPeerClosed = 1u << 4,       // EOF or read error seen
    kInMessage = 1u << 5,        // the current request has started arriving
  };

  DownstreamConnection(Worker& worker, std::shared_ptr<const filter::ConfigSnapshot> snapshot);
  ~DownstreamConnection();

  // Called once the TCP handle was accepted into tcp(): starts reading and the header timer.
  void start();
  uv_tcp_t* tcp() { return &tcp_; }

  // Sends bytes downstream, in order. Buffers must be valid during the call only.
  void send(const uv_buf_t* bufs, unsigned count);
  size_t queued_bytes() const { return out_ ? out_->pending.size() + out_->writing.size() : 0; }
  // Whether the response to the current request may keep the connection open.
  bool keep_alive_allowed() const;
  // The session finished the current request; `keep_alive` false closes after the flush.
  void on_session_done(bool keep_alive);
  // Whether a request slot is held (tests and /metrics: an idle connection holds none).
  bool holds_slot() const { return slot_ != nullptr; }
  // Worker is draining: close now if idle, else after the current response.
  void begin_drain();
  // Closes the connection (idempotent). The session is told the client is gone if active.
  void close();
  bool closing() const { return state_ == State::Closing || state_ == State::Lingering; }

 private:
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_timer(uv_timer_t* timer);
  static void on_close(uv_handle_t* handle);

  void handle_input(const char* data, size_t len);
  void process_pending();
  bool feed(const char* data, size_t len, size_t* consumed);
  void dispatch();
  void reject(http::ParseError error);
  void start_write();
  void close_gracefully();  // flush, FIN, linger, then close
  static void on_shutdown(uv_shutdown_t* req, int status);
  void set_state(State next);
  void arm_timer(uint64_t ms);
  // The slot for the request being read (taken from the pool on first use).
  RequestSlot& slot();
  // Between requests: gives the slot back and frees buffers an idle connection does not need.
  void go_idle();
  bool in_message() const;  // a request has started arriving and was not dispatched yet

  Worker& worker_;
  std::shared_ptr<const filter::ConfigSnapshot> snapshot_;  // the config this connection reads with
  uv_tcp_t tcp_;
  uv_timer_t timer_;  // header timeout while reading a request, idle timeout between them
  State state_ = State::ReadingRequest;
  uint32_t flags_ = 0;
  int open_handles_ = 0;  // closed in on_close; the object is deleted when it reaches 0
  // The limits of the snapshot the connection was accepted under: every request of the
  // connection is parsed with them (limits.* apply to new connections).
  http::ParserLimits limits_;
  RequestSlot* slot_ = nullptr;  // the current request's; null while idle (see State)
  std::string pipelined_;        // bytes received after the request being answered
  // Output the kernel did not take at once (a slow reader, a response bigger than the socket
  // buffer). Made on the first short write, freed once empty while idle: most connections
  // never need one, and an idle one keeps none.
  struct WriteQueue {
    uv_write_t req;
    std::string pending;  // queued output not yet handed to uv_write
    std::string writing;  // output owned by the in-flight uv_write
  };
  std::unique_ptr<WriteQueue> out_;
  // Made by close_gracefully() for the FIN of a lingering close; freed with the connection
  // (libuv calls on_shutdown, cancelled if need be, before the handle's close callback).
  std::unique_ptr<uv_shutdown_t> shutdown_req_;
  bool processing_ = false;  // re-entrancy guard for process_pending()
};

}  // namespace sluice::server
