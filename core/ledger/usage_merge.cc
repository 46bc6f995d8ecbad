#include "core/ledger/usage_merge.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

namespace sluice::ledger {
namespace {

void add_sums(const UsageRow& from, UsageRow* to) {
  to->requests += from.requests;
  to->tool_calls += from.tool_calls;
  to->input_tokens += from.input_tokens;
  to->output_tokens += from.output_tokens;
  to->cached_tokens += from.cached_tokens;
  to->cost_usd += from.cost_usd;
  to->estimated_requests += from.estimated_requests;
}

// The median is not added: it is picked again from the union of durations.
void add_outcomes(const ToolUsageRow& from, ToolUsageRow* to) {
  to->calls += from.calls;
  to->ok += from.ok;
  to->error += from.error;
  to->timeout += from.timeout;
  to->unavailable += from.unavailable;
  to->invalid_arguments += from.invalid_arguments;
  to->total_duration_s += from.total_duration_s;
}

// One ledger's SQL orders by total(cost_usd) DESC, count(*) DESC, key; count(*) there is every
// row of the key, its tool calls included (by agent).
bool usage_before(const UsageRow& a, const UsageRow& b) {
  if (a.cost_usd != b.cost_usd) return a.cost_usd > b.cost_usd;
  const uint64_t a_rows = a.requests + a.tool_calls;
  const uint64_t b_rows = b.requests + b.tool_calls;
  if (a_rows != b_rows) return a_rows > b_rows;
  return a.key < b.key;  // byte order, as SQLite's BINARY collation
}

// count(*) DESC, tool.
bool tool_before(const ToolUsageRow& a, const ToolUsageRow& b) {
  if (a.calls != b.calls) return a.calls > b.calls;
  return a.key < b.key;
}

// Cuts `rows` to `max_groups`, saying so in *truncated.
template <typename Row>
void cut(std::vector<Row>* rows, size_t max_groups, bool* truncated) {
  if (rows->size() <= max_groups) return;
  rows->resize(max_groups);
  *truncated = true;
}

}  // namespace

double lower_median(std::vector<double>& values) {
  if (values.empty()) return 0;
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>((values.size() - 1) / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

UsageReport merge_usage_reports(const std::vector<UsageReport>& reports, size_t max_groups) {
  UsageReport merged;
  merged.total.key = "total";
  if (reports.empty()) return merged;
  merged.by = reports.front().by;
  merged.since_unix_ms = reports.front().since_unix_ms;
  std::map<std::string, UsageRow> by_key;
  for (const UsageReport& report : reports) {
    merged.truncated = merged.truncated || report.truncated;
    for (const UsageRow& row : report.rows) {
      UsageRow& into = by_key[row.key];
      into.key = row.key;
      add_sums(row, &into);
    }
    add_sums(report.total, &merged.total);
  }
  for (auto& [key, row] : by_key) merged.rows.push_back(std::move(row));
  std::sort(merged.rows.begin(), merged.rows.end(), usage_before);
  cut(&merged.rows, max_groups, &merged.truncated);
  return merged;
}

ToolUsageReport merge_tool_usage_reports(const std::vector<ToolUsageReport>& reports,
                                         const std::vector<ToolDurations>& durations,
                                         size_t max_groups) {
  ToolUsageReport merged;
  merged.total.key = "total";
  if (reports.empty()) return merged;
  merged.since_unix_ms = reports.front().since_unix_ms;
  std::map<std::string, ToolUsageRow> by_key;
  for (const ToolUsageReport& report : reports) {
    merged.truncated = merged.truncated || report.truncated;
    for (const ToolUsageRow& row : report.rows) {
      ToolUsageRow& into = by_key[row.key];
      into.key = row.key;
      add_outcomes(row, &into);
    }
    add_outcomes(report.total, &merged.total);
  }

  ToolDurations every;  // per tool, over all ledgers
  std::vector<double> all;
  for (const ToolDurations& ledger : durations) {
    for (const auto& [tool, seconds] : ledger) {
      std::vector<double>& into = every[tool];
      into.insert(into.end(), seconds.begin(), seconds.end());
      all.insert(all.end(), seconds.begin(), seconds.end());
    }
  }
  for (auto& [key, row] : by_key) {
    auto it = every.find(key);
    if (it != every.end()) row.median_duration_s = lower_median(it->second);
    merged.rows.push_back(std::move(row));
  }
  merged.total.median_duration_s = lower_median(all);
  std::sort(merged.rows.begin(), merged.rows.end(), tool_before);
  cut(&merged.rows, max_groups, &merged.truncated);
  return merged;
}

}  // namespace sluice::ledger
