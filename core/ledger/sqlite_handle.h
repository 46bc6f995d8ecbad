// Owning handles for a SQLite connection and a prepared statement, so every early return of
// the ledger code closes and finalizes what it opened. Errors are SQLite result codes plus the
// connection's message, turned into one line by describe().
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <utility>

namespace sluice::ledger {

class SqliteStatement {
 public:
  SqliteStatement() = default;
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement() { sqlite3_finalize(stmt_); }
  SqliteStatement(SqliteStatement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  SqliteStatement& operator=(SqliteStatement&& other) noexcept {
    std::swap(stmt_, other.stmt_);
    return *this;
  }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDb {
 public:
  SqliteDb() = default;
  ~SqliteDb() { close(); }
  SqliteDb(SqliteDb&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  SqliteDb& operator=(SqliteDb&& other) noexcept {
    std::swap(db_, other.db_);
    return *this;
  }
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // sqlite3_open_v2 with `flags` (SQLITE_OPEN_READONLY, or READWRITE|CREATE); extended result
  // codes on. Returns SQLITE_OK or the error (described in *error).
  int open(const std::string& path, int flags, std::string* error);
  void close();

  // Runs one or more statements that return no rows we need.
  int exec(std::string_view sql, std::string* error);
  // Prepares one statement (persistent when it is kept for the connection's life).
  int prepare(std::string_view sql, SqliteStatement* out, std::string* error,
              bool persistent = false);
  // The single integer a PRAGMA or SELECT returns (e.g. "PRAGMA user_version").
  int query_int(std::string_view sql, int64_t* out, std::string* error);
  // The same for a text result ("" for NULL or no row).
  int query_text(std::string_view sql, std::string* out, std::string* error);

  sqlite3* get() const { return db_; }
  explicit operator bool() const { return db_ != nullptr; }

  // "database is locked (SQLite code 5)": the connection's message and the (extended) code.
  std::string describe(int rc) const;

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace sluice::ledger
