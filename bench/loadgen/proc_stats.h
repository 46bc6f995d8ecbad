// What the bench reads about a proxy process from /proc (Linux): CPU time charged to it (user +
// system, in clock ticks — sysconf(_SC_CLK_TCK), usually 100 per second) and its memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace sluice::bench {

// utime + stime of every thread of `pid` (fields 14 and 15 of /proc/PID/stat), in ticks.
std::optional<uint64_t> cpu_ticks_of(pid_t pid);
// Clock ticks per second, for turning cpu_ticks_of into microseconds.
uint64_t ticks_per_second();
// The same CPU time at nanosecond resolution: the sum over /proc/PID/task/*/schedstat of the
// time each thread spent running. Threads that exit in between are not counted, so it is only
// used as a finer cross-check of cpu_ticks_of (a 10 ms tick is coarse for short windows).
std::optional<uint64_t> cpu_ns_of(pid_t pid);

struct MemoryUse {
  uint64_t rss_kib = 0;  // VmRSS: resident now
  uint64_t hwm_kib = 0;  // VmHWM: the peak resident size since the process started
};
std::optional<MemoryUse> memory_of(pid_t pid);

}  // namespace sluice::bench
