#include "core/metrics/provider_stats.h"

namespace sluice::metrics {

void ProviderCounters::count_failure(std::string_view error,
                                     std::chrono::system_clock::time_point at) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  consecutive_failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(error_mutex_);
  // assign() reuses the string's capacity: after the first failure this does not allocate.
  last_error_.assign(error.substr(0, kMaxErrorLength));
  last_error_at_ = at;
}

ProviderCountersView ProviderCounters::view() const {
  ProviderCountersView v;
  v.requests = requests_.load(std::memory_order_relaxed);
  v.failures = failures_.load(std::memory_order_relaxed);
  v.consecutive_failures = consecutive_failures_.load(std::memory_order_relaxed);
  std::lock_guard lock(error_mutex_);
  v.last_error = last_error_;
  v.last_error_at = last_error_at_;
  return v;
}

ProviderCounters* ProviderStats::get(std::string_view provider) {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(provider);
  if (it == by_name_.end()) {
    it = by_name_.emplace(std::string(provider), std::make_unique<ProviderCounters>()).first;
  }
  return it->second.get();
}

const ProviderCounters* ProviderStats::find(std::string_view provider) const {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(provider);
  return it == by_name_.end() ? nullptr : it->second.get();
}

}  // namespace sluice::metrics
