// UpstreamPool: one per (worker, provider). Keep-alive HTTP/1.1 connections to one provider,
// plain TCP or TLS (OpenSSL: SNI, verification against the system store or the provider's
// tls.ca_file unless tls_verify is false, a client certificate for mTLS), direct or tunnelled
// through an HTTP CONNECT proxy (provider.proxy), DNS through uv_getaddrinfo with a cache, the
// provider's timeouts (connect, first_byte, idle, total) and max_connections (requests beyond it
// wait in a bounded queue). Lives on one worker loop; not thread-safe by design (DESIGN §2: each
// worker owns its pools).
#pragma once

#include <uv.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/config/config.h"
#include "core/http/request.h"

namespace sluice::upstream {

// What ended an exchange without a complete response. Retry (issue 5) keys off these.
enum class FailureKind : uint8_t {
  ConnectFailure,  // DNS, refused, unreachable, connect timeout, TLS handshake/verify failure
  Reset,           // connection closed/reset before the response completed
  Timeout,         // first_byte, idle or total timeout (see Failure::timeout)
  Protocol,        // unparseable response
  Overloaded,      // pool queue full or waited too long for a connection
};
enum class TimeoutKind : uint8_t { None, Connect, FirstByte, Idle, Total };

struct Failure {
  FailureKind kind;
  TimeoutKind timeout = TimeoutKind::None;
  const char* detail = "";  // static or pool-owned string, valid during the callback
};
const char* to_string(FailureKind k);  // "connect_failure", "reset", ... (retry_on spelling)
const char* to_string(TimeoutKind k);  // "none", "connect", "first_byte", "idle", "total"

// The same {name, value} view a request header is, so filters read both alike.
using ResponseHeader = http::HeaderView;

// Implemented by whoever started the exchange (the proxy session). Exactly one of
// on_done / on_failure ends an exchange; no callback comes after it, or after abort().
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Status and headers; views are valid during the call only. Hop-by-hop headers and
  // Transfer-Encoding/Content-Length are already removed; content_length tells the framing.
  virtual void on_upstream_head(int status, std::span<const ResponseHeader> headers,
                                std::optional<uint64_t> content_length) = 0;
  // Decoded body bytes (chunked framing removed), in order; valid during the call only.
  virtual void on_upstream_body(const char* data, size_t len) = 0;
  virtual void on_upstream_done() = 0;
  virtual void on_upstream_failure(const Failure& failure) = 0;
};

class Exchange;  // opaque; owned by the pool

// Pool settings that config::Provider does not carry.
struct PoolOptions {
  // A PEM bundle trusted instead of the system store when tls_verify is on (unit tests).
  // Empty: the provider's tls.ca_file contents, else the system store.
  std::string tls_ca_file;
};

class UpstreamPool {
 public:
  // Copies what it needs from `provider` (url, tls_verify, timeouts, max_connections).
  // For an https provider, the first pool in the process loads the system trust store
  // (~100ms of CPU; shared by every later pool): make it at start-up, not on a busy loop.
  UpstreamPool(uv_loop_t* loop, const config::Provider& provider);
  UpstreamPool(uv_loop_t* loop, const config::Provider& provider, const PoolOptions& options);
  ~UpstreamPool();  // only after shutdown() completed
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // Sends `request` (the complete HTTP/1.1 request: head and body, possibly in several
  // buffers). The buffers must stay valid until the exchange ends (on_done/on_failure/abort);
  // the span itself (the uv_buf_t array) is copied. Never calls the sink synchronously from
  // inside start(). A request beginning "HEAD " gets a response without a body.
  // The returned Exchange* is valid until on_upstream_done/on_upstream_failure has been
  // called or abort() returned; after that it is recycled: do not abort/pause/resume it.
  Exchange* start(std::span<const uv_buf_t> request, ResponseSink* sink);
  // The caller gives up (client gone, deadline): no more callbacks; the connection is closed
  // unless the response had already completed. May be called from inside a sink callback.
  // A connection still being set up for it is kept (it becomes idle, for the next request).
  void abort(Exchange* exchange);
  // Back-pressure: stop / resume reading the response of this exchange. At most the bytes of
  // the read being processed (one 64 KiB buffer) still arrive after pause(). While paused the
  // idle timeout does not run (the wait is the client's, not the upstream's); total does.
  void pause(Exchange* exchange);
  void resume(Exchange* exchange);

  // Close idle connections; fail queued requests (Overloaded) and exchanges in flight
  // (Reset, "upstream pool shut down") on the next loop turn; call `done` once every handle
  // is closed and every failure delivered (then uv_loop_close can succeed, and the pool may
  // be deleted from inside `done`). A start() before `done` (say, a retry from inside a
  // failure callback) fails with Overloaded; none may come after `done`.
  void shutdown(void (*done)(void* arg), void* arg);

  size_t idle_connections() const;    // in the keep-alive pool
  size_t active_connections() const;  // connecting or carrying an exchange

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace sluice::upstream
