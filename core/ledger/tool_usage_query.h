// The SQL behind LedgerReader::tool_usage_report (`sluice usage --by tool`, GET
// /usage?by=tool): a ledger's tool calls since a time, per tool, counted by outcome, with the
// average and median duration. Only for a ledger of schema version >= kLedgerToolsVersion (an
// older one has no tool column, and so no tool calls).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/ledger/sqlite_handle.h"
#include "core/ledger/usage_report.h"

namespace sluice::ledger {

// Fills `out` (rows, total, truncated; not since_unix_ms). `rollups`: the ledger has daily
// roll-ups (version 3 on): counts and durations' sums include them, medians cover the calls
// still kept one by one. Returns SQLITE_OK, or the result code of the statement that failed
// (SQLITE_INTERRUPT when a progress handler stopped it; db.describe(rc) says why).
int query_tool_usage(SqliteDb& db, bool rollups, int64_t since_unix_ms, size_t max_groups,
                     ToolUsageReport* out);

// Adds every kept tool call's duration since a time to `out`, per tool (rolled-up calls have
// none). Same result codes as query_tool_usage.
int query_tool_durations(SqliteDb& db, int64_t since_unix_ms, ToolDurations* out);

}  // namespace sluice::ledger
