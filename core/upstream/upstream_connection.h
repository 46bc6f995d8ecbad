// UpstreamConnection: one TCP (optionally TLS) connection to a provider, carrying one exchange
// at a time (HTTP/1.1 keep-alive, no pipelining). Owns its uv_tcp_t and its single uv_timer_t
// (re-armed per state for the connect / first-byte / idle / total / keep-alive deadlines) and
// reports to its pool through ConnectionOwner. States and transitions: connection_state.h.
//
// Callbacks into the owner happen from libuv callbacks, or synchronously from open()/assign()
// when something fails at once; the pool defers sink calls in the latter case.
#pragma once

#include <openssl/ssl.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "core/upstream/connect_tunnel.h"
#include "core/upstream/connection_state.h"
#include "core/upstream/dns_cache.h"
#include "core/upstream/intrusive_list.h"
#include "core/upstream/read_buffer_pool.h"
#include "core/upstream/response_parser.h"
#include "core/upstream/transport.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::upstream {

class Exchange;
class UpstreamConnection;

// What every connection of a pool shares; owned by the pool, outlives its connections.
struct ConnectionSettings {
  uv_loop_t* loop = nullptr;
  std::string host;  // the provider's DNS name or IP literal (no brackets)
  uint16_t port = 0;
  bool tls = false;
  bool tls_verify = true;
  std::string tls_name;  // SNI and the name to verify: tls.server_name, else host
  bool tls_name_is_ip = false;
  SSL_CTX* ssl_ctx = nullptr;  // when tls; nullptr if it could not be made (connects fail)
  // Through an egress proxy: `dns` resolves the proxy, TCP goes to it, and the connection
  // sends `connect_request` (CONNECT host:port; it may hold Proxy-Authorization: never log it)
  // before anything else. Empty: direct.
  std::string connect_request;
  std::string proxy_label;     // "proxy proxy.corp:3128", for messages (no credentials)
  uint16_t dial_port = 0;      // the port TCP connects to: the proxy's, or `port`
  uint64_t connect_ms = 0;     // DNS + TCP (+ CONNECT) + TLS handshake
  uint64_t first_byte_ms = 0;  // request handed to the socket → first response byte
  uint64_t idle_ms = 0;        // between reads of a response; also the keep-alive idle limit
  DnsCache* dns = nullptr;
  ReadBufferPool* buffers = nullptr;
};

// The pool, as its connections see it.
class ConnectionOwner {
 public:
  // The connection is (again) ready for a request and has none: hand it one or keep it idle.
  virtual void on_connection_idle(UpstreamConnection* c) = 0;
  // The connection entered Closing: it no longer counts against max_connections.
  virtual void on_connection_closing(UpstreamConnection* c) = 0;
  // Every handle is closed: the owner deletes it now.
  virtual void on_connection_closed(UpstreamConnection* c) = 0;
  // The exchange's response completed; it is detached (the connection is idle or closing).
  virtual void on_exchange_done(Exchange* ex) = 0;
  // The exchange failed; it is detached and the connection is closing. Once assign() has run
  // the request may have reached the provider (DESIGN §10), so the owner never re-sends it on
  // its own: the failure goes to whoever started the exchange. `failure.detail` is valid
  // during the call only.
  virtual void on_exchange_failed(Exchange* ex, const Failure& failure) = 0;

 protected:
  ~ConnectionOwner() = default;
};

struct AllConnectionsTag;   // every connection the pool has not freed yet
struct IdleConnectionsTag;  // connections in state Idle

class UpstreamConnection final : public ListNode<AllConnectionsTag>,
                                 public ListNode<IdleConnectionsTag>,
                                 private DnsWaiter,
                                 private ResponseParser::Events {
 public:
  UpstreamConnection(const ConnectionSettings* settings, ConnectionOwner* owner);
  ~UpstreamConnection();  // only once Closed (after on_connection_closed)
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  // Resolving: starts DNS/connect, on behalf of `ex` (or of nobody if null).
  void open(Exchange* ex);
  // Idle only, just before assign(): checks that the server has not closed the connection in
  // the meantime (idle_probe.h). True: assign() may follow. False: the connection is closing
  // (silently; no request was written to it) and must not be used.
  bool verify_idle();
  // Idle → Writing: sends `ex`'s request.
  void assign(Exchange* ex);
  // The attached exchange is given up: it gets no more callbacks. A connection still being
  // set up carries on (and becomes idle); one carrying the request/response closes.
  void abandon_exchange();
  // The attached exchange's `paused` flag changed.
  void update_paused();
  // Closes now, silently (idle timeout, shutdown). No exchange may be attached.
  void close();
  // Like close(), but the attached exchange (if any) is detached and returned, for the pool
  // to fail it (shutdown).
  Exchange* close_and_detach();

  ConnState state() const { return state_; }
  bool has_exchange() const { return exchange_ != nullptr; }
  uint32_t exchanges_served() const { return served_; }

 private:
  // One flag word instead of many bools (HAProxy-style).
  enum Flag : uint16_t {
    kTcpOpen = 1 << 0,               // tcp_ initialized; its close callback has not run
    kTimerOpen = 1 << 1,             // timer_ initialized; its close callback has not run
    kReconnecting = 1 << 2,          // tcp_ closing so the next address gets a fresh handle
    kReading = 1 << 3,               // uv_read_start in effect
    kWriteInFlight = 1 << 4,         // a uv_write has not called back
    kRequestQueued = 1 << 5,         // request given to the transport, not yet in a uv_write
    kWriteCarriesRequest = 1 << 6,   // the write in flight holds (the end of) the request
    kRequestWritten = 1 << 7,        // the whole request reached the socket
    kResponseStarted = 1 << 8,       // a response byte arrived for the current exchange
    kCompleted = 1 << 9,             // the response ended during the read being processed
    kNotReusable = 1 << 10,          // bytes after the response, early answer...: close after
    kWriteCarriesConnect = 1 << 11,  // the write in flight is the CONNECT (not transport output)
  };
  static constexpr uint16_t kPerExchangeFlags = kRequestQueued | kWriteCarriesRequest |
                                                kRequestWritten | kResponseStarted | kCompleted |
                                                kNotReusable;

  struct Deadline {
    uint64_t at_ms;    // UINT64_MAX: none
    TimeoutKind kind;  // None with a finite deadline: the keep-alive idle limit
  };

  // libuv callbacks
  static void on_connect_cb(uv_connect_t* req, int status);
  static void on_alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write_cb(uv_write_t* req, int status);
  static void on_timer_cb(uv_timer_t* t);
  static void on_tcp_closed_cb(uv_handle_t* h);
  static void on_timer_closed_cb(uv_handle_t* h);
  static void on_plaintext_cb(void* arg, const char* data, size_t len);

  // DnsWaiter
  void on_resolved(int status, std::span<const sockaddr_storage> addrs) override;
  // ResponseParser::Events
  bool on_response_head(int status, std::span<const ResponseHeader> headers,
                        std::optional<uint64_t> content_length) override;
  bool on_response_body(const char* data, size_t len) override;

  void set_state(ConnState to);
  void attach(Exchange* ex);
  Exchange* detach();
  uint64_t now() const { return uv_now(s_->loop); }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  void connect_next();
  void reopen_tcp_for_next_address();
  void on_connected();
  void start_tunnel();
  void on_tunnel_bytes(const char* data, size_t len);
  void start_transport();
  void transport_ready();
  void become_idle();
  void begin_request();
  void flush_output();
  void on_write_error(int err);
  void on_bytes(const char* data, size_t len);
  void on_plaintext(const char* data, size_t len);
  void on_peer_closed(int err);
  void finish_exchange();
  void fail(FailureKind kind, TimeoutKind timeout);
  void fail_connect(TimeoutKind timeout = TimeoutKind::None);
  void update_reading();
  Deadline deadline() const;
  void arm_timer();
  void on_timer();
  void on_handle_closed();
  std::string describe_address(size_t index) const;

  const ConnectionSettings* s_;
  ConnectionOwner* owner_;
  ConnState state_ = ConnState::Resolving;
  uint16_t flags_ = 0;
  Exchange* exchange_ = nullptr;
  uint32_t served_ = 0;  // exchanges completed on this connection (> 0: it is a reused one)

  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  uv_write_t write_req_{};
  std::vector<sockaddr_storage> addrs_;  // from DNS; tried in order
  size_t addr_index_ = 0;                // the address being (or next to be) tried
  int last_connect_error_ = 0;

  std::unique_ptr<Transport> transport_;  // made once TCP (or the tunnel) is up
  std::unique_ptr<TunnelReply> tunnel_;   // in state Tunnelling only
  ResponseParser parser_;

  uint64_t connect_deadline_ms_ = 0;
  uint64_t write_started_ms_ = 0;    // request handed to the transport
  uint64_t request_written_ms_ = 0;  // whole request on the socket
  uint64_t last_read_ms_ = 0;        // last response bytes (or resume())
  uint64_t idle_since_ms_ = 0;       // entered Idle

  std::string detail_;  // text of the failure being reported (Failure::detail points here)
};

}  // namespace sluice::upstream
