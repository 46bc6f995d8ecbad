// LabelCache: a per-worker map from a tuple of label values to something resolved from them
// (a prometheus child, a ProviderCounters*). Lookups take string_views and neither allocate
// nor lock (C++20 heterogeneous lookup on std::unordered_map); only the first sight of a label
// set copies its strings. Bounded: label values come partly from clients (status, and the
// model an agent asks for), so past `capacity` entries insert() refuses and the caller falls
// back to the uncached path instead of growing without limit.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::metrics {

template <size_t N>
using LabelValues = std::array<std::string_view, N>;

template <size_t N, typename Value>
class LabelCache {
 public:
  explicit LabelCache(size_t capacity) : capacity_(capacity) {}
  // Not copied or moved: last_ points into this cache's own map.
  LabelCache(const LabelCache&) = delete;
  LabelCache& operator=(const LabelCache&) = delete;

  // The cached value, or nullptr if this label set was not inserted.
  //
  // The entry found last is tried first: a worker mostly sees the same agent, model and
  // provider request after request, and comparing a few short strings costs far less than
  // hashing them (bench/profile.sh). Entries are never erased and unordered_map nodes do not
  // move on rehash, so the pointer stays valid.
  Value* find(const LabelValues<N>& labels) {
    if (last_ != nullptr && equal_views(last_->first, labels)) return &last_->second;
    auto it = map_.find(labels);
    if (it == map_.end()) return nullptr;
    last_ = &*it;
    return &it->second;
  }

  // Caches `value` for `labels`; returns nullptr (and caches nothing) when full.
  Value* insert(const LabelValues<N>& labels, Value value) {
    if (map_.size() >= capacity_) return nullptr;
    Key key;
    for (size_t i = 0; i < N; ++i) key[i] = std::string(labels[i]);
    last_ = &*map_.emplace(std::move(key), std::move(value)).first;
    return &last_->second;
  }

  size_t size() const { return map_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  using Key = std::array<std::string, N>;

  struct Hash {
    using is_transparent = void;
    size_t operator()(const LabelValues<N>& v) const {
      size_t h = 0;
      for (std::string_view part : v) {
        // boost::hash_combine's mixing step: order-sensitive, cheap.
        h ^= std::hash<std::string_view>{}(part) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
      }
      return h;
    }
    size_t operator()(const Key& k) const { return (*this)(views(k)); }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(const Key& a, const Key& b) const { return a == b; }
    bool operator()(const Key& a, const LabelValues<N>& b) const { return views(a) == b; }
    bool operator()(const LabelValues<N>& a, const Key& b) const { return a == views(b); }
  };
  static bool equal_views(const Key& k, const LabelValues<N>& v) {
    for (size_t i = 0; i < N; ++i) {
      if (std::string_view(k[i]) != v[i]) return false;
    }
    return true;
  }
  static LabelValues<N> views(const Key& k) {
    LabelValues<N> v;
    for (size_t i = 0; i < N; ++i) v[i] = k[i];
    return v;
  }

  size_t capacity_;
  std::unordered_map<Key, Value, Hash, Equal> map_;
  typename std::unordered_map<Key, Value, Hash, Equal>::value_type* last_ = nullptr;
};

}  // namespace sluice::metrics
