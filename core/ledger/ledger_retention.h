// Ledger retention (state.retention, DESIGN §4): per-request rows older than the retention
// are rolled up into daily aggregates (`daily`, ledger_schema.h) and deleted, a batch at a
// time on the writer thread, so the file stops growing without any total changing: reports
// and the start-up spend read rows and roll-ups together (the `usage_rows` view).
//
// A roll-up keeps, per UTC day, agent, model, provider, tool and error code: requests, tokens
// by type, cost, how many were estimated and the sum of their durations. What it drops is the
// per-request detail (request id, physical model, status, attempts, TTFT, the error text) —
// and with it the exact median of tool durations for those days (averages stay exact).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/ledger/sqlite_handle.h"

namespace sluice::ledger {

// Rolls up (one transaction) at most `max_rows` of the oldest rows with time_ms < cutoff_ms;
// *rolled says how many (fewer than max_rows: none are left). Then gives up to `vacuum_pages`
// freed pages back to the file system. SQLITE_OK, or SQLite's code with *error set (the
// transaction rolled back: nothing changed).
int roll_up_batch(SqliteDb& db, int64_t cutoff_ms, size_t max_rows, size_t vacuum_pages,
                  size_t* rolled, std::string* error);

// The file's size as SQLite sees it (page_count × page_size), without the WAL.
int64_t ledger_bytes(SqliteDb& db);

}  // namespace sluice::ledger
