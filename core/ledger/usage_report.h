// The usage report (DESIGN §6 GET /usage, `sluice usage`): ledger rows since a time, grouped
// by agent, logical model or provider, sorted by cost (highest first).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::ledger {

// What the report groups by. `model` is the logical model the agent asked for (what budgets
// and sluice_cost_usd_total{model} use), not the provider's physical model.
enum class UsageBy : uint8_t { Agent, Model, Provider };
const char* to_string(UsageBy by);  // "agent" | "model" | "provider"
std::optional<UsageBy> parse_usage_by(std::string_view text);

// `since` as the CLI and /usage take it: a config duration back from now ("30m", "24h", "7d";
// units of DESIGN §4) → the Unix ms it starts at. nullopt for anything else.
std::optional<int64_t> since_unix_ms(std::string_view duration, int64_t now_unix_ms);

// "2024-05-01T12:00:00Z" (UTC, seconds) for a Unix time in ms.
std::string format_utc(int64_t unix_ms);

struct UsageRow {
  std::string key;        // the agent / model / provider; "" = none (anonymous, or no provider)
  uint64_t requests = 0;  // ledger rows (local 429/503 refusals included, at cost 0)
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  uint64_t cached_tokens = 0;
  double cost_usd = 0;
  uint64_t estimated_requests = 0;  // rows whose tokens were estimated
  // estimated_requests / requests (0 when there are none).
  double estimated_share() const {
    return requests == 0 ? 0.0
                         : static_cast<double>(estimated_requests) / static_cast<double>(requests);
  }
};

struct UsageReport {
  UsageBy by = UsageBy::Agent;
  int64_t since_unix_ms = 0;   // rows with time_ms >= this; 0 = the whole ledger
  std::vector<UsageRow> rows;  // by cost_usd desc, then requests desc, then key
  UsageRow total;              // over every row since, even when `rows` was cut at max_groups
  bool truncated = false;      // more groups existed than max_groups
};

}  // namespace sluice::ledger
