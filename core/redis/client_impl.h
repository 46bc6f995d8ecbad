// RedisClient::Impl: the connection state machine (client_state.h) over a socket of our own, with
// hiredis only encoding and parsing (reply_reader.h). The rules it keeps:
//
// - A caller's callback runs exactly once, never from inside command()/eval(): a command
//   refused at once (Down, Busy, Closed) is queued in deferred_ and answered from an idle
//   handle on the next loop turn. Everything else is answered from a libuv callback.
// - Every call out (a caller's callback, the Observer) may call command(), eval() or close().
//   So a call out is made only once the client's own bookkeeping is done, and afterwards the
//   code checks gen_ (bumped whenever the connection is dropped or the client closed) before
//   touching the connection again.
// - Handles (tcp_, the two timers, the idle handle) are freed only by their close callbacks;
//   close()'s `done` runs after the last of them (the idle handle, closed last so that commands
//   refused meanwhile are still answered).
// - Writes to a Redis that died fail with EPIPE, which assumes SIGPIPE is ignored in the
//   process (core/server/server.cc does so at start-up; the tests do it too).
// - Connecting (DNS, TCP, TLS, AUTH/SELECT) is bounded by hung_after: the Options have no
//   connect timeout of their own, and hung_after is already "how long Redis may not answer".
//
// The parts: redis_client.cc (construction, commands, the public class), client_connect.cc
// (DNS, TCP, TLS, AUTH/SELECT), client_io.cc (writes, reads, replies, NOSCRIPT),
// client_deadlines.cc (timeouts, hung), client_endings.cc (drop, close, close callbacks).
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/redis/pending_command.h"
#include "core/redis/redis_client.h"
#include "core/redis/reply_reader.h"
#include "core/upstream/dns_cache.h"
#include "core/upstream/read_buffer_pool.h"
#include "core/upstream/transport.h"

namespace sluice::redis {

struct RedisClient::Impl final : private upstream::DnsWaiter {
  using State = RedisClient::State;
  using Status = RedisResult::Status;

  // Where Connecting is (None outside Connecting): callbacks of an abandoned step are ignored.
  enum class Step : uint8_t { None, Resolving, TcpConnecting, Handshaking, SettingUp };

  // One flag word instead of many bools (HAProxy-style).
  enum Flag : uint16_t {
    kTcpOpen = 1 << 0,           // tcp_ initialized; its close callback has not run
    kTcpClosing = 1 << 1,        // uv_close(tcp_) issued
    kDeadlineOpen = 1 << 2,      // deadline_timer_ initialized, close callback not run
    kBackoffOpen = 1 << 3,       // backoff_timer_ likewise
    kIdleOpen = 1 << 4,          // idle_ likewise
    kIdleClosing = 1 << 5,       // uv_close(idle_) issued: the last step of close()
    kDnsBusy = 1 << 6,           // DnsCache::shutdown has not called back
    kWriteInFlight = 1 << 7,     // a uv_write has not called back
    kNextAddress = 1 << 8,       // tcp_ closing after a failed connect: try the next address
    kConnectWhenClosed = 1 << 9  // the backoff ended while tcp_ was still closing
  };

  Impl(uv_loop_t* loop, Options options, Observer observer);
  ~Impl();

  void command(std::span<const std::string_view> argv, Callback cb);
  void eval(const RedisScript& script, std::span<const std::string_view> keys,
            std::span<const std::string_view> args, Callback cb);
  void close(std::function<void()> done);

  // libuv callbacks
  static void on_connect_cb(uv_connect_t* req, int status);
  static void on_alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write_cb(uv_write_t* req, int status);
  static void on_plaintext_cb(void* arg, const char* data, size_t len);
  static void on_deadline_cb(uv_timer_t* t);
  static void on_backoff_cb(uv_timer_t* t);
  static void on_idle_cb(uv_idle_t* h);
  static void on_tcp_closed_cb(uv_handle_t* h);
  static void on_timer_closed_cb(uv_handle_t* h);
  static void on_idle_closed_cb(uv_handle_t* h);
  static void on_dns_idle(void* arg);

  // DnsWaiter
  void on_resolved(int status, std::span<const sockaddr_storage> addrs) override;

  // helpers
  static std::string uv_error_text(int err);  // "connection refused (ECONNREFUSED)"
  static RedisResult result_of(Status s);     // a result without a reply

  void set_state(State to);
  uint64_t now() const { return uv_now(loop_); }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  std::string where() const { return opt_.url.host + ":" + std::to_string(opt_.url.port); }
  void report(std::string_view kind) {
    if (obs_.on_error) obs_.on_error(kind);
  }

  // connecting
  void start_connect();
  void connect_next();
  void on_connected();
  void on_transport_ready();
  void on_setup_reply(const PendingCommand& p, const RedisReply& reply);
  void become_ready();

  // commands and replies
  Status admission() const;
  void defer(Callback cb, Status s);
  void push(PendingCommand p);
  void flush();
  void fail_soon(const char* kind, std::string detail);
  void on_bytes(const char* data, size_t len);
  void on_plaintext(const char* data, size_t len);
  void on_reply(RedisReply&& reply);
  void reload_and_retry(PendingCommand&& p);

  // timers and endings
  uint64_t next_deadline() const;
  void arm_timer();
  void on_deadline();
  void drop(const char* kind, std::string detail);
  void close_tcp();
  void maybe_finish_close();

  uv_loop_t* loop_;
  Options opt_;
  Observer obs_;
  State state_ = State::Connecting;
  Step step_ = Step::None;
  uint16_t flags_ = 0;
  uint64_t gen_ = 0;  // bumped by drop() and close(): "the connection I was serving is gone"
  std::string last_error_;
  std::chrono::milliseconds backoff_;  // the next reconnect's delay

  upstream::DnsCache dns_;
  upstream::ReadBufferPool buffers_;
  SSL_CTX* ssl_ctx_ = nullptr;  // rediss:// only; nullptr then means every connect fails
  std::string tls_error_;       // why ssl_ctx_ could not be made

  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  uv_write_t write_req_{};
  uv_timer_t deadline_timer_{};  // the connect deadline, then the oldest command's
  uv_timer_t backoff_timer_{};   // the next reconnect
  uv_idle_t idle_{};             // runs while deferred_ (or a failure for later) waits
  std::vector<sockaddr_storage> addrs_;
  size_t addr_index_ = 0;
  int last_connect_error_ = 0;
  uint64_t connect_deadline_ms_ = 0;

  std::unique_ptr<upstream::Transport> transport_;  // per connection, from TCP connect on
  std::unique_ptr<ReplyReader> reader_;             // per connection
  std::string out_;      // encoded commands not yet handed to the transport
  std::string writing_;  // what the write in flight holds (TCP writes from it, zero copy)
  uv_buf_t send_buf_{};  // the transport keeps a view of this (TCP) until take_output

  std::deque<PendingCommand> inflight_;  // written (or in out_), not answered, in order
  size_t timed_out_ = 0;  // inflight_'s first entries whose deadline passed (a prefix: deadlines
                          // never decrease along the queue)
  std::unordered_map<std::string, ScriptSource> scripts_;  // by SHA-1

  struct Deferred {
    Callback cb;
    Status status;
  };
  std::vector<Deferred> deferred_;  // answered by on_idle_cb, never by the call that queued them

  const char* failure_kind_ = nullptr;  // a failure found inside command(): dropped next turn
  std::string failure_detail_;
  uint64_t failure_gen_ = 0;

  std::function<void()> done_;  // close()'s callback
};

}  // namespace sluice::redis
