#include "core/fleet/fleet_scripts.h"

namespace sluice::fleet::scripts {

namespace {

// Every script starts with Redis's clock in milliseconds.
#define SLUICE_NOW_MS              \
  "local t = redis.call('TIME')\n" \
  "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

// Sums the live members' entries of hash KEYS[h] except `me` (dropping the dead ones) and
// returns mine, others.
#define SLUICE_LIVE_HOLDINGS                                                         \
  "local function holdings(h, z, me)\n"                                              \
  "  local mine, others = 0, 0\n"                                                    \
  "  local f = redis.call('HGETALL', h)\n"                                           \
  "  for i = 1, #f, 2 do\n"                                                          \
  "    if f[i] == me then mine = tonumber(f[i + 1])\n"                               \
  "    else\n"                                                                       \
  "      local exp = redis.call('ZSCORE', z, f[i])\n"                                \
  "      if exp and tonumber(exp) > now then others = others + tonumber(f[i + 1])\n" \
  "      else redis.call('HDEL', h, f[i]) end\n"                                     \
  "    end\n"                                                                        \
  "  end\n"                                                                          \
  "  return mine, others\n"                                                          \
  "end\n"

// Growing takes only what fits beside the others (`room`), never less than `floor` (what the
// member's requests in flight already use); shrinking is always granted. What the member held
// before is not kept when it does not fit: it may be stale (a budget block shrinks locally by
// each settled cost before the next call says so).
#define SLUICE_GRANT                                   \
  "local function grant_of(want, floor, mine, room)\n" \
  "  local g = want\n"                                 \
  "  if want > mine and want > room then\n"            \
  "    g = room\n"                                     \
  "  end\n"                                            \
  "  if g < floor then g = floor end\n"                \
  "  if g < 0 then g = 0 end\n"                        \
  "  return g\n"                                       \
  "end\n"

}  // namespace

const redis::RedisScript& beat() {
  static const redis::RedisScript script(SLUICE_NOW_MS
                                         "local ttl = tonumber(ARGV[3])\n"
                                         "redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])\n"
                                         "redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])\n"
                                         "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
                                         "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)\n"
                                         "return {redis.call('ZCARD', KEYS[1]), "
                                         "redis.call('ZCARD', KEYS[2])}\n");
  return script;
}

const redis::RedisScript& leave() {
  static const redis::RedisScript script(
      "redis.call('ZREM', KEYS[1], ARGV[1])\n"
      "if ARGV[2] ~= '' then redis.call('ZREM', KEYS[2], ARGV[2]) end\n"
      "return 1\n");
  return script;
}

const redis::RedisScript& lease() {
  static const redis::RedisScript script(
      SLUICE_NOW_MS
      "local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
      "local want, need, adjust = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])\n"
      "local v = redis.call('HMGET', KEYS[1], 'level', 'ts')\n"
      "local level, ts = tonumber(v[1]) or 0, tonumber(v[2]) or now\n"
      "if now > ts then\n"
      "  level = level - (now - ts) * limit / period\n"
      "  if level < 0 then level = 0 end\n"
      "end\n"
      "level = level + adjust\n"
      "if level < 0 then level = 0 end\n"
      "local room = math.floor(limit - level)\n"
      "local granted = math.min(want, room)\n"
      "if granted < need or granted < 0 then granted = 0 end\n"
      "level = level + granted\n"
      "redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', now)\n"
      "redis.call('PEXPIRE', KEYS[1], period * 2)\n"
      "local wait = 0\n"
      "if granted == 0 then\n"
      "  local n = math.max(need, 1)\n"
      "  wait = math.ceil((level + n - limit) * period / limit)\n"
      "  if wait < 1 then wait = 1 end\n"
      "end\n"
      "return {granted, wait, math.floor(level)}\n");
  return script;
}

const redis::RedisScript& hold() {
  static const redis::RedisScript script(
      SLUICE_NOW_MS SLUICE_LIVE_HOLDINGS SLUICE_GRANT
      "local mine, others = holdings(KEYS[1], KEYS[2], ARGV[1])\n"
      "local want, floor, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
      "local held = grant_of(want, floor, mine, limit - others)\n"
      "if held > 0 then redis.call('HSET', KEYS[1], ARGV[1], held)\n"
      "else redis.call('HDEL', KEYS[1], ARGV[1]) end\n"
      "redis.call('PEXPIRE', KEYS[1], 86400000)\n"
      "return {held, others}\n");
  return script;
}

const redis::RedisScript& budget() {
  static const redis::RedisScript script(
      SLUICE_NOW_MS SLUICE_LIVE_HOLDINGS SLUICE_GRANT
      "local spent = tonumber(ARGV[2])\n"
      "local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')\n"
      "if spent > old then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end\n"
      "local total = 0\n"
      "local s = redis.call('HVALS', KEYS[1])\n"
      "for i = 1, #s do total = total + tonumber(s[i]) end\n"
      "local mine, others = holdings(KEYS[2], KEYS[3], ARGV[3])\n"
      "local want, floor, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])\n"
      "local held = grant_of(want, floor, mine, limit - total - others)\n"
      "if held > 0 then redis.call('HSET', KEYS[2], ARGV[3], tostring(held))\n"
      "else redis.call('HDEL', KEYS[2], ARGV[3]) end\n"
      "redis.call('PEXPIRE', KEYS[2], 86400000)\n"
      "local ttl = tonumber(ARGV[7])\n"
      "if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end\n"
      "return {tostring(held), tostring(total), tostring(others)}\n");
  return script;
}

}  // namespace sluice::fleet::scripts
