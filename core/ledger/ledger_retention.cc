#include "core/ledger/ledger_retention.h"

namespace sluice::ledger {

namespace {

// The oldest rows first, in index order (time_ms, id): both statements of a batch pick the
// same rows, as nothing else writes between them (the transaction holds the write lock).
constexpr const char* kBatchIds =
    "SELECT id FROM requests WHERE time_ms < ?1 ORDER BY time_ms, id LIMIT ?2";

const std::string kRollUpSql =
    std::string(
        "INSERT INTO daily (day, agent, model, provider, tool, error_code, requests,"
        " input_tokens, output_tokens, cached_tokens, cache_write_tokens, cost_usd, estimated,"
        " latency_s)"
        " SELECT time_ms / 86400000, agent, model, provider, tool, error_code, count(*),"
        " sum(input_tokens), sum(output_tokens), sum(cached_tokens), sum(cache_write_tokens),"
        " total(cost_usd), sum(estimated), total(latency_s)"
        " FROM requests WHERE id IN (") +
    kBatchIds +
    ")"
    " GROUP BY 1, 2, 3, 4, 5, 6"
    " ON CONFLICT (day, agent, model, provider, tool, error_code) DO UPDATE SET"
    " requests = requests + excluded.requests,"
    " input_tokens = input_tokens + excluded.input_tokens,"
    " output_tokens = output_tokens + excluded.output_tokens,"
    " cached_tokens = cached_tokens + excluded.cached_tokens,"
    " cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,"
    " cost_usd = cost_usd + excluded.cost_usd,"
    " estimated = estimated + excluded.estimated,"
    " latency_s = latency_s + excluded.latency_s";

const std::string kDeleteSql = std::string("DELETE FROM requests WHERE id IN (") + kBatchIds + ")";

int run(SqliteDb& db, const std::string& sql, int64_t cutoff_ms, size_t max_rows,
        std::string* error) {
  SqliteStatement stmt;
  int rc = db.prepare(sql, &stmt, error);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_int64(stmt.get(), 1, cutoff_ms);
  sqlite3_bind_int64(stmt.get(), 2, static_cast<int64_t>(max_rows));
  rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_DONE) {
    *error = db.describe(rc);
    return rc;
  }
  return SQLITE_OK;
}

}  // namespace

int roll_up_batch(SqliteDb& db, int64_t cutoff_ms, size_t max_rows, size_t vacuum_pages,
                  size_t* rolled, std::string* error) {
  *rolled = 0;
  int rc = db.exec("BEGIN IMMEDIATE", error);
  if (rc != SQLITE_OK) return rc;
  rc = run(db, kRollUpSql, cutoff_ms, max_rows, error);
  if (rc == SQLITE_OK) rc = run(db, kDeleteSql, cutoff_ms, max_rows, error);
  const auto deleted = static_cast<size_t>(sqlite3_changes64(db.get()));
  if (rc == SQLITE_OK) rc = db.exec("COMMIT", error);
  if (rc != SQLITE_OK) {
    db.exec("ROLLBACK", nullptr);
    return rc;
  }
  *rolled = deleted;
  if (deleted > 0 && vacuum_pages > 0) {
    // Best effort: a failure here leaves free pages in the file, which new rows reuse.
    db.exec("PRAGMA incremental_vacuum(" + std::to_string(vacuum_pages) + ")", nullptr);
  }
  return SQLITE_OK;
}

int64_t ledger_bytes(SqliteDb& db) {
  int64_t pages = 0, size = 0;
  std::string why;
  if (db.query_int("PRAGMA page_count", &pages, &why) != SQLITE_OK ||
      db.query_int("PRAGMA page_size", &size, &why) != SQLITE_OK) {
    return 0;
  }
  return pages * size;
}

}  // namespace sluice::ledger
