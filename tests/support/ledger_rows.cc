#include "tests/support/ledger_rows.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sstream>
#include <thread>

namespace sluice::test {
namespace {

std::string text_column(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace

std::optional<std::vector<LedgerTestRow>> read_ledger_rows(const std::string& path,
                                                           std::string* error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    if (error != nullptr) *error = "cannot open " + path + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return std::nullopt;
  }
  std::optional<std::vector<LedgerTestRow>> rows;
  sqlite3_stmt* s = nullptr;
  const char* sql =
      "SELECT request_id, agent, model, physical_model, provider, status, input_tokens,"
      " output_tokens, cached_tokens, cache_write_tokens, cost_usd, estimated, attempts,"
      " time_ms, latency_s, ttft_s, error_code, tool FROM requests ORDER BY id";
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    if (error != nullptr) *error = "cannot query " + path + ": " + sqlite3_errmsg(db);
  } else {
    rows.emplace();
    while (sqlite3_step(s) == SQLITE_ROW) {
      LedgerTestRow r;
      r.request_id = text_column(s, 0);
      r.agent = text_column(s, 1);
      r.model = text_column(s, 2);
      r.physical_model = text_column(s, 3);
      r.provider = text_column(s, 4);
      r.status = sqlite3_column_int(s, 5);
      r.input = sqlite3_column_int64(s, 6);
      r.output = sqlite3_column_int64(s, 7);
      r.cached = sqlite3_column_int64(s, 8);
      r.cache_write = sqlite3_column_int64(s, 9);
      r.cost = sqlite3_column_double(s, 10);
      r.estimated = sqlite3_column_int64(s, 11);
      r.attempts = sqlite3_column_int64(s, 12);
      r.time_ms = sqlite3_column_int64(s, 13);
      r.latency = sqlite3_column_double(s, 14);
      r.ttft_null = sqlite3_column_type(s, 15) == SQLITE_NULL;
      r.error_code = text_column(s, 16);
      r.tool = text_column(s, 17);
      rows->push_back(std::move(r));
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return rows;
}

std::map<std::string, LedgerTestRow> by_request_id(const std::vector<LedgerTestRow>& rows) {
  std::map<std::string, LedgerTestRow> out;
  for (const auto& r : rows) out[r.request_id] = r;
  return out;
}

std::map<std::string, LedgerTestRow> ledger_rows_by_id(const std::string& path) {
  std::string error;
  auto rows = read_ledger_rows(path, &error);
  if (!rows) {
    ADD_FAILURE() << error;
    return {};
  }
  return by_request_id(*rows);
}

std::optional<LedgerTestRow> await_ledger_row(const std::string& path,
                                              const std::string& request_id,
                                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto rows = read_ledger_rows(path)) {
      for (const LedgerTestRow& row : *rows) {
        if (row.request_id == request_id) return row;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string describe(const LedgerTestRow& r) {
  std::ostringstream s;
  s << "row " << r.request_id << ": agent=" << r.agent << " model=" << r.model
    << " physical=" << r.physical_model << " provider=" << r.provider << " status=" << r.status
    << " input=" << r.input << " output=" << r.output << " cached=" << r.cached
    << " cache_write=" << r.cache_write << " cost=" << r.cost << " estimated=" << r.estimated
    << " attempts=" << r.attempts << " error=" << r.error_code;
  if (!r.tool.empty()) s << " tool=" << r.tool;
  return s.str();
}

}  // namespace sluice::test
