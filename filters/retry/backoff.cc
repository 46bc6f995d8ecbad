#include "filters/retry/backoff.h"

#include <algorithm>
#include <random>

namespace sluice::filters::retry {
namespace {

constexpr Millis kFloor{1};

uint64_t seed_for_this_thread() {
  uint64_t seed = 0;
  // random_device may throw when the platform has no entropy source; this runs on a worker's
  // first retry, where no exception may escape, so fall back to addresses and the clock.
  try {
    std::random_device device;
    seed = (static_cast<uint64_t>(device()) << 32) ^ device();
  } catch (...) {
    int local = 0;
    seed = reinterpret_cast<uintptr_t>(&local) ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return seed != 0 ? seed : 0x9E3779B97F4A7C15ull;  // xorshift's state must not be 0
}

}  // namespace

Millis backoff_ceiling(Millis base, Millis max, uint32_t retry_index) {
  Millis ceiling = std::min(base, max);
  // Doubling stops at the cap (and 0 stays 0), so no product can overflow.
  for (uint32_t i = 0; i < retry_index && ceiling < max && ceiling.count() > 0; ++i) {
    ceiling = std::min(ceiling * 2, max);
  }
  return ceiling;
}

Millis full_jitter(Millis ceiling, uint64_t random) {
  if (ceiling <= kFloor) return kFloor;
  const uint64_t span = static_cast<uint64_t>(ceiling.count()) + 1;  // [0, ceiling] inclusive
  // Modulo bias is below span / 2^64: far under a millisecond's worth for any real ceiling.
  return std::max(kFloor, Millis(static_cast<Millis::rep>(random % span)));
}

uint64_t thread_random() {
  thread_local uint64_t state = seed_for_this_thread();
  // xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift generators").
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1Dull;
}

Millis jittered_backoff(Millis base, Millis max, uint32_t retry_index) {
  return full_jitter(backoff_ceiling(base, max, retry_index), thread_random());
}

}  // namespace sluice::filters::retry
