// LedgerReader: a read-only connection to a ledger, for the usage reports (CLI and GET /usage)
// and for rebuilding spend at start-up (budgets). It reads every schema version up to this
// build's — a file an older sluice wrote (and may still be writing) included. Opening it read-only
// works while a sluice process writes the same file (WAL: readers see the last committed batch and
// never block the writer). Not for the request path: every call is a blocking SQLite query.
//
// Start-up spend for budgets (DESIGN §3): on the main thread, before the workers run —
//   std::string error;
//   auto reader = ledger::LedgerReader::open(config.state.ledger, &error);   // file exists
//   auto spent = reader->spend_by_agent(period_start_unix_ms, &error);       // agent → USD
// or spend_of_agent(agent, period_start) per agent when periods differ (day / month / total),
// or spend_by_agent_periods(day_start, month_start) for all three in one pass (what
// server/spend_rebuild.cc uses).
// A ledger that does not exist yet means no spend (check with ledger_exists()).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/ledger/sqlite_handle.h"
#include "core/ledger/usage_report.h"

namespace sluice::ledger {

// True when `path` names an existing file (a ledger to read, or one to be created).
bool ledger_exists(const std::string& path);

// One agent's spend in the three budget periods (state::BudgetPeriod), in USD.
struct PeriodSpend {
  double day_usd = 0;    // rows with time_ms >= the day's start
  double month_usd = 0;  // rows with time_ms >= the month's start
  double total_usd = 0;  // every row
};

class LedgerReader {
 public:
  // Bounds for a report that an operator asks for on the admin loop.
  struct ReportLimits {
    size_t max_groups = 1000;               // rows of the report (the total still covers all)
    std::chrono::milliseconds max_time{0};  // 0 = unbounded; else SQLite is interrupted
  };

  // nullptr and *error ("no such file", "not a sluice ledger (…)") when the file cannot be
  // read as a ledger.
  static std::unique_ptr<LedgerReader> open(const std::string& path, std::string* error);

  std::optional<UsageReport> usage_report(UsageBy by, int64_t since_unix_ms, std::string* error,
                                          const ReportLimits& limits) const;
  std::optional<UsageReport> usage_report(UsageBy by, int64_t since_unix_ms,
                                          std::string* error) const {
    return usage_report(by, since_unix_ms, error, ReportLimits{});
  }
  // Tool calls per tool (UsageBy::Tool). A ledger older than the tool column: no rows.
  std::optional<ToolUsageReport> tool_usage_report(int64_t since_unix_ms, std::string* error,
                                                   const ReportLimits& limits) const;
  std::optional<ToolUsageReport> tool_usage_report(int64_t since_unix_ms,
                                                   std::string* error) const {
    return tool_usage_report(since_unix_ms, error, ReportLimits{});
  }
  // Every tool call's duration since a time, per tool (for a median over several ledgers,
  // usage_merge.h). A ledger older than the tool column: none.
  std::optional<ToolDurations> tool_durations(int64_t since_unix_ms, std::string* error) const;

  // Spend counts every row's cost_usd: what was charged is what counts, whatever the row.
  // Tool calls' rows cost 0, so they add nothing to it.
  //
  // USD charged per agent for rows with time_ms >= since ("" = anonymous requests).
  std::optional<std::map<std::string, double>> spend_by_agent(int64_t since_unix_ms,
                                                              std::string* error) const;
  // Every agent's spend for the current day, month and all time, in one scan of the ledger
  // ("" = anonymous requests). Rows are placed by their time_ms (when the request started).
  std::optional<std::map<std::string, PeriodSpend>> spend_by_agent_periods(
      int64_t day_start_unix_ms, int64_t month_start_unix_ms, std::string* error) const;
  // One agent's spend since a time (uses the agent/time index).
  std::optional<double> spend_of_agent(std::string_view agent, int64_t since_unix_ms,
                                       std::string* error) const;

  // One read transaction while it lives: the reader's queries meanwhile all see the same
  // committed state of the file, though a sluice keeps writing it (WAL). For reports built
  // from several queries that must agree (a tool report and its calls' durations).
  class Snapshot {
   public:
    explicit Snapshot(const LedgerReader& reader);
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    SqliteDb& db_;
    bool open_ = false;
  };

  const std::string& path() const { return path_; }
  // The file's schema version (ledger_schema.h), as read at open().
  int64_t schema_version() const { return schema_version_; }

 private:
  LedgerReader(std::string path, SqliteDb db, int64_t schema_version)
      : path_(std::move(path)), db_(std::move(db)), schema_version_(schema_version) {}
  bool has_tool_column() const;
  // Version 3 on: daily roll-ups exist, and reports read `usage_rows` (rows + roll-ups).
  bool has_rollups() const;
  const char* rows_source() const { return has_rollups() ? "usage_rows" : "requests"; }

  std::string path_;
  mutable SqliteDb db_;
  int64_t schema_version_;
};

// The same as LedgerReader::open(path)->spend_by_agent(since), in one call.
std::optional<std::map<std::string, double>> spend_by_agent(const std::string& path,
                                                            int64_t since_unix_ms,
                                                            std::string* error);

}  // namespace sluice::ledger
