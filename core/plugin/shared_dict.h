// SharedDict: the dictionary every worker shares (Lua's sluice.shared, the C host API's
// shared_* calls), kept for the life of the process — across reloads — like OpenResty's
// ngx.shared.DICT. Keys are strings; values are strings, numbers (double) or booleans; an
// entry may carry a TTL (seconds; expired entries read as missing and are reclaimed lazily
// and when room is needed).
//
// Bounded: at most max_entries entries and max_bytes bytes (keys + string values + a fixed
// per-entry overhead). A set/incr that would pass a bound first drops expired entries, then
// evicts the least recently used ones (as OpenResty's "forcible" set does) — it fails only when
// the one entry alone is larger than max_bytes or its key is longer than kMaxKeyBytes.
//
// Thread-safe: one mutex, held only for the map operation itself (never across a callback or
// an allocation of the caller's); every worker's hooks call it directly.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace sluice::plugin {

using SharedValue = std::variant<double, bool, std::string>;

class SharedDict {
 public:
  static constexpr size_t kDefaultMaxEntries = 100'000;
  static constexpr size_t kDefaultMaxBytes = size_t{64} << 20;
  static constexpr size_t kMaxKeyBytes = 4096;

  using Clock = std::chrono::steady_clock;

  SharedDict(size_t max_entries = kDefaultMaxEntries, size_t max_bytes = kDefaultMaxBytes);
  ~SharedDict();
  SharedDict(const SharedDict&) = delete;
  SharedDict& operator=(const SharedDict&) = delete;

  // The process's dictionary (what plugins use).
  static SharedDict& process();

  // nullopt: missing or expired.
  std::optional<SharedValue> get(std::string_view key);
  // ttl: nullopt or <= 0 = no expiry. false with *error ("key is empty", "key too long",
  // "value too large") when it cannot be stored; nothing changes then. Replaces the key's
  // value and expiry; may evict other entries (expired first, then least recently used).
  bool set(std::string_view key, SharedValue value, std::optional<double> ttl_seconds,
           std::string* error);
  // Adds `by` to a number (a missing or expired key counts from 0 and gets `ttl`; an existing
  // one keeps its expiry). nullopt with *error when the value is not a number ("not a
  // number"; the value is left as it was) or the key is refused as by set().
  std::optional<double> incr(std::string_view key, double by, std::optional<double> ttl_seconds,
                             std::string* error);
  // true if the key was there.
  bool remove(std::string_view key);

  // What is held now, expired entries not yet reclaimed included; bytes as counted against
  // max_bytes (keys + string values + a fixed overhead per entry).
  size_t entries() const;
  size_t bytes() const;

  // Tests: the clock the TTLs are measured with (nullptr: steady_clock again).
  void set_clock_for_test(Clock::time_point (*now)());

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace sluice::plugin
