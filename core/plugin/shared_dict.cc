// SharedDict: a hash map for lookups, an LRU list for eviction order and an expiry index for
// reclaiming expired entries first. The rules, as every write applies them:
//   1. A request that can never fit (key too long or empty, one entry larger than max_bytes)
//      fails before anything changes.
//   2. The old entry of the key (if any) goes first, so it never counts against the new one.
//   3. While the new entry would pass max_entries or max_bytes: drop the entry that expires
//      soonest if it has expired, else the least recently used one (the LRU tail).
//   4. Each write also drops up to kExpiredPerWrite already expired entries (bounded work), so
//      expired entries do not sit in the byte count for ever when the dictionary is not full.
// get() and incr() of a live key make it the most recently used; an expired key reads as
// missing and is dropped on the spot.
//
// Lock scope: entries are built (key and value copied) before the mutex is taken and handed
// over by splicing list nodes; dropped entries are spliced out and freed after it is released.
#include "core/plugin/shared_dict.h"

#include <cmath>
#include <list>
#include <map>
#include <unordered_map>

namespace sluice::plugin {
namespace {

// Per-entry bytes counted on top of key and string value: the list node, the hash map node,
// the expiry index node and the variant (about what they cost on a 64-bit build).
constexpr size_t kEntryOverhead = 128;
// Rule 4: expired entries dropped by each write, whether or not room is needed.
constexpr int kExpiredPerWrite = 3;
// A TTL longer than this (about 31 years) is read as "no expiry" (and cannot overflow).
constexpr double kMaxTtlSeconds = 1e9;

size_t cost_of(std::string_view key, const SharedValue& value) {
  const auto* s = std::get_if<std::string>(&value);
  return kEntryOverhead + key.size() + (s != nullptr ? s->size() : 0);
}

SharedDict::Clock::time_point system_now() {
  return SharedDict::Clock::now();
}

}  // namespace

struct SharedDict::Impl {
  struct Entry;
  using EntryList = std::list<Entry>;
  using ExpiryIndex = std::multimap<Clock::time_point, EntryList::iterator>;

  struct Entry {
    std::string key;  // the map's string_view key points here (list nodes never move)
    SharedValue value;
    size_t cost = 0;                    // what it counts against max_bytes (cost_of)
    bool expires = false;               // false: no TTL (expiry_it is unset)
    Clock::time_point expires_at{};     // valid when `expires`
    ExpiryIndex::iterator expiry_it{};  // its node in `expiry` when `expires`
  };

  Impl(size_t max_entries_in, size_t max_bytes_in)
      : max_entries(max_entries_in > 0 ? max_entries_in : 1), max_bytes(max_bytes_in) {}

  // All below: called with `mutex` held. Dropped entries go to `garbage` (freed by the
  // caller after unlocking).
  EntryList::iterator find_live(std::string_view key, Clock::time_point now, EntryList& garbage);
  void drop(EntryList::iterator it, EntryList& garbage);
  void drop_expired(Clock::time_point now, int at_most, EntryList& garbage);
  void make_room(size_t cost, Clock::time_point now, EntryList& garbage);
  void insert(EntryList& fresh, Clock::time_point now, EntryList& garbage);
  void touch(EntryList::iterator it) { lru.splice(lru.begin(), lru, it); }
  // incr() on a live key: adds `by` (Added, *out = the new value) unless it is not a number.
  enum class Bump : uint8_t { Missing, Added, NotANumber };
  Bump bump(std::string_view key, double by, Clock::time_point now, EntryList& garbage,
            double* out);

  const size_t max_entries;
  const size_t max_bytes;
  mutable std::mutex mutex;
  EntryList lru;  // front = most recently used
  std::unordered_map<std::string_view, EntryList::iterator> map;
  ExpiryIndex expiry;  // entries with a TTL, soonest first
  size_t bytes = 0;    // sum of cost over `lru`
  Clock::time_point (*now)() = &system_now;
};

SharedDict::Impl::EntryList::iterator SharedDict::Impl::find_live(std::string_view key,
                                                                  Clock::time_point t,
                                                                  EntryList& garbage) {
  auto found = map.find(key);
  if (found == map.end()) return lru.end();
  EntryList::iterator it = found->second;
  if (it->expires && it->expires_at <= t) {
    drop(it, garbage);
    return lru.end();
  }
  return it;
}

SharedDict::Impl::Bump SharedDict::Impl::bump(std::string_view key, double by, Clock::time_point t,
                                              EntryList& garbage, double* out) {
  auto it = find_live(key, t, garbage);
  if (it == lru.end()) return Bump::Missing;
  double* number = std::get_if<double>(&it->value);
  if (number == nullptr) return Bump::NotANumber;
  *number += by;
  *out = *number;
  touch(it);
  return Bump::Added;
}

void SharedDict::Impl::drop(EntryList::iterator it, EntryList& garbage) {
  map.erase(std::string_view(it->key));
  if (it->expires) expiry.erase(it->expiry_it);
  bytes -= it->cost;
  garbage.splice(garbage.end(), lru, it);
}

void SharedDict::Impl::drop_expired(Clock::time_point t, int at_most, EntryList& garbage) {
  while (at_most-- > 0 && !expiry.empty() && expiry.begin()->first <= t) {
    drop(expiry.begin()->second, garbage);
  }
}

void SharedDict::Impl::make_room(size_t cost, Clock::time_point t, EntryList& garbage) {
  drop_expired(t, kExpiredPerWrite, garbage);
  while (!lru.empty() && (lru.size() + 1 > max_entries || bytes + cost > max_bytes)) {
    if (!expiry.empty() && expiry.begin()->first <= t) {
      drop(expiry.begin()->second, garbage);
    } else {
      drop(std::prev(lru.end()), garbage);
    }
  }
}

// `fresh` holds one entry whose key is not in the map and whose cost fits max_bytes.
void SharedDict::Impl::insert(EntryList& fresh, Clock::time_point t, EntryList& garbage) {
  make_room(fresh.front().cost, t, garbage);
  lru.splice(lru.begin(), fresh, fresh.begin());
  EntryList::iterator it = lru.begin();
  map.emplace(std::string_view(it->key), it);
  if (it->expires) it->expiry_it = expiry.emplace(it->expires_at, it);
  bytes += it->cost;
}

SharedDict::SharedDict(size_t max_entries, size_t max_bytes)
    : impl_(new Impl(max_entries, max_bytes)) {}

SharedDict::~SharedDict() {
  delete impl_;
}

SharedDict& SharedDict::process() {
  // Never destroyed: workers may still touch it while the process exits.
  static SharedDict* dict = new SharedDict();
  return *dict;
}

std::optional<SharedValue> SharedDict::get(std::string_view key) {
  Impl::EntryList garbage;  // destroyed after the lock is released
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->find_live(key, impl_->now(), garbage);
  if (it == impl_->lru.end()) return std::nullopt;
  impl_->touch(it);
  return it->value;
}

namespace {

bool check_key(std::string_view key, std::string* error) {
  const char* why = nullptr;
  if (key.empty()) {
    why = "key is empty";
  } else if (key.size() > SharedDict::kMaxKeyBytes) {
    why = "key too long";
  }
  if (why == nullptr) return true;
  if (error != nullptr) *error = why;
  return false;
}

// Sets `expires`/`expires_at` from a TTL in seconds (nullopt, <= 0, NaN or huge: none).
template <typename Entry>
void apply_ttl(Entry& e, std::optional<double> ttl_seconds, SharedDict::Clock::time_point t) {
  e.expires = false;
  if (!ttl_seconds || !(*ttl_seconds > 0) || *ttl_seconds > kMaxTtlSeconds) return;
  e.expires = true;
  e.expires_at = t + std::chrono::duration_cast<SharedDict::Clock::duration>(
                         std::chrono::duration<double>(*ttl_seconds));
}

}  // namespace

bool SharedDict::set(std::string_view key, SharedValue value, std::optional<double> ttl_seconds,
                     std::string* error) {
  if (!check_key(key, error)) return false;
  const size_t cost = cost_of(key, value);
  if (cost > impl_->max_bytes) {
    if (error != nullptr) *error = "value too large";
    return false;
  }
  // Built before locking: the copies of key and value happen outside the mutex.
  Impl::EntryList fresh;
  fresh.emplace_back();
  Impl::Entry& e = fresh.front();
  e.key.assign(key);
  e.value = std::move(value);
  e.cost = cost;

  Impl::EntryList garbage;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const Clock::time_point t = impl_->now();
  apply_ttl(e, ttl_seconds, t);
  if (auto found = impl_->map.find(key); found != impl_->map.end()) {
    impl_->drop(found->second, garbage);
  }
  impl_->insert(fresh, t, garbage);
  return true;
}

std::optional<double> SharedDict::incr(std::string_view key, double by,
                                       std::optional<double> ttl_seconds, std::string* error) {
  if (!check_key(key, error)) return std::nullopt;
  Impl::EntryList garbage;  // destroyed after every lock below is released
  double result = 0;
  Impl::Bump bumped;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    bumped = impl_->bump(key, by, impl_->now(), garbage, &result);
  }
  if (bumped == Impl::Bump::Missing) {
    // A new entry counting from 0, built unlocked, then looked up again: another thread may
    // have created the key meanwhile (then that one is incremented instead).
    Impl::EntryList fresh;
    fresh.emplace_back();
    Impl::Entry& e = fresh.front();
    e.key.assign(key);
    e.value = by;
    e.cost = cost_of(key, e.value);
    if (e.cost > impl_->max_bytes) {
      if (error != nullptr) *error = "value too large";
      return std::nullopt;
    }
    std::lock_guard<std::mutex> lock(impl_->mutex);
    const Clock::time_point t = impl_->now();
    bumped = impl_->bump(key, by, t, garbage, &result);
    if (bumped == Impl::Bump::Missing) {
      apply_ttl(e, ttl_seconds, t);
      impl_->insert(fresh, t, garbage);
      return by;
    }
  }
  if (bumped == Impl::Bump::NotANumber) {
    if (error != nullptr) *error = "not a number";
    return std::nullopt;
  }
  return result;
}

bool SharedDict::remove(std::string_view key) {
  Impl::EntryList garbage;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->find_live(key, impl_->now(), garbage);
  if (it == impl_->lru.end()) return false;
  impl_->drop(it, garbage);
  return true;
}

size_t SharedDict::entries() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->lru.size();
}

size_t SharedDict::bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->bytes;
}

void SharedDict::set_clock_for_test(Clock::time_point (*now)()) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->now = now != nullptr ? now : &system_now;
}

}  // namespace sluice::plugin
