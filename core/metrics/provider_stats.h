// ProviderStats: per-provider request/failure counters for GET /status (DESIGN §6).
// Keyed by provider name so the numbers survive config reloads (DESIGN §3). An entry is
// registered once, on first sight of a name (under a mutex), and never removed, so the
// pointer a worker caches stays valid for the life of the process; after that, updates are
// lock-free atomics. Only recording a failure's text takes the entry's own small mutex —
// failures are the rare path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::metrics {

// What /status shows for one provider, copied out at one moment.
struct ProviderCountersView {
  uint64_t requests = 0;
  uint64_t failures = 0;
  // Failures since the last success: the recent error signal (requests and failures count
  // since start and never decay, so their ratio cannot say "failing now").
  uint32_t consecutive_failures = 0;
  std::string last_error;  // "" = none yet
  std::optional<std::chrono::system_clock::time_point> last_error_at;
};

class ProviderCounters {
 public:
  void count_request() { requests_.fetch_add(1, std::memory_order_relaxed); }
  // A failed exchange with this provider; `error` is a short code or message (truncated).
  void count_failure(std::string_view error, std::chrono::system_clock::time_point at);
  // An exchange that did not fail: ends a run of failures. A load and, only after a failure,
  // a store: on the request path this costs no write to a shared cache line.
  void count_success() {
    if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
      consecutive_failures_.store(0, std::memory_order_relaxed);
    }
  }
  ProviderCountersView view() const;

 private:
  static constexpr size_t kMaxErrorLength = 120;

  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint32_t> consecutive_failures_{0};  // since the last count_success()
  mutable std::mutex error_mutex_;                 // guards the two fields below
  std::string last_error_;
  std::optional<std::chrono::system_clock::time_point> last_error_at_;
};

class ProviderStats {
 public:
  // The counters for `provider`, created on first call. Thread-safe; the pointer is stable.
  ProviderCounters* get(std::string_view provider);
  // The counters if the provider was ever seen, else nullptr (for /status).
  const ProviderCounters* find(std::string_view provider) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<ProviderCounters>, std::less<>> by_name_;
};

}  // namespace sluice::metrics
