#include "core/ledger/tool_usage_query.h"

#include <map>
#include <string>

namespace sluice::ledger {
namespace {

// The outcome columns a ToolUsageRow reads, in its field order. `x = 'y'` is 0 or 1 in SQLite,
// so sum() counts; coalesce: sum() of no rows is NULL. The codes are those of ledger_row.h.
// The outcome columns a ToolUsageRow reads, in its field order, each row counted for `w` calls
// (1 in `requests`, the `requests` column of `usage_rows`). `x = 'y'` is 0 or 1 in SQLite, so
// a weighted sum counts; coalesce: sum() of no rows is NULL. The codes are those of
// ledger_row.h. A roll-up's latency_s is the sum of its calls' durations.
std::string outcome_sums(const char* w) {
  const std::string ws(w);
  auto count_of = [&](const char* code) {
    return "coalesce(sum((error_code = '" + std::string(code) + "') * " + ws + "), 0)";
  };
  return "coalesce(sum(" + ws + "), 0), " + count_of("") + ", " + count_of("tool_error") + ", " +
         count_of("tool_timeout") + ", " + count_of("tool_unavailable") + ", " +
         count_of("invalid_arguments") + ", total(latency_s)";
}

// Tool rows only: `tool != ''` is the partial index's own condition (requests_tool_time), so
// SQLite can read tool rows without touching the model requests. Medians read `requests`
// only: a roll-up keeps no single call's duration.
constexpr const char* kToolRows = " FROM requests WHERE tool != '' AND time_ms >= ?1";
std::string tool_rows(bool rollups) {
  return rollups ? " FROM usage_rows WHERE tool != '' AND time_ms >= ?1" : kToolRows;
}

uint64_t column_count(sqlite3_stmt* stmt, int column) {
  const int64_t v = sqlite3_column_int64(stmt, column);
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

void read_outcomes(sqlite3_stmt* stmt, int first, ToolUsageRow* row) {
  row->calls = column_count(stmt, first);
  row->ok = column_count(stmt, first + 1);
  row->error = column_count(stmt, first + 2);
  row->timeout = column_count(stmt, first + 3);
  row->unavailable = column_count(stmt, first + 4);
  row->invalid_arguments = column_count(stmt, first + 5);
  row->total_duration_s = sqlite3_column_double(stmt, first + 6);
}

std::string text_of(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "";
}

// Each tool's median duration: the call in the middle of its calls ordered by duration (the
// lower of the two middle ones for an even count), picked by a window function in one pass.
int query_medians(SqliteDb& db, int64_t since, std::map<std::string, double>* medians,
                  std::string* error) {
  SqliteStatement stmt;
  int rc = db.prepare(std::string("SELECT tool, latency_s FROM (SELECT tool, latency_s,"
                                  " row_number() OVER (PARTITION BY tool ORDER BY latency_s) AS n,"
                                  " count(*) OVER (PARTITION BY tool) AS c") +
                          kToolRows + ") WHERE n = (c + 1) / 2",
                      &stmt, error);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_int64(stmt.get(), 1, since);
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    (*medians)[text_of(stmt.get(), 0)] = sqlite3_column_double(stmt.get(), 1);
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int query_total(SqliteDb& db, bool rollups, int64_t since, ToolUsageRow* total,
                std::string* error) {
  SqliteStatement stmt;
  int rc = db.prepare("SELECT " + outcome_sums(rollups ? "requests" : "1") + tool_rows(rollups),
                      &stmt, error);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_int64(stmt.get(), 1, since);
  rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return rc;
  read_outcomes(stmt.get(), 0, total);
  total->key = "total";
  // The median over the calls still kept one by one (rolled-up days have no single durations).
  SqliteStatement kept;
  rc = db.prepare(std::string("SELECT count(*)") + kToolRows, &kept, error);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_int64(kept.get(), 1, since);
  rc = sqlite3_step(kept.get());
  if (rc != SQLITE_ROW) return rc;
  const int64_t calls_kept = sqlite3_column_int64(kept.get(), 0);
  if (calls_kept <= 0) return SQLITE_OK;
  SqliteStatement median;
  rc = db.prepare(
      std::string("SELECT latency_s") + kToolRows + " ORDER BY latency_s LIMIT 1 OFFSET ?2",
      &median, error);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_int64(median.get(), 1, since);
  sqlite3_bind_int64(median.get(), 2, (calls_kept - 1) / 2);
  rc = sqlite3_step(median.get());
  if (rc != SQLITE_ROW) return rc;
  total->median_duration_s = sqlite3_column_double(median.get(), 0);
  return SQLITE_OK;
}

}  // namespace

int query_tool_usage(SqliteDb& db, bool rollups, int64_t since_unix_ms, size_t max_groups,
                     ToolUsageReport* out) {
  std::string why;  // prepare's message; the caller describes the failing code itself
  std::string* error = &why;
  SqliteStatement stmt;
  const char* weight = rollups ? "requests" : "1";
  int rc = db.prepare("SELECT tool, " + outcome_sums(weight) + tool_rows(rollups) +
                          " GROUP BY tool ORDER BY sum(" + weight + ") DESC, tool LIMIT ?2",
                      &stmt, error);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_int64(stmt.get(), 1, since_unix_ms);
  // One more than asked for tells whether the list was cut.
  sqlite3_bind_int64(stmt.get(), 2, static_cast<int64_t>(max_groups) + 1);
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (out->rows.size() == max_groups) {
      out->truncated = true;
      break;
    }
    ToolUsageRow row;
    row.key = text_of(stmt.get(), 0);
    read_outcomes(stmt.get(), 1, &row);
    out->rows.push_back(std::move(row));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;

  std::map<std::string, double> medians;
  rc = query_medians(db, since_unix_ms, &medians, error);
  if (rc != SQLITE_OK) return rc;
  for (ToolUsageRow& row : out->rows) {
    auto it = medians.find(row.key);
    if (it != medians.end()) row.median_duration_s = it->second;
  }
  return query_total(db, rollups, since_unix_ms, &out->total, error);
}

int query_tool_durations(SqliteDb& db, int64_t since_unix_ms, ToolDurations* out) {
  std::string why;  // as in query_tool_usage: the caller describes the failing code
  SqliteStatement stmt;
  int rc = db.prepare(std::string("SELECT tool, latency_s") + kToolRows, &stmt, &why);
  if (rc != SQLITE_OK) return rc;
  sqlite3_bind_int64(stmt.get(), 1, since_unix_ms);
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    (*out)[text_of(stmt.get(), 0)].push_back(sqlite3_column_double(stmt.get(), 1));
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

}  // namespace sluice::ledger
