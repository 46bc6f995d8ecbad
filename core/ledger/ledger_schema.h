// The ledger's SQLite schema and how a file is recognised as a sluice ledger.
//
// A ledger is a SQLite database (WAL journal) whose header carries
//   PRAGMA application_id = kLedgerApplicationId   — "this is a sluice ledger", and
//   PRAGMA user_version   = kLedgerSchemaVersion   — the layout below.
// One table, one row per request (see ledger_row.h for which requests):
//
//   requests(id INTEGER PRIMARY KEY,            -- insertion order
//            request_id TEXT, time_ms INTEGER,   -- arrival, Unix ms UTC
//            agent TEXT, model TEXT, physical_model TEXT, provider TEXT, status INTEGER,
//            input_tokens INTEGER, output_tokens INTEGER, cached_tokens INTEGER,
//            cache_write_tokens INTEGER, cost_usd REAL, estimated INTEGER (0|1),
//            latency_s REAL, ttft_s REAL (NULL: no first byte), attempts INTEGER,
//            error_code TEXT, error TEXT)
//   indexes: requests_time(time_ms), requests_agent_time(agent, time_ms)
//
// Text columns hold "" rather than NULL for "none", so GROUP BY never splits "" from NULL.
// A later schema bumps kLedgerSchemaVersion and migrates forward in prepare_for_writing; a file
// with a newer version than this build knows is refused rather than half-understood.
#pragma once

#include <cstdint>
#include <string>

#include "core/ledger/sqlite_handle.h"

namespace sluice::ledger {

inline constexpr int32_t kLedgerApplicationId = 0x736c6564;  // "sled"
inline constexpr int64_t kLedgerSchemaVersion = 1;

// The INSERT the writer prepares once; parameters ?1..?18 in the column order above (without
// id). bind_row() in ledger_writer.cc fills them.
extern const char* const kInsertRowSql;

// For the writer, on a connection opened read-write: WAL, synchronous=NORMAL, creates the
// table and indexes when the file is new (or empty) and stamps the header. False (and why)
// when the file is another application's database, a newer ledger, or not a database at all.
bool prepare_for_writing(SqliteDb& db, std::string* error);

// For readers (CLI, /usage, start-up spend): the file is a sluice ledger this build can read.
bool check_readable(SqliteDb& db, std::string* error);

}  // namespace sluice::ledger
