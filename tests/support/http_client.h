// A blocking HTTP/1.1 client for integration tests, written to see exactly what a user's
// client would see: raw bytes can be sent (pipelining, bad framing), one response is read at a
// time (Content-Length, chunked or close-delimited bodies), the connection is kept alive across
// requests, and a streamed body can be read event by event as it arrives. Every call is bounded
// by timeout(); nothing throws — a failure returns nullopt/false and error() says why.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/json.h"

namespace sluice::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::string reason;
  Headers headers;   // names lowercased, in arrival order
  std::string body;  // decoded (chunked framing removed)

  // The first value of a header ("" when absent); `name` in any case.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
  // The body as JSON (nullopt when it is not JSON).
  std::optional<Json> json() const;
  // "HTTP 200 OK" + headers + body (cut), for assertion messages.
  std::string describe() const;
};

struct SseEvent {
  std::string event;  // the `event:` field; "" when absent
  std::string data;   // `data:` lines joined with "\n"
  std::chrono::steady_clock::time_point arrived;
};

// A whole streamed response: its head, the events in order, and how the body ended.
struct StreamResult {
  std::optional<HttpResponse> head;  // nullopt: no response head at all (see error)
  std::vector<SseEvent> events;
  bool complete = false;  // the body's framing ended properly (last chunk / full length)
  std::string leftover;   // body bytes after the last complete event (a cut mid-event)
  std::string error;      // why reading stopped early; "" when complete
  std::chrono::steady_clock::time_point finished;  // when reading stopped
  std::string describe() const;
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&&) = delete;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Per-call bound for connect, send, and each read call.
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Opens a new connection (closing any current one).
  bool connect();
  bool connected() const { return fd_ >= 0; }
  void close();
  // How many connections this client has opened (keep-alive reuse shows as 1).
  int connects() const { return connects_; }
  const std::string& error() const { return error_; }

  // ---- raw use --------------------------------------------------------------------------
  bool send_raw(std::string_view bytes);
  // Reads one complete response from the connection.
  std::optional<HttpResponse> read_response();
  // Whatever raw bytes have arrived (waiting for some); nullopt on timeout/close. For exchanges
  // read_response() does not model, such as an interim 100 Continue before the body is sent.
  std::optional<std::string> read_raw_some();
  // Waits for the server to close the connection (FIN or RST), discarding nothing: bytes that
  // arrive meanwhile stay readable. True when it closed within `timeout`.
  bool wait_for_close(std::chrono::milliseconds timeout);
  // True once the peer reset the connection (ECONNRESET).
  bool was_reset() const { return reset_; }

  // ---- requests ---------------------------------------------------------------------------
  // Sends a request (reconnecting first when there is no live connection) and reads the
  // response. Adds Host, and Content-Length when there is a body or the method is POST.
  std::optional<HttpResponse> request(std::string_view method, std::string_view path,
                                      std::string_view body = {}, const Headers& headers = {});
  std::optional<HttpResponse> post_json(std::string_view path, std::string_view body,
                                        const Headers& headers = {});
  std::optional<HttpResponse> get(std::string_view path, const Headers& headers = {});

  // ---- streaming --------------------------------------------------------------------------
  // Sends a request and reads only the response head; then read_sse_event()/read_body_piece().
  std::optional<HttpResponse> start_request(std::string_view method, std::string_view path,
                                            std::string_view body, const Headers& headers);
  std::optional<HttpResponse> read_response_head();
  // The next decoded body bytes. nullopt at the end of the body (body_complete() true) or on
  // an error/timeout (error() set).
  std::optional<std::string> read_body_piece();
  bool body_complete() const { return body_state_ == BodyState::Done; }
  // The next server-sent event of the body; nullopt at the end of the body or on error.
  std::optional<SseEvent> read_sse_event();
  // Body bytes received after the last complete event.
  const std::string& sse_leftover() const { return sse_buffer_; }
  // POST + read every event until the body ends, the connection ends or a timeout.
  StreamResult stream_post(std::string_view path, std::string_view body,
                           const Headers& headers = {});

 private:
  // Where the reader is in the current response body. Rules: read_response_head() sets one of
  // Length/ChunkSize/UntilClose (or Done for an empty body); read_body_piece() walks the
  // chunk states and ends at Done, where the next read starts a new response head.
  enum class BodyState : uint8_t {
    Length,      // `remaining_` bytes left
    ChunkSize,   // expecting "<hex>[;ext]\r\n"
    ChunkData,   // `remaining_` bytes of chunk data left
    ChunkCrlf,   // expecting the "\r\n" after chunk data
    Trailers,    // expecting trailer lines until an empty one
    UntilClose,  // no framing: the body ends when the server closes
    Done,
  };

  using Clock = std::chrono::steady_clock;
  // Reads more bytes into buffer_; false on timeout, EOF or error (error_ says which).
  bool fill(Clock::time_point deadline);
  bool peer_closed_now();
  std::string build_request(std::string_view method, std::string_view path, std::string_view body,
                            const Headers& headers) const;

  std::string host_;
  uint16_t port_;
  int fd_ = -1;
  int connects_ = 0;
  bool eof_ = false;               // the server closed its side
  bool reset_ = false;             // ... with an RST
  bool close_after_body_ = false;  // the response said Connection: close
  bool head_pending_ = false;      // request() sent a request whose response head never came
  std::chrono::milliseconds timeout_{10'000};
  std::string error_;
  std::string buffer_;  // received, not yet consumed
  BodyState body_state_ = BodyState::Done;
  uint64_t remaining_ = 0;
  std::string sse_buffer_;
};

}  // namespace sluice::test
