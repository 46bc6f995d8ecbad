// One accepted connection of the mock upstream. An explicit state machine:
//
//   Reading ──request complete──▶ Delaying ──delay_ms──▶ (head written)
//      ▲                             │ (delay 0: at once)     │
//      │                             ▼                        ▼
//      └──────── answer written ◀── Streaming ◀── stream request, chunks left
//
// Reading:   bytes are parsed; a complete request starts its answer (llhttp is paused right
//            after it, so pipelined requests wait their turn in `input_`).
// Delaying:  the timer holds the answer for delay_ms.
// Streaming: one content event per timer tick (chunk_delay_ms), then the tail.
// Closing:   uv_close was called on both handles; the object is deleted in the last close_cb.
#pragma once

#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <string>

namespace sluice::bench {

class MockServer;
struct CannedStream;

class MockConnection {
 public:
  enum class State : uint8_t { Reading, Delaying, Streaming, Closing };

  MockConnection(uv_loop_t* loop, MockServer* server);
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  // After uv_accept succeeded: starts reading.
  void start();
  // Closes both handles; deletes itself once both close callbacks ran.
  void close();

 private:
  // What the request asked for, decided once it is complete.
  enum class Answer : uint8_t { Completion, Stream, Tool, Stats, StatsReset, NotFound };

  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_timer(uv_timer_t* t);
  static void on_write(uv_write_t* req, int status);
  static void on_close(uv_handle_t* h);
  static int on_url(llhttp_t* p, const char* at, size_t len);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  // Parses buffered input while in Reading; starts the answer of a complete request.
  void process_input();
  void start_answer();
  void send_head();  // after the delay: the completion, or the stream head + first event
  // Streaming: waits chunk_delay_ms for the next event, or (all sent, or no delay) writes
  // whatever is left and the tail.
  void send_events();
  void send_next_event();  // the timer fired: one content event, then send_events()
  void finish_answer();
  // The pieces of the current stream, in the current request's dialect.
  const CannedStream& canned_stream() const;
  // Queues `n` static buffers (their storage must outlive the write: canned or owned_).
  void write(const uv_buf_t* bufs, unsigned n);

  uv_loop_t* loop_;
  MockServer* server_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  llhttp_t parser_;
  llhttp_settings_t settings_;
  State state_ = State::Reading;
  Answer answer_ = Answer::Completion;
  int open_handles_ = 2;  // tcp_ + timer_; delete this when it reaches 0
  std::string input_;     // received, not yet parsed bytes start at parsed_
  size_t parsed_ = 0;
  std::string url_;           // of the current request
  std::string body_;          // of the current request (to see "stream": true)
  bool keep_alive_ = true;    // of the current request
  bool messages_ = false;     // the current request is Anthropic's (POST .../messages)
  uint32_t events_sent_ = 0;  // content events written for the current stream
  std::string owned_;         // a non-static answer (/__stats), alive until the next one
  char read_buffer_[64 * 1024];
};

}  // namespace sluice::bench
