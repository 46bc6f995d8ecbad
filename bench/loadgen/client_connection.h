// ClientConnection: one keep-alive HTTP/1.1 connection of the load generator, one request at a
// time (no pipelining: a request waits for a free connection, and that wait counts in its
// latency). Responses are parsed with llhttp (Content-Length or chunked), so a proxy that frames
// differently from the mock is read the same way. State machine:
//
//   Closed ─connect()─▶ Connecting ─ok─▶ Idle ─send()─▶ Busy ─response complete─▶ Idle
//                           │                             │
//                           └── error / peer close ───────┴──▶ Closing ─close_cb─▶ Closed
//
// The owner hears about every transition that matters through ConnectionEvents, and reconnects
// a Closed connection itself (after a pause, so a dead server does not cause a busy loop).
#pragma once

#include <llhttp.h>
#include <netinet/in.h>
#include <uv.h>

#include <cstdint>
#include <string>

namespace sluice::bench {

class ClientConnection;

// How one request ended. Times are uv_hrtime() nanoseconds.
struct ResponseResult {
  int status = 0;
  uint64_t intended_ns = 0;    // when the schedule wanted it sent (latency starts here)
  uint64_t sent_ns = 0;        // when it was written
  uint64_t first_byte_ns = 0;  // first byte of the response
  uint64_t done_ns = 0;        // last byte of the response
  uint32_t sse_events = 0;     // "\n\n"-terminated events in the body
};

class ConnectionEvents {
 public:
  virtual ~ConnectionEvents() = default;
  virtual void on_idle(ClientConnection* c) = 0;  // connected, or a response completed
  virtual void on_response(ClientConnection* c, const ResponseResult& r) = 0;
  // The connection failed or was closed by the peer; `lost_request` if a request was in flight.
  virtual void on_closed(ClientConnection* c, bool lost_request, int error) = 0;
};

class ClientConnection {
 public:
  enum class State : uint8_t { Closed, Connecting, Idle, Busy, Closing };

  // `request` (the whole request bytes) must outlive the connection.
  ClientConnection(uv_loop_t* loop, const sockaddr_in& target, const std::string* request,
                   ConnectionEvents* events);
  State state() const { return state_; }
  void connect();
  // Idle only. Writes the request; latency is measured from intended_ns.
  void send(uint64_t intended_ns);
  void close();

 private:
  static void on_connect(uv_connect_t* req, int status);
  static void on_write(uv_write_t* req, int status);
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_close(uv_handle_t* h);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);
  void fail(int error);

  uv_loop_t* loop_;
  sockaddr_in target_;
  const std::string* request_;
  ConnectionEvents* events_;
  uv_tcp_t tcp_;
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  llhttp_t parser_;
  llhttp_settings_t settings_;
  State state_ = State::Closed;
  ResponseResult current_;
  bool message_done_ = false;  // set by on_message_complete during llhttp_execute
  bool prev_newline_ = false;  // body byte before this read was '\n' (events split across reads)
  int close_error_ = 0;
  bool lost_request_ = false;
  char read_buffer_[64 * 1024];
};

}  // namespace sluice::bench
