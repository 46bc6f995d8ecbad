#include "core/ledger/sqlite_handle.h"

namespace sluice::ledger {
namespace {

// Process-wide settings, applied once before SQLite initialises (sqlite3_config refuses them
// afterwards; then SQLite keeps its defaults, which are correct, only slower).
//  - MEMSTATUS off: SQLite's allocation statistics take a global mutex around every malloc
//    and free — ~6% of the ledger writer's CPU per row (perf, bench_micro
//    BM_LedgerWriterCpu). Nothing in sluice reads sqlite3_status().
void configure_sqlite_once() {
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
}

}  // namespace

int SqliteDb::open(const std::string& path, int flags, std::string* error) {
  close();
  configure_sqlite_once();
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 may hand back a connection even on failure: it carries the message.
    if (error != nullptr) *error = describe(rc);
    close();
    return rc;
  }
  sqlite3_extended_result_codes(db_, 1);
  return SQLITE_OK;
}

void SqliteDb::close() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

int SqliteDb::exec(std::string_view sql, std::string* error) {
  const std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK && error != nullptr) *error = describe(rc);
  return rc;
}

int SqliteDb::prepare(std::string_view sql, SqliteStatement* out, std::string* error,
                      bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    if (error != nullptr) *error = describe(rc);
    return rc;
  }
  *out = SqliteStatement(stmt);
  return SQLITE_OK;
}

int SqliteDb::query_int(std::string_view sql, int64_t* out, std::string* error) {
  SqliteStatement stmt;
  int rc = prepare(sql, &stmt, error);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(stmt.get(), 0);
    return SQLITE_OK;
  }
  if (rc == SQLITE_DONE) {
    *out = 0;
    return SQLITE_OK;
  }
  if (error != nullptr) *error = describe(rc);
  return rc;
}

int SqliteDb::query_text(std::string_view sql, std::string* out, std::string* error) {
  SqliteStatement stmt;
  int rc = prepare(sql, &stmt, error);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(stmt.get());
  out->clear();
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
    if (text != nullptr) out->assign(reinterpret_cast<const char*>(text));
    return SQLITE_OK;
  }
  if (rc == SQLITE_DONE) return SQLITE_OK;
  if (error != nullptr) *error = describe(rc);
  return rc;
}

std::string SqliteDb::describe(int rc) const {
  std::string text = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return text + " (SQLite code " + std::to_string(rc) + ")";
}

}  // namespace sluice::ledger
