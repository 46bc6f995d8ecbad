#include "core/cli/usage_ledgers.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <limits>
#include <memory>

#include "core/ledger/ledger_reader.h"
#include "core/ledger/usage_merge.h"

namespace sluice::cli {
namespace {

// What tells two paths apart as files. Unresolvable: the name as given, and no inode.
struct FileIdentity {
  std::string name;  // realpath, or the path as given
  bool has_inode = false;
  dev_t device = 0;
  ino_t inode = 0;

  bool same_as(const FileIdentity& other) const {
    if (name == other.name) return true;
    return has_inode && other.has_inode && device == other.device && inode == other.inode;
  }
};

FileIdentity identify(const std::string& path) {
  FileIdentity id;
  id.name = path;
  if (char* resolved = ::realpath(path.c_str(), nullptr)) {
    id.name = resolved;
    ::free(resolved);  // realpath(…, nullptr) mallocs its answer
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    id.has_inode = true;
    id.device = st.st_dev;
    id.inode = st.st_ino;
  }
  return id;
}

// Each ledger is read whole before the merge (usage_merge.h); a reader's own limit is one more
// than the groups it asks for, so this is the largest it can take.
constexpr size_t kEveryGroup = static_cast<size_t>(std::numeric_limits<int64_t>::max() - 1);
const ledger::LedgerReader::ReportLimits kWhole{.max_groups = kEveryGroup, .max_time = {}};
// The merged report is cut where one ledger's would be.
const size_t kMaxGroups = ledger::LedgerReader::ReportLimits{}.max_groups;

}  // namespace

std::optional<std::string> ledger_named_twice(const std::vector<std::string>& paths) {
  std::vector<FileIdentity> seen;
  for (const std::string& path : paths) {
    FileIdentity id = identify(path);
    for (size_t i = 0; i < seen.size(); ++i) {
      if (!id.same_as(seen[i])) continue;
      return "--ledger " + path + " is the same file as --ledger " + paths[i] +
             ": name each ledger once (it would be counted twice)";
    }
    seen.push_back(std::move(id));
  }
  return std::nullopt;
}

std::optional<ledger::UsageReport> usage_over(const std::vector<std::string>& paths,
                                              ledger::UsageBy by, int64_t since_unix_ms,
                                              std::string* error) {
  if (paths.size() == 1) {
    auto reader = ledger::LedgerReader::open(paths.front(), error);
    if (!reader) return std::nullopt;
    return reader->usage_report(by, since_unix_ms, error);
  }
  std::vector<ledger::UsageReport> reports;
  for (const std::string& path : paths) {
    auto reader = ledger::LedgerReader::open(path, error);
    if (!reader) return std::nullopt;
    auto report = reader->usage_report(by, since_unix_ms, error, kWhole);
    if (!report) return std::nullopt;
    reports.push_back(std::move(*report));
  }
  return ledger::merge_usage_reports(reports, kMaxGroups);
}

std::optional<ledger::ToolUsageReport> tool_usage_over(const std::vector<std::string>& paths,
                                                       int64_t since_unix_ms, std::string* error) {
  if (paths.size() == 1) {
    auto reader = ledger::LedgerReader::open(paths.front(), error);
    if (!reader) return std::nullopt;
    return reader->tool_usage_report(since_unix_ms, error);
  }
  std::vector<ledger::ToolUsageReport> reports;
  std::vector<ledger::ToolDurations> durations;
  for (const std::string& path : paths) {
    auto reader = ledger::LedgerReader::open(path, error);
    if (!reader) return std::nullopt;
    // The durations must be those of the calls the report counted: a live ledger grows.
    const ledger::LedgerReader::Snapshot snapshot(*reader);
    auto report = reader->tool_usage_report(since_unix_ms, error, kWhole);
    if (!report) return std::nullopt;
    auto seconds = reader->tool_durations(since_unix_ms, error);
    if (!seconds) return std::nullopt;
    reports.push_back(std::move(*report));
    durations.push_back(std::move(*seconds));
  }
  return ledger::merge_tool_usage_reports(reports, durations, kMaxGroups);
}

}  // namespace sluice::cli
