// Reading a provider's "come back later" hint: `retry-after-ms: 1500` (OpenAI's), or
// `retry-after: 2` (delta-seconds) or `retry-after: Sat, 21 Nov 2026 10:00:00 GMT` (HTTP-date,
// RFC 9110 §10.2.3). A date in the past reads as 0; anything unparseable as no hint.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace sluice::http {

// `now` is the wall clock the date form is compared with (injectable for tests).
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);
std::optional<std::chrono::milliseconds> parse_retry_after_ms(std::string_view value);

}  // namespace sluice::http
