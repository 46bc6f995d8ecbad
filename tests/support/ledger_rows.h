// The spend ledger as a test reads it back: every column of every row, with SQLite, read-only
// (as `sluice usage` and an operator's script open it). Shared by the integration tests that
// check what a request left in the ledger.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::test {

struct LedgerTestRow {
  std::string request_id, agent, model, physical_model, provider, error_code;
  std::string tool;  // "" for a model request
  int status = 0;
  int64_t input = 0, output = 0, cached = 0, cache_write = 0, estimated = -1, attempts = 0;
  int64_t time_ms = 0;
  double cost = -1;
  double latency = -1;
  bool ttft_null = true;
};

// Every row, in insertion order; nullopt (and `error` says why) while the file cannot be
// opened or queried — e.g. not created yet. The file must have the current schema (a `tool`
// column): sluice migrates an older one when it opens it.
std::optional<std::vector<LedgerTestRow>> read_ledger_rows(const std::string& path,
                                                           std::string* error = nullptr);

// Every row by request id; a GoogleTest failure (and no rows) when the file cannot be read.
std::map<std::string, LedgerTestRow> ledger_rows_by_id(const std::string& path);

// The same rows by request id.
std::map<std::string, LedgerTestRow> by_request_id(const std::vector<LedgerTestRow>& rows);

// The row of `request_id`, polled until the ledger writer has flushed it (at most `timeout`);
// nullopt when it never came (the file may not exist yet meanwhile).
std::optional<LedgerTestRow> await_ledger_row(const std::string& path,
                                              const std::string& request_id,
                                              std::chrono::milliseconds timeout);

// "row <id>: agent=… model=… …" for assertion messages.
std::string describe(const LedgerTestRow& row);

}  // namespace sluice::test
