// The usage report (DESIGN §6 GET /usage, `sluice usage`): ledger rows since a time, grouped
// by agent, logical model or provider, sorted by cost (highest first) — or the tool calls
// grouped by tool (ToolUsageReport), most called first.
//
// Which rows count where: by model and by provider report model requests only (a tool call
// has neither). By agent reports model requests in `requests` and the tokens and cost columns,
// and the agent's tool calls beside them in `tool_calls`: an agent that only called tools is
// listed too. Tool rows cost 0, so no cost moves between the reports.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::ledger {

// What the report groups by. `model` is the logical model the agent asked for (what budgets
// and sluice_cost_usd_total{model} use), not the provider's physical model.
enum class UsageBy : uint8_t { Agent, Model, Provider, Tool };
const char* to_string(UsageBy by);  // "agent" | "model" | "provider" | "tool"
std::optional<UsageBy> parse_usage_by(std::string_view text);

// `since` as the CLI and /usage take it: a config duration back from now ("30m", "24h", "7d";
// units of DESIGN §4) → the Unix ms it starts at. nullopt for anything else.
std::optional<int64_t> since_unix_ms(std::string_view duration, int64_t now_unix_ms);

// "2024-05-01T12:00:00Z" (UTC, seconds) for a Unix time in ms.
std::string format_utc(int64_t unix_ms);

struct UsageRow {
  std::string key;          // the agent / model / provider; "" = none (anonymous, or no provider)
  uint64_t requests = 0;    // model requests' rows (local 429/503 refusals included, at cost 0)
  uint64_t tool_calls = 0;  // by agent: the agent's tool calls' rows; 0 in the other reports
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
  UsageBy by = UsageBy::Agent;  // never Tool: that is a ToolUsageReport
  int64_t since_unix_ms = 0;    // rows with time_ms >= this; 0 = the whole ledger
  std::vector<UsageRow> rows;   // by cost_usd desc, then requests desc, then key
  UsageRow total;               // over every row since, even when `rows` was cut at max_groups
  bool truncated = false;       // more groups existed than max_groups
};

// One tool's calls (rows with a `tool`), counted by outcome — the ledger row's error_code:
// "" ok, "tool_error", "tool_timeout", "tool_unavailable", "invalid_arguments"; any other code
// (a refusal, a client gone) counts in other().
struct ToolUsageRow {
  std::string key;  // the tool's name as the agent called it ("github.create_issue")
  uint64_t calls = 0;
  uint64_t ok = 0;
  uint64_t error = 0;              // the tool ran and said it failed
  uint64_t timeout = 0;            // its deadline passed first
  uint64_t unavailable = 0;        // it could not be reached or run
  uint64_t invalid_arguments = 0;  // refused by input_schema; the tool was not called
  double total_duration_s = 0;     // sum of the calls' durations (latency_s)
  double median_duration_s = 0;    // the middle call's (the lower middle for an even count)
  uint64_t other() const {
    const uint64_t known = ok + error + timeout + unavailable + invalid_arguments;
    return calls > known ? calls - known : 0;
  }
  double average_duration_s() const {
    return calls == 0 ? 0.0 : total_duration_s / static_cast<double>(calls);
  }
};

// Every tool call's duration in seconds, per tool, in no order: what the median over several
// ledgers is picked from (a median of the ledgers' medians is not the median of their calls).
using ToolDurations = std::map<std::string, std::vector<double>>;

struct ToolUsageReport {
  int64_t since_unix_ms = 0;       // rows with time_ms >= this; 0 = the whole ledger
  std::vector<ToolUsageRow> rows;  // by calls desc, then key
  ToolUsageRow total;              // over every tool call since, even when `rows` was cut
  bool truncated = false;          // more tools than max_groups
};

}  // namespace sluice::ledger
