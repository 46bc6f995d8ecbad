#include "core/ledger/ledger_reader.h"

#include <sys/stat.h>

#include "core/ledger/ledger_schema.h"
#include "core/ledger/tool_usage_query.h"

namespace sluice::ledger {
namespace {

constexpr int kReaderBusyTimeoutMs = 1000;

// The column a report groups by: from a fixed list, never from user text.
const char* group_column(UsageBy by) {
  switch (by) {
    case UsageBy::Agent:
      return "agent";
    case UsageBy::Model:
      return "model";
    case UsageBy::Provider:
      return "provider";
    case UsageBy::Tool:
      break;  // not a column of this report (tool_usage_report)
  }
  return "agent";
}

uint64_t column_count(sqlite3_stmt* stmt, int column) {
  const int64_t v = sqlite3_column_int64(stmt, column);
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

// Reads the aggregate columns of sums_sql() (requests, input, output, cached, cost, estimated,
// tool calls) that start at column `first`.
void read_sums(sqlite3_stmt* stmt, int first, UsageRow* row) {
  row->requests = column_count(stmt, first);
  row->input_tokens = column_count(stmt, first + 1);
  row->output_tokens = column_count(stmt, first + 2);
  row->cached_tokens = column_count(stmt, first + 3);
  row->cost_usd = sqlite3_column_double(stmt, first + 4);
  row->estimated_requests = column_count(stmt, first + 5);
  row->tool_calls = column_count(stmt, first + 6);
}

// Integer sums stay integers (coalesce: sum() of no rows is NULL); cost is a float total.
// `requests` counts model requests: every row but the tool calls. A tool row has no tokens and
// costs 0, so the other sums need no filter. A ledger older than the tool column has no tool
// calls. `weight` is what one row counts for: 1 in `requests`, its `requests` column in
// `usage_rows` (a daily roll-up stands for many).
std::string sums_sql(bool has_tool_column, const std::string& weight) {
  const std::string tool_calls =
      has_tool_column ? "coalesce(sum((tool != '') * " + weight + "), 0)" : "0";
  return "coalesce(sum(" + weight + "), 0) - " + tool_calls +
         ", coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
         " coalesce(sum(cached_tokens), 0), total(cost_usd), coalesce(sum(estimated), 0), " +
         tool_calls;
}

// Interrupts a query that runs past its deadline (sqlite3_progress_handler) while it lives;
// max_time 0 = no deadline.
class QueryDeadline {
 public:
  QueryDeadline(sqlite3* db, std::chrono::milliseconds max_time)
      : db_(db), at_(std::chrono::steady_clock::now() + max_time) {
    if (max_time.count() > 0) sqlite3_progress_handler(db_, 1000, &QueryDeadline::check, this);
  }
  ~QueryDeadline() { sqlite3_progress_handler(db_, 0, nullptr, nullptr); }
  QueryDeadline(const QueryDeadline&) = delete;
  QueryDeadline& operator=(const QueryDeadline&) = delete;

 private:
  static int check(void* self) {
    return std::chrono::steady_clock::now() >= static_cast<QueryDeadline*>(self)->at_ ? 1 : 0;
  }
  sqlite3* db_;
  std::chrono::steady_clock::time_point at_;
};

std::string report_error(int rc, const SqliteDb& db, const std::string& path,
                         std::chrono::milliseconds max_time) {
  return rc == SQLITE_INTERRUPT
             ? "the report took longer than " + std::to_string(max_time.count()) +
                   "ms: ask for a shorter period (since)"
             : path + ": " + db.describe(rc);
}

}  // namespace

bool ledger_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::unique_ptr<LedgerReader> LedgerReader::open(const std::string& path, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error = path + ": no such file";
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = path + ": not a file";
    return nullptr;
  }
  SqliteDb db;
  std::string why;
  if (db.open(path, SQLITE_OPEN_READONLY, &why) != SQLITE_OK) {
    *error = "cannot open " + path + ": " + why;
    return nullptr;
  }
  sqlite3_busy_timeout(db.get(), kReaderBusyTimeoutMs);
  int64_t version = 0;
  if (!check_readable(db, &why, &version)) {
    *error = path + ": " + why;
    return nullptr;
  }
  return std::unique_ptr<LedgerReader>(new LedgerReader(path, std::move(db), version));
}

// A deferred BEGIN takes its snapshot at the first read and keeps it until COMMIT. When BEGIN
// fails, each query still reads the latest state, as without a Snapshot.
LedgerReader::Snapshot::Snapshot(const LedgerReader& reader) : db_(reader.db_) {
  std::string why;
  open_ = db_.exec("BEGIN", &why) == SQLITE_OK;
}

LedgerReader::Snapshot::~Snapshot() {
  std::string why;
  if (open_) db_.exec("COMMIT", &why);
}

bool LedgerReader::has_tool_column() const {
  return schema_version_ >= kLedgerToolsVersion;
}

bool LedgerReader::has_rollups() const {
  return schema_version_ >= kLedgerRollupVersion;
}

std::optional<UsageReport> LedgerReader::usage_report(UsageBy by, int64_t since_unix_ms,
                                                      std::string* error,
                                                      const ReportLimits& limits) const {
  if (by == UsageBy::Tool) {
    *error = "a report by tool is a tool_usage_report";
    return std::nullopt;
  }
  QueryDeadline deadline(db_.get(), limits.max_time);
  auto failed = [&](int rc) -> std::optional<UsageReport> {
    *error = report_error(rc, db_, path_, limits.max_time);
    return std::nullopt;
  };

  UsageReport report;
  report.by = by;
  report.since_unix_ms = since_unix_ms;
  const std::string column = group_column(by);
  const std::string weight = has_rollups() ? "requests" : "1";
  const std::string sums = sums_sql(has_tool_column(), weight);
  // By model and by provider: model requests only (a tool call has neither).
  const std::string rows = std::string(" FROM ") + rows_source() + " WHERE time_ms >= ?1" +
                           (has_tool_column() && by != UsageBy::Agent ? " AND tool = ''" : "");
  const std::string grouped = "SELECT " + column + ", " + sums + rows + " GROUP BY " + column +
                              " ORDER BY total(cost_usd) DESC, sum(" + weight + ") DESC, " +
                              column + " LIMIT ?2";
  SqliteStatement stmt;
  std::string why;
  int rc = db_.prepare(grouped, &stmt, &why);
  if (rc != SQLITE_OK) return failed(rc);
  sqlite3_bind_int64(stmt.get(), 1, since_unix_ms);
  // One more than asked for tells whether the list was cut.
  sqlite3_bind_int64(stmt.get(), 2, static_cast<int64_t>(limits.max_groups) + 1);
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (report.rows.size() == limits.max_groups) {
      report.truncated = true;
      break;
    }
    UsageRow row;
    const unsigned char* key = sqlite3_column_text(stmt.get(), 0);
    if (key != nullptr) row.key = reinterpret_cast<const char*>(key);
    read_sums(stmt.get(), 1, &row);
    report.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failed(rc);

  SqliteStatement total;
  rc = db_.prepare("SELECT " + sums + rows, &total, &why);
  if (rc != SQLITE_OK) return failed(rc);
  sqlite3_bind_int64(total.get(), 1, since_unix_ms);
  rc = sqlite3_step(total.get());
  if (rc != SQLITE_ROW) return failed(rc);
  read_sums(total.get(), 0, &report.total);
  report.total.key = "total";
  return report;
}

std::optional<ToolUsageReport> LedgerReader::tool_usage_report(int64_t since_unix_ms,
                                                               std::string* error,
                                                               const ReportLimits& limits) const {
  ToolUsageReport report;
  report.since_unix_ms = since_unix_ms;
  report.total.key = "total";
  if (!has_tool_column()) return report;  // written before tool calls had rows: none
  QueryDeadline deadline(db_.get(), limits.max_time);
  const int rc = query_tool_usage(db_, has_rollups(), since_unix_ms, limits.max_groups, &report);
  if (rc != SQLITE_OK) {
    *error = report_error(rc, db_, path_, limits.max_time);
    return std::nullopt;
  }
  return report;
}

std::optional<ToolDurations> LedgerReader::tool_durations(int64_t since_unix_ms,
                                                          std::string* error) const {
  ToolDurations durations;
  if (!has_tool_column()) return durations;
  const int rc = query_tool_durations(db_, since_unix_ms, &durations);
  if (rc != SQLITE_OK) {
    *error = path_ + ": " + db_.describe(rc);
    return std::nullopt;
  }
  return durations;
}

std::optional<std::map<std::string, double>> LedgerReader::spend_by_agent(
    int64_t since_unix_ms, std::string* error) const {
  SqliteStatement stmt;
  std::string why;
  int rc = db_.prepare(std::string("SELECT agent, total(cost_usd) FROM ") + rows_source() +
                           " WHERE time_ms >= ?1 GROUP BY agent",
                       &stmt, &why);
  if (rc != SQLITE_OK) {
    *error = path_ + ": " + why;
    return std::nullopt;
  }
  sqlite3_bind_int64(stmt.get(), 1, since_unix_ms);
  std::map<std::string, double> spent;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const unsigned char* agent = sqlite3_column_text(stmt.get(), 0);
    spent[agent != nullptr ? reinterpret_cast<const char*>(agent) : ""] =
        sqlite3_column_double(stmt.get(), 1);
  }
  if (rc != SQLITE_DONE) {
    *error = path_ + ": " + db_.describe(rc);
    return std::nullopt;
  }
  return spent;
}

std::optional<std::map<std::string, PeriodSpend>> LedgerReader::spend_by_agent_periods(
    int64_t day_start_unix_ms, int64_t month_start_unix_ms, std::string* error) const {
  // total() of no non-NULL values is 0.0 (sum() would be NULL): rows outside a period add
  // nothing to its column.
  SqliteStatement stmt;
  std::string why;
  int rc = db_.prepare(
      "SELECT agent, total(CASE WHEN time_ms >= ?1 THEN cost_usd END),"
      " total(CASE WHEN time_ms >= ?2 THEN cost_usd END), total(cost_usd)"
      " FROM " +
          std::string(rows_source()) + " GROUP BY agent",
      &stmt, &why);
  if (rc != SQLITE_OK) {
    *error = path_ + ": " + why;
    return std::nullopt;
  }
  sqlite3_bind_int64(stmt.get(), 1, day_start_unix_ms);
  sqlite3_bind_int64(stmt.get(), 2, month_start_unix_ms);
  std::map<std::string, PeriodSpend> spent;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const unsigned char* agent = sqlite3_column_text(stmt.get(), 0);
    PeriodSpend& s = spent[agent != nullptr ? reinterpret_cast<const char*>(agent) : ""];
    s.day_usd = sqlite3_column_double(stmt.get(), 1);
    s.month_usd = sqlite3_column_double(stmt.get(), 2);
    s.total_usd = sqlite3_column_double(stmt.get(), 3);
  }
  if (rc != SQLITE_DONE) {
    *error = path_ + ": " + db_.describe(rc);
    return std::nullopt;
  }
  return spent;
}

std::optional<double> LedgerReader::spend_of_agent(std::string_view agent, int64_t since_unix_ms,
                                                   std::string* error) const {
  SqliteStatement stmt;
  std::string why;
  int rc = db_.prepare(std::string("SELECT total(cost_usd) FROM ") + rows_source() +
                           " WHERE agent = ?1 AND time_ms >= ?2",
                       &stmt, &why);
  if (rc != SQLITE_OK) {
    *error = path_ + ": " + why;
    return std::nullopt;
  }
  sqlite3_bind_text(stmt.get(), 1, agent.data(), static_cast<int>(agent.size()), SQLITE_STATIC);
  sqlite3_bind_int64(stmt.get(), 2, since_unix_ms);
  rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) {
    *error = path_ + ": " + db_.describe(rc);
    return std::nullopt;
  }
  return sqlite3_column_double(stmt.get(), 0);
}

std::optional<std::map<std::string, double>> spend_by_agent(const std::string& path,
                                                            int64_t since_unix_ms,
                                                            std::string* error) {
  auto reader = LedgerReader::open(path, error);
  if (!reader) return std::nullopt;
  return reader->spend_by_agent(since_unix_ms, error);
}

}  // namespace sluice::ledger
