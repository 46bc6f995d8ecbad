#include "core/ledger/ledger_schema.h"

#include <iterator>

namespace sluice::ledger {
namespace {

constexpr const char* kCreateSql =
    "CREATE TABLE IF NOT EXISTS requests ("
    " id INTEGER PRIMARY KEY,"
    " request_id TEXT NOT NULL,"
    " time_ms INTEGER NOT NULL,"
    " agent TEXT NOT NULL,"
    " model TEXT NOT NULL,"
    " physical_model TEXT NOT NULL,"
    " provider TEXT NOT NULL,"
    " status INTEGER NOT NULL,"
    " input_tokens INTEGER NOT NULL,"
    " output_tokens INTEGER NOT NULL,"
    " cached_tokens INTEGER NOT NULL,"
    " cache_write_tokens INTEGER NOT NULL,"
    " cost_usd REAL NOT NULL,"
    " estimated INTEGER NOT NULL,"
    " latency_s REAL NOT NULL,"
    " ttft_s REAL,"
    " attempts INTEGER NOT NULL,"
    " error_code TEXT NOT NULL,"
    " error TEXT NOT NULL,"
    " tool TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS requests_time ON requests(time_ms);"

    "CREATE INDEX IF NOT EXISTS requests_tool_time ON requests(tool, time_ms) WHERE tool != '';";

// Version 3: roll-ups and the view over both (ledger_schema.h).
constexpr const char* kDailySql =
    "CREATE TABLE IF NOT EXISTS daily ("
    " day INTEGER NOT NULL, agent TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,"
    " tool TEXT NOT NULL, error_code TEXT NOT NULL,"
    " requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,"
    " cached_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,"
    " cost_usd REAL NOT NULL, estimated INTEGER NOT NULL, latency_s REAL NOT NULL,"
    " PRIMARY KEY (day, agent, model, provider, tool, error_code)) WITHOUT ROWID;"
    "CREATE VIEW IF NOT EXISTS usage_rows AS"
    " SELECT time_ms, agent, model, provider, tool, error_code, 1 AS requests, input_tokens,"
    " output_tokens, cached_tokens, cache_write_tokens, cost_usd, estimated, latency_s"
    " FROM requests"
    " UNION ALL"
    " SELECT day * 86400000, agent, model, provider, tool, error_code, requests, input_tokens,"
    " output_tokens, cached_tokens, cache_write_tokens, cost_usd, estimated, latency_s"
    " FROM daily;";

// Forward migrations, oldest first: `sql` takes a ledger of version `to - 1` to version `to`.
// A new file gets kCreateSql (the latest layout) instead; both must end in the same layout, so
// a column is always appended (ALTER TABLE ADD COLUMN appends), never inserted.
struct Migration {
  int64_t to;
  const char* sql;
};
constexpr Migration kMigrations[] = {
    // Tool calls get rows (DESIGN §5). ADD COLUMN with a constant default rewrites nothing:
    // the rows already there read as "" (model requests) at once. The partial index holds tool
    // rows only, so `usage --by tool` reads those and model rows pay nothing for it.
    {2,
     "ALTER TABLE requests ADD COLUMN tool TEXT NOT NULL DEFAULT '';"
     "CREATE INDEX IF NOT EXISTS requests_tool_time ON requests(tool, time_ms)"
     " WHERE tool != '';"},
    // Daily roll-ups (state.retention): a new table and a view; no row changes.
    {3, kDailySql},
};
static_assert(std::size(kMigrations) == kLedgerSchemaVersion - 1,
              "every schema version after 1 needs its migration");

// How many tables the file has: 0 for a new (or empty) file.
int count_tables(SqliteDb& db, int64_t* n, std::string* error) {
  return db.query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", n, error);
}

// The header check both sides share. `allow_new`: a file with no tables and no id is a ledger
// to be (the writer creates it).
bool check_header(SqliteDb& db, bool allow_new, bool* is_new, int64_t* version_out,
                  std::string* error) {
  int64_t app_id = 0, version = 0, tables = 0;
  std::string why;
  if (db.query_int("PRAGMA application_id", &app_id, &why) != SQLITE_OK ||
      db.query_int("PRAGMA user_version", &version, &why) != SQLITE_OK ||
      count_tables(db, &tables, &why) != SQLITE_OK) {
    *error = "not a sluice ledger: " + why;
    return false;
  }
  *is_new = app_id == 0 && tables == 0;
  if (*is_new) {
    if (allow_new) return true;
    *error = "not a sluice ledger (an empty database)";
    return false;
  }
  if (app_id != kLedgerApplicationId) {
    *error = "not a sluice ledger (a SQLite database of another application)";
    return false;
  }
  if (version > kLedgerSchemaVersion) {
    *error = "a sluice ledger of schema version " + std::to_string(version) +
             ", newer than this sluice reads (" + std::to_string(kLedgerSchemaVersion) +
             "): use a newer sluice";
    return false;
  }
  *version_out = version;
  return true;
}

// Runs every migration after the file's version in one transaction. The version is read again
// under the write lock: another sluice on the same file may have migrated it meanwhile.
bool migrate(SqliteDb& db, int64_t* migrated_from, std::string* error) {
  std::string why;
  if (db.exec("BEGIN IMMEDIATE", &why) != SQLITE_OK) {
    *error = "cannot migrate the ledger: " + why;
    return false;
  }
  int64_t version = 0;
  bool ok = db.query_int("PRAGMA user_version", &version, &why) == SQLITE_OK;
  if (ok && version > kLedgerSchemaVersion) {  // a newer sluice got there first
    ok = false;
    why = "a newer sluice migrated it to version " + std::to_string(version) +
          " meanwhile: use a newer sluice";
  }
  for (const Migration& m : kMigrations) {
    if (!ok || m.to <= version) continue;
    ok = db.exec(m.sql, &why) == SQLITE_OK;
  }
  if (ok && version < kLedgerSchemaVersion) {
    ok =
        db.exec("PRAGMA user_version = " + std::to_string(kLedgerSchemaVersion), &why) == SQLITE_OK;
  }
  if (ok) ok = db.exec("COMMIT", &why) == SQLITE_OK;
  if (!ok) {
    db.exec("ROLLBACK", nullptr);
    *error = "cannot migrate the ledger from schema version " + std::to_string(version) + " to " +
             std::to_string(kLedgerSchemaVersion) + " (the file is unchanged): " + why;
    return false;
  }
  *migrated_from = version < kLedgerSchemaVersion ? version : 0;
  return true;
}

}  // namespace

std::string insert_rows_sql(size_t rows) {
  std::string sql =
      "INSERT INTO requests (request_id, time_ms, agent, model, physical_model, provider, status,"
      " input_tokens, output_tokens, cached_tokens, cache_write_tokens, cost_usd, estimated,"
      " latency_s, ttft_s, attempts, error_code, error, tool) VALUES ";
  for (size_t i = 0; i < rows; ++i) {
    if (i != 0) sql += ',';
    sql += "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  }
  return sql;
}

bool prepare_for_writing(SqliteDb& db, std::string* error, int64_t* migrated_from) {
  int64_t ignored = 0;
  if (migrated_from == nullptr) migrated_from = &ignored;
  *migrated_from = 0;
  bool is_new = false;
  int64_t version = 0;
  if (!check_header(db, /*allow_new=*/true, &is_new, &version, error)) return false;
  std::string why;
  // Incremental vacuum: pages freed by the retention roll-up go back to the file system a few
  // at a time (ledger_retention.cc). Only settable before anything is written to a new file —
  // switching to WAL below writes its header.
  if (is_new && db.exec("PRAGMA auto_vacuum = INCREMENTAL", &why) != SQLITE_OK) {
    *error = "cannot set auto_vacuum: " + why;
    return false;
  }
  // WAL: readers (the CLI, /usage) never block the writer and the writer never blocks them.
  // synchronous=NORMAL: a commit survives the process dying (kill -9); only a power loss can
  // take the last transactions back — the trade every WAL deployment of SQLite makes.
  std::string mode;
  if (db.query_text("PRAGMA journal_mode = WAL", &mode, &why) != SQLITE_OK ||
      db.exec("PRAGMA synchronous = NORMAL", &why) != SQLITE_OK) {
    *error = "cannot set the journal mode: " + why;
    return false;
  }
  if (mode != "wal") {
    // e.g. a file system without shared memory (some network mounts): readers would block
    // the writer, and the durability rules of the docs would not hold.
    *error = "the file system does not support SQLite's WAL mode (journal_mode is \"" + mode +
             "\"): put the ledger on a local disk";
    return false;
  }
  if (!is_new) {
    if (version < kLedgerSchemaVersion && !migrate(db, migrated_from, error)) return false;
    // A file from before version 3 has no incremental vacuum: switching takes one VACUUM (a
    // rewrite of the file), done once, at the migration, so the roll-up can shrink it later.
    int64_t auto_vacuum = 0;
    if (version < kLedgerRollupVersion &&
        db.query_int("PRAGMA auto_vacuum", &auto_vacuum, &why) == SQLITE_OK && auto_vacuum == 0 &&
        (db.exec("PRAGMA auto_vacuum = INCREMENTAL", &why) != SQLITE_OK ||
         db.exec("VACUUM", &why) != SQLITE_OK)) {
      *error = "cannot switch the ledger to incremental vacuum: " + why;
      return false;
    }
    // Ledgers created by earlier builds have requests_agent_time (agent, time_ms): no query reads
    // it (per-agent reports scan the time index) and keeping it up to date cost ~20% of the
    // writer's CPU per row. Dropping an index leaves the layout as it was, so the schema
    // version stays: an older sluice still reads and writes the file.
    if (db.exec("DROP INDEX IF EXISTS requests_agent_time", &why) != SQLITE_OK) {
      *error = "cannot drop the unused index requests_agent_time: " + why;
      return false;
    }
    return true;
  }
  const std::string create = std::string("BEGIN IMMEDIATE;") + kCreateSql + kDailySql +
                             "PRAGMA application_id = " + std::to_string(kLedgerApplicationId) +
                             ";PRAGMA user_version = " + std::to_string(kLedgerSchemaVersion) +
                             ";COMMIT;";
  if (db.exec(create, &why) != SQLITE_OK) {
    db.exec("ROLLBACK", nullptr);
    *error = "cannot create the ledger schema: " + why;
    return false;
  }
  return true;
}

bool check_readable(SqliteDb& db, std::string* error, int64_t* version) {
  bool is_new = false;
  int64_t ignored = 0;
  return check_header(db, /*allow_new=*/false, &is_new, version != nullptr ? version : &ignored,
                      error);
}

}  // namespace sluice::ledger
