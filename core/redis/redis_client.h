// RedisClient: one connection to Redis on a worker's libuv loop (DESIGN §3: one per worker),
// used by core/fleet to keep limits and budgets shared by every sidecar.
//
// Why not hiredis's own async connection with its libuv adapter: Debian's hiredis (0.14) has
// no TLS, no command timeout, and resolves host names with a blocking getaddrinfo on the
// caller's thread. So the socket is ours — uv_tcp_t, the upstream Transport (plain or TLS,
// core/upstream/transport.h) and uv_getaddrinfo (DnsCache) — and hiredis does the protocol:
// redisFormatCommandArgv encodes commands, a redisReader parses replies. docs/fleet.md says so.
//
// The connection's life (State; every transition is logged once, at info or warn):
//   Connecting — resolving, TCP connect, TLS handshake, then AUTH and SELECT pipelined. Ready
//                when every set-up reply came back OK; a refused AUTH/SELECT → Down.
//   Ready      — commands are written at once and answered in order.
//   Down       — the socket is closed (connect failed, peer closed, protocol error, set-up
//                refused, a command overdue by more than hung_after). A reconnect is tried
//                after a backoff that doubles from backoff_min to backoff_max (reset by Ready).
//                Commands issued while Down fail at once with Status::Down (never queued: the
//                caller decides what a missing answer means — state.redis.on_failure).
//   Closed     — close() was called; nothing more happens; the owner frees the client from
//                close()'s callback (uv handles are freed only in their close callbacks).
//
// Every command has a deadline (Options::timeout). A command not answered by then completes
// with Status::Timeout at once; its reply, if it comes later, is read and dropped (replies
// come in order, so the connection stays usable). If the oldest unanswered command is overdue
// by more than hung_after, Redis is taken for hung: the connection is dropped (→ Down).
// At most max_pending commands are unanswered at once; more fail at once with Status::Busy.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/redis_url.h"

namespace sluice::redis {

// state.redis.url, parsed at config load (core/config/redis_url.h).
using RedisUrl = config::RedisUrl;

// A reply, owned (copied out of hiredis's reader).
struct RedisReply {
  enum class Type : uint8_t { Nil, Integer, String, Status, Error, Array };
  Type type = Type::Nil;
  int64_t integer = 0;
  std::string str;  // String, Status, Error (the whole message, e.g. "NOSCRIPT No matching…")
  std::vector<RedisReply> elements;  // Array
};

struct RedisResult {
  enum class Status : uint8_t {
    Ok,       // `reply` holds Redis's answer (which may itself be an Error reply)
    Timeout,  // no answer within Options::timeout
    Down,     // not connected (or the connection dropped before the answer)
    Busy,     // max_pending commands already unanswered
    Closed,   // close() was called before the answer
  };
  Status status = Status::Down;
  RedisReply reply;
  bool ok() const { return status == Status::Ok && reply.type != RedisReply::Type::Error; }
};
const char* to_string(RedisResult::Status s);  // "ok" | "timeout" | "down" | "busy" | "closed"

// A Lua script run with EVALSHA; its SHA-1 is computed once from the source.
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }  // 40 lowercase hex digits

 private:
  std::string source_;
  std::string sha1_;
};

class RedisClient {
 public:
  enum class State : uint8_t { Connecting, Ready, Down, Closed };

  struct Options {
    RedisUrl url;
    std::chrono::milliseconds timeout{50};  // per command (state.redis.timeout)
    std::chrono::milliseconds hung_after{1000};
    std::chrono::milliseconds backoff_min{100};
    std::chrono::milliseconds backoff_max{5000};
    size_t max_pending = 4096;
  };

  // What the owner hears about the connection (for sluice_redis_up / _errors_total, /status).
  // Called on the loop; may be empty.
  struct Observer {
    std::function<void(State)> on_state;             // every transition
    std::function<void(std::string_view)> on_error;  // kind: "connect" | "timeout" | "reply" |
                                                     // "protocol" | "noscript" | "auth"
  };

  using Callback = std::function<void(RedisResult&&)>;

  // Starts connecting at once. `loop` must outlive the client.
  RedisClient(uv_loop_t* loop, Options options, Observer observer = {});
  ~RedisClient();  // only after close()'s callback ran (or if never started)
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Any command: argv[0] is the command name. `cb` is called exactly once, on the loop, never
  // from inside command() itself (a command failing at once is reported on the next loop turn).
  void command(std::span<const std::string_view> argv, Callback cb);
  // EVALSHA script.sha1 numkeys keys... args...; on a NOSCRIPT error (a flushed or restarted
  // Redis) the script is loaded (SCRIPT LOAD) and the call made once more, transparently.
  void eval(const RedisScript& script, std::span<const std::string_view> keys,
            std::span<const std::string_view> args, Callback cb);

  State state() const;
  // Why the last connection attempt or connection failed ("" while Ready).
  const std::string& last_error() const;

  // Fails every unanswered command with Status::Closed, closes the socket and timers, then
  // calls `done` (on the loop); the client may be deleted from `done`.
  void close(std::function<void()> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::redis
