// The duration format of OpenAI's x-ratelimit-reset-requests / x-ratelimit-reset-tokens
// headers, which clients (and their retry logic) parse: Go's time.Duration text at millisecond
// precision — "250ms" under a second, else hours, minutes and seconds with the larger units
// written only when non-zero and every smaller one after them: "1s", "8.64s", "1m30s",
// "6m0s", "1h0m0s", "23h47m36.648s". Zero is "0s".
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace sluice::filters::rate_limit {

// Enough for any int64 millisecond count ("2562047788015h12m55.807s" is 25 bytes).
inline constexpr size_t kResetDurationMax = 32;

// Writes `d` (negative counts as 0) into `out` and returns a view of it.
std::string_view format_reset_duration(std::chrono::milliseconds d, char (&out)[kResetDurationMax]);

}  // namespace sluice::filters::rate_limit
