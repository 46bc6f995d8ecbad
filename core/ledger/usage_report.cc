#include "core/ledger/usage_report.h"

#include <ctime>

#include "core/config/node_reader.h"

namespace sluice::ledger {

const char* to_string(UsageBy by) {
  switch (by) {
    case UsageBy::Agent:
      return "agent";
    case UsageBy::Model:
      return "model";
    case UsageBy::Provider:
      return "provider";
    case UsageBy::Tool:
      return "tool";
  }
  return "agent";
}

std::optional<UsageBy> parse_usage_by(std::string_view text) {
  for (UsageBy by : {UsageBy::Agent, UsageBy::Model, UsageBy::Provider, UsageBy::Tool}) {
    if (text == to_string(by)) return by;
  }
  return std::nullopt;
}

std::optional<int64_t> since_unix_ms(std::string_view duration, int64_t now_unix_ms) {
  auto d = config::parse_duration(duration);
  if (!d) return std::nullopt;
  const int64_t back = d->count();
  return back >= now_unix_ms ? 0 : now_unix_ms - back;
}

std::string format_utc(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace sluice::ledger
