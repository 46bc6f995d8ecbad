// What RedisClient remembers about a command written to Redis and not answered yet. Redis
// answers in order, so these sit in a FIFO (RedisClient::Impl::inflight_) and each reply is
// matched with the front entry — including the entries whose caller already got Timeout:
// they keep their place until their late reply comes and is dropped.
#pragma once

#include <cstdint>
#include <string>

#include "core/redis/redis_client.h"

namespace sluice::redis {

// A script the client has run (RedisClient keeps one per SHA-1, for its lifetime: a worker
// runs a handful of scripts), so that a NOSCRIPT can be answered with SCRIPT LOAD <source>.
struct ScriptSource {
  std::string source;
  bool loading = false;  // a SCRIPT LOAD of it is in flight: a second NOSCRIPT only re-sends
};

struct PendingCommand {
  enum class Kind : uint8_t {
    User,        // command() / eval(): `cb` gets the reply (or Timeout, Down, Closed)
    Setup,       // AUTH or SELECT while Connecting: an error reply or no answer → Down
    ScriptLoad,  // SCRIPT LOAD after a NOSCRIPT; the EVALSHA sent again follows it
  };
  Kind kind = Kind::User;
  bool retried = false;            // an EVALSHA already sent again after a NOSCRIPT: never twice
  uint64_t deadline_ms = 0;        // uv_now() by which Redis should have answered. Never earlier
                                   // than the entry before it's: the timer only looks at the front.
  RedisClient::Callback cb;        // User: empty once called (it timed out and waits for its reply)
  std::string evalsha;             // eval() only: the EVALSHA as encoded, to send again on NOSCRIPT
  ScriptSource* script = nullptr;  // eval() and ScriptLoad: the script's registry entry
  const char* setup = nullptr;     // Setup: "AUTH" or "SELECT", for last_error
};

}  // namespace sluice::redis
