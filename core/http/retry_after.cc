#include "core/http/retry_after.h"

#include <charconv>
#include <cstdint>
#include <ctime>
#include <string>

namespace sluice::http {
namespace {

// A day's worth is the most sluice would ever honour; bigger values are clamped, not refused.
constexpr int64_t kMaxMs = int64_t{86'400} * 1000;

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

std::optional<int64_t> whole_number(std::string_view v) {
  if (v.empty() || v.size() > 12) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 0) return std::nullopt;
  return n;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after_ms(std::string_view value) {
  value = trim(value);
  // OpenAI sends a decimal number of milliseconds ("1500" or "1500.5").
  const size_t dot = value.find('.');
  std::optional<int64_t> ms = whole_number(value.substr(0, dot));
  if (!ms) return std::nullopt;
  if (dot != std::string_view::npos) {
    std::string_view frac = value.substr(dot + 1);
    if (frac.empty() || frac.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    if (frac[0] >= '5') ++*ms;
  }
  return std::chrono::milliseconds(std::min(*ms, kMaxMs));
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (std::optional<int64_t> seconds = whole_number(value)) {
    return std::chrono::milliseconds(std::min(*seconds, kMaxMs / 1000) * 1000);
  }
  // IMF-fixdate, the only form a sender may generate: "Sun, 06 Nov 1994 08:49:37 GMT".
  if (value.size() != 29 || value.substr(25) != " GMT") return std::nullopt;
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (at <= now) return std::chrono::milliseconds(0);
  const auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  return std::chrono::milliseconds(std::min<int64_t>(delta.count(), kMaxMs));
}

}  // namespace sluice::http
