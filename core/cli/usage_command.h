// `sluice usage --ledger FILE... [--since 24h] [--by agent|model|provider|tool] [--json]`: the
// spend ledger's usage report, read straight from the SQLite file (read-only; fine while a
// sluice process writes it — WAL — and fine for a ledger an older sluice wrote). Without
// --since the whole ledger is reported; --since takes the config's duration units (30m, 24h,
// 7d). --by tool reports the tool calls instead of the model requests. --json prints the
// document of GET /usage (core/admin/usage_endpoint.h) for scripts.
//
// --ledger may be repeated: a fleet's sidecars each write their own ledger, and the report is
// then over all of them (usage_ledgers.h). Naming one file twice is refused, as it would count
// twice.
//
// Exit codes: 0 — the report was printed (also when it has no rows);
//             1 — a ledger could not be read: no such file, not a sluice ledger, SQLite error
//                 (the message names the file; nothing is printed on stdout);
//             2 — the command line was wrong, a ledger named twice included (message and
//                 usage on stderr).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/ledger/usage_report.h"

namespace sluice::cli {

// `args` are the words after "usage".
int usage_command(const std::vector<std::string>& args);

// The tables (usage_table.cc; exposed for unit tests): a title line, one line per row, a TOTAL
// line, columns two spaces apart with the numbers right-aligned.
//   by agent / model / provider: requests, (by agent) tool calls, tokens as integers, cost in
//     USD with 8 decimals, the estimated share in percent;
//   by tool: calls, then calls by outcome, then the p50 and average duration in seconds.
// A report over more than one ledger says "from N ledgers" in its title.
std::string render_usage_table(const ledger::UsageReport& report, const std::string& since_text,
                               size_t ledger_count = 1);
std::string render_tool_usage_table(const ledger::ToolUsageReport& report,
                                    const std::string& since_text, size_t ledger_count = 1);

}  // namespace sluice::cli
