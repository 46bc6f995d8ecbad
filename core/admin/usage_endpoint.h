// GET /usage?by=agent|model|provider|tool&since=24h (DESIGN §6): the spend ledger's usage
// report as JSON, the same document `sluice usage --json` prints.
//
//   200 {"by":"agent","since":"2024-05-01T12:00:00Z"|null,"ledger":"/path/ledger.db",
//        "rows":[{"key":"alice","requests":3,"input_tokens":..,"output_tokens":..,
//                 "cached_tokens":..,"cost_usd":0.0123,"estimated_share":0.0,
//                 "tool_calls":2}, ...],
//        "total":{"requests":..,...},"truncated":false}
//       rows by cost_usd, highest first; "key" is "" for anonymous requests (by agent) or
//       local refusals (by provider). `since` absent = the whole ledger; `by` absent = agent.
//       "requests" counts model requests; "tool_calls" (by agent only) the agent's tool calls.
//       By model and by provider, tool calls are left out (they have neither).
//   200 by=tool: {"by":"tool","since":..,"ledger":..,
//        "rows":[{"key":"projects.list","calls":5,"ok":3,"error":1,"timeout":1,
//                 "unavailable":0,"invalid_arguments":0,"other":0,"p50_s":0.012,
//                 "avg_s":1.2}, ...],
//        "total":{"calls":..,...},"truncated":false}
//       rows by calls, most first; durations in seconds; p50_s is the nearest-rank median.
//   400 invalid_request_error / invalid_usage_query — a `by` or `since` it cannot use, with the
//       accepted values in the message
//   404 not_found_error / ledger_disabled — state.ledger is "" (nothing is recorded)
//   503 service_unavailable / ledger_unreadable — the file could not be read, or the query ran
//       past kUsageQueryTime (ask for a shorter `since`)
//
// Runs on the admin loop (an operator's call, not the request path): a read-only SQLite
// connection (WAL: never blocks the ledger writer), at most kUsageMaxGroups rows (the total
// still covers everything) and at most kUsageQueryTime of SQLite work.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/admin/admin_router.h"
#include "core/ledger/usage_report.h"

namespace sluice::admin {

inline constexpr size_t kUsageMaxGroups = 1000;
inline constexpr std::chrono::milliseconds kUsageQueryTime{2000};

// `query` is the part of the target after '?' ("" when none); `ledger_path` "" = disabled.
AdminResponse usage_endpoint(std::string_view query, const std::string& ledger_path,
                             int64_t now_unix_ms);

// The JSON documents above (shared with `sluice usage --json`).
std::string usage_report_json(const ledger::UsageReport& report, const std::string& ledger_path);
std::string tool_usage_report_json(const ledger::ToolUsageReport& report,
                                   const std::string& ledger_path);

// The same documents for a report over several ledgers (`sluice usage --ledger a --ledger b`):
// "ledger" stays (the first one, so a script reading it still finds a string) and "ledgers"
// follows it with every file, in the order given. With a single ledger: exactly the above.
std::string usage_report_json(const ledger::UsageReport& report,
                              const std::vector<std::string>& ledger_paths);
std::string tool_usage_report_json(const ledger::ToolUsageReport& report,
                                   const std::vector<std::string>& ledger_paths);

}  // namespace sluice::admin
