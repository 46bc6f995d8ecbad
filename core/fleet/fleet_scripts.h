// The Lua scripts that keep the fleet's limits in Redis (run with EVALSHA; RedisClient loads
// them again after a NOSCRIPT). Each runs atomically in Redis, so the read-decide-write of a
// limit never races another sidecar. Times come from Redis's own clock (TIME), so sidecars
// whose clocks disagree still drain the same bucket at the same rate.
//
// Keys (prefix = state.redis.key_prefix, default "sluice:"):
//   PREFIX members                  zset  member id → expiry (ms); a member is one worker
//   PREFIX instances                zset  instance id → expiry (ms); an instance is one process
//   PREFIX rate:AGENT:rpm | :tpm    hash  level (tokens used, draining), ts (ms of level)
//   PREFIX inflight:AGENT           hash  member id → concurrency slots it holds
//   PREFIX held:AGENT               hash  member id → USD of budget it holds for its requests
//   PREFIX spend:AGENT:PERIOD       hash  spender id → USD spent in PERIOD (day:N | month:N |
//                                         total), N the UTC day / month number
// Holdings of a member whose heartbeat expired are dropped by the next script that reads them,
// so a sidecar that dies holding slots or budget gives them back within the heartbeat TTL.
#pragma once

#include "core/redis/redis_client.h"

namespace sluice::fleet::scripts {

// beat(members, instances; member, instance, ttl_ms) → {members alive, instances alive}
const redis::RedisScript& beat();
// leave(members, instances; member, instance or "") → 1. A clean shutdown's last word.
const redis::RedisScript& leave();
// lease(bucket; limit, period_ms, want, need, adjust) → {granted, wait_ms, level}
//   Drains the bucket by the time since it was last touched, adds `adjust` (a member's debt
//   or refund since its last call; the level never goes below 0), then grants
//   min(want, room) — or nothing when that is less than `need`. wait_ms: when `need` (or one
//   token) would fit, if nothing was granted.
const redis::RedisScript& lease();
// hold(inflight, members; member, want, floor, limit) → {held, others}
//   Sets the member's slots to `want` when they fit beside the live members' (a decrease
//   always does), else to as many as fit but never fewer than `floor` (slots in use).
const redis::RedisScript& hold();
// budget(spend, held, members; spender, spent, member, want, floor, limit, spend_ttl_ms)
//   → {held, spent by all, held by others}, USD as strings
//   Records the spender's spend for the period (it only grows), then holds `want` USD for the
//   member when spent + everyone's holdings stay within the limit (a decrease always does).
const redis::RedisScript& budget();

}  // namespace sluice::fleet::scripts
