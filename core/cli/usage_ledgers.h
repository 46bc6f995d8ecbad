// The ledgers `sluice usage` reads (usage_command.h): each named once, read into one report.
// One ledger is reported exactly as before; several are read whole and merged
// (core/ledger/usage_merge.h), so a key cut from one ledger's list cannot be summed short.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ledger/usage_report.h"

namespace sluice::cli {

// A message naming two --ledger values that are the same file — the same path after realpath,
// or the same device and inode (a hard link, a bind mount) — or nullopt when each is a
// different file. A path that cannot be resolved is only compared by name: reading it will
// fail and say why.
std::optional<std::string> ledger_named_twice(const std::vector<std::string>& paths);

// The report over every ledger in `paths` (at least one). nullopt and *error, which names the
// file, when one of them cannot be read.
std::optional<ledger::UsageReport> usage_over(const std::vector<std::string>& paths,
                                              ledger::UsageBy by, int64_t since_unix_ms,
                                              std::string* error);
std::optional<ledger::ToolUsageReport> tool_usage_over(const std::vector<std::string>& paths,
                                                       int64_t since_unix_ms, std::string* error);

}  // namespace sluice::cli
