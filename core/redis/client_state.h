// The life of a RedisClient connection, HAProxy-style: to_string for logs and tests, and the
// allowed transitions written down (and asserted) in one place.
//
//   Connecting ──► Ready ──► Down ──► Connecting ...      (backoff between Down and Connecting)
//        └───────────────────► Down
//   any state but Closed ──► Closed                         (close(); final)
#pragma once

#include "core/redis/redis_client.h"

namespace sluice::redis {

const char* to_string(RedisClient::State s);

// Whether `from → to` is a transition the client may make.
bool transition_allowed(RedisClient::State from, RedisClient::State to);

}  // namespace sluice::redis
