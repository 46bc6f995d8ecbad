// The ledger's SQLite schema and how a file is recognised as a sluice ledger.
//
// A ledger is a SQLite database (WAL journal) whose header carries
//   PRAGMA application_id = kLedgerApplicationId   — "this is a sluice ledger", and
//   PRAGMA user_version   = kLedgerSchemaVersion   — the layout below.
// One table, one row per request or tool call (see ledger_row.h for which):
//
//   requests(id INTEGER PRIMARY KEY,            -- insertion order
//            request_id TEXT, time_ms INTEGER,   -- arrival, Unix ms UTC
//            agent TEXT, model TEXT, physical_model TEXT, provider TEXT, status INTEGER,
//            input_tokens INTEGER, output_tokens INTEGER, cached_tokens INTEGER,
//            cache_write_tokens INTEGER, cost_usd REAL, estimated INTEGER (0|1),
//            latency_s REAL, ttft_s REAL (NULL: no first byte), attempts INTEGER,
//            error_code TEXT, error TEXT,
//            tool TEXT)                          -- version 2: "" = a model request
//   indexes: requests_time(time_ms), requests_agent_time(agent, time_ms),
//            requests_tool_time(tool, time_ms) WHERE tool != ''   -- version 2, tool rows only
//
//   daily(day INTEGER,                           -- version 3: UTC day (time_ms / 86400000)
//         agent, model, provider, tool, error_code TEXT,
//         requests INTEGER, input_tokens, output_tokens, cached_tokens, cache_write_tokens
//         INTEGER, cost_usd REAL, estimated INTEGER (how many), latency_s REAL (their sum),
//         PRIMARY KEY (day, agent, model, provider, tool, error_code))
//     — requests rows older than state.retention, rolled up (ledger_retention.h);
//   usage_rows — a view: every requests row (requests = 1) and every daily row (at its day's
//     start), the columns reports and the start-up spend read, so totals never change when
//     rows age out.
//
// Text columns hold "" rather than NULL for "none", so GROUP BY never splits "" from NULL.
//
// Versions: 1 — the table without `tool`; 2 — `tool` appended (NOT NULL DEFAULT '', so rows
// of version 1 read as model requests) and its index; 3 — `daily` and `usage_rows`. The writer
// migrates an older file forward in place (prepare_for_writing, one transaction); readers take any
// version up to this build's and ask which (check_readable): a version-1 file simply has no tool
// rows. A file with a newer version than this build knows is refused rather than half-understood.
#pragma once

#include <cstdint>
#include <string>

#include "core/ledger/sqlite_handle.h"

namespace sluice::ledger {

inline constexpr int32_t kLedgerApplicationId = 0x736c6564;  // "sled"
inline constexpr int64_t kLedgerSchemaVersion = 3;
// The first version with the `tool` column (tool calls' rows).
inline constexpr int64_t kLedgerToolsVersion = 2;
// The first version with daily roll-ups (`daily`) and the `usage_rows` view reports read.
inline constexpr int64_t kLedgerRollupVersion = 3;

// Columns of a row the writer binds (every column but id).
inline constexpr int kInsertColumns = 19;
// The INSERT of `rows` rows the writer prepares once: kInsertColumns parameters per row, in
// the column order above (without id), row after row. bind_row() in ledger_writer.cc fills them.
std::string insert_rows_sql(size_t rows);

// For the writer, on a connection opened read-write: WAL, synchronous=NORMAL, creates the
// table and indexes when the file is new (or empty) and stamps the header, or migrates an
// older ledger to kLedgerSchemaVersion (*migrated_from, when given, is then the version it
// had; 0 when nothing was migrated). False (and why) when the file is another application's
// database, a newer ledger, or not a database at all, or the migration failed (rolled back:
// the file is left as it was).
bool prepare_for_writing(SqliteDb& db, std::string* error, int64_t* migrated_from = nullptr);

// For readers (CLI, /usage, start-up spend): the file is a sluice ledger this build can read.
// *version (when given) is its schema version, 1..kLedgerSchemaVersion: queries of columns a
// later version added must check it.
bool check_readable(SqliteDb& db, std::string* error, int64_t* version = nullptr);

}  // namespace sluice::ledger
