// Helpers shared by the ledger unit tests: a private temp directory, rows, a direct SQLite
// connection to look at what the writer wrote, and a bounded wait.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "core/ledger/ledger_row.h"

namespace sluice::ledger::test {

class LedgerTempDir {
 public:
  LedgerTempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-ledger-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~LedgerTempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline LedgerRow make_row(std::string agent, std::string model, std::string provider, double cost,
                          uint64_t input, uint64_t output, int64_t time_ms = 0,
                          bool estimated = false) {
  LedgerRow r;
  static int counter = 0;
  r.request_id = "req-" + std::to_string(++counter);
  r.time_unix_ms = time_ms;
  r.agent = std::move(agent);
  r.model = std::move(model);
  r.physical_model = r.model + "-physical";
  r.provider = std::move(provider);
  r.status = 200;
  r.input_tokens = input;
  r.output_tokens = output;
  r.cost_usd = cost;
  r.estimated = estimated;
  r.latency_s = 0.25;
  r.ttft_s = 0.1;
  r.attempts = 1;
  return r;
}

// A second connection to the same file, as another process would have.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 2000);
  }
  ~RawConnection() { sqlite3_close(db_); }
  int exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  int64_t integer(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
      v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string v = "<none>";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(stmt, 0);
      v = t != nullptr ? reinterpret_cast<const char*>(t) : "<null>";
    }
    sqlite3_finalize(stmt);
    return v;
  }
  sqlite3* get() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// Polls `condition` every 5 ms until it holds or 10 s pass (a bound for a loaded machine, not
// a performance claim).
template <typename Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace sluice::ledger::test
