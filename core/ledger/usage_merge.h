// Several ledgers' usage reports as one (`sluice usage --ledger a.db --ledger b.db`): in a
// fleet each sidecar writes its own ledger, and the operator wants one report over all of them.
//
// Counts, tokens and cost are sums, so they merge exactly per key. A median does not: the
// median of the ledgers' medians is not the median of their calls. The tool report's p50s are
// therefore picked again from every call's duration (ToolDurations), by the same rule as one
// ledger's report (nearest rank, the lower middle for an even count).
//
// The inputs must be whole (read without a group limit): a key cut from one ledger's list but
// not from another's would be summed short. The merged rows are cut at `max_groups` afterwards,
// as one ledger's would be, and sorted in the same order.
#pragma once

#include <cstddef>
#include <vector>

#include "core/ledger/usage_report.h"

namespace sluice::ledger {

// All reports must have the same `by` and `since_unix_ms` (the merged report has the first's).
UsageReport merge_usage_reports(const std::vector<UsageReport>& reports, size_t max_groups);

// `durations` are the same ledgers' tool calls (LedgerReader::tool_durations), in any order.
ToolUsageReport merge_tool_usage_reports(const std::vector<ToolUsageReport>& reports,
                                         const std::vector<ToolDurations>& durations,
                                         size_t max_groups);

// The nearest-rank median of `values` (the lower middle for an even count); 0 when empty.
// Reorders `values`.
double lower_median(std::vector<double>& values);

}  // namespace sluice::ledger
