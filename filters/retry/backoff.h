// Backoff between two attempts on the same target: exponential with "full jitter" (AWS
// Architecture Blog, "Exponential Backoff And Jitter"): the n-th retry (retry_index n, from 0)
// waits a uniform random time in [0, min(max, base × 2^n)], then at least 1 ms. Jitter spreads
// the retries of many clients that failed together, so they do not return in lockstep; the
// 1 ms floor keeps a retry from being a tight loop when base is 0 or the draw is 0.
//
// The random numbers come from a per-thread xorshift64* generator seeded once per thread from
// std::random_device: no lock shared by the workers, a few instructions per draw. Not
// cryptographic, and need not be.
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice::filters::retry {

using Millis = std::chrono::milliseconds;

// The upper end of the n-th retry's wait: min(max, base × 2^retry_index), without overflow.
Millis backoff_ceiling(Millis base, Millis max, uint32_t retry_index);

// Maps a 64-bit random number onto [1 ms, max(1 ms, ceiling)]: the uniform draw in
// [0, ceiling], raised to the 1 ms floor. Pure, for tests.
Millis full_jitter(Millis ceiling, uint64_t random);

// The next number of the calling thread's generator.
uint64_t thread_random();

// full_jitter(backoff_ceiling(base, max, retry_index), thread_random()).
Millis jittered_backoff(Millis base, Millis max, uint32_t retry_index);

}  // namespace sluice::filters::retry
