// render_usage_table and render_tool_usage_table (usage_command.h): the usage reports as
// aligned tables for people.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/cli/usage_command.h"

namespace sluice::cli {
namespace {

using Line = std::vector<std::string>;

std::string key_text(const std::string& key) {
  return key.empty() ? "(none)" : key;
}

std::string cost_text(double usd) {
  char text[64];
  std::snprintf(text, sizeof text, "%.8f", usd);  // 1e-8 USD: one embedding call is ~3e-7
  return text;
}

std::string share_text(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", share * 100.0);
  return text;
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", seconds);  // ms: what a tool call is measured in
  return text;
}

// Over several ledgers the title says how many, so a report pasted elsewhere is not taken for
// one sidecar's; one ledger's title is what it has always been.
std::string title(const char* by, int64_t since_unix_ms, const std::string& since_text,
                  size_t ledger_count) {
  const bool fleet = ledger_count > 1;
  std::string out =
      "usage by " + std::string(by) + ", " +
      (since_unix_ms > 0 ? "since " + ledger::format_utc(since_unix_ms) + " (" + since_text + ")"
                         : std::string(fleet ? "all time" : "whole ledger"));
  if (fleet) out += ", from " + std::to_string(ledger_count) + " ledgers";
  return out + "\n";
}

// The first column left-aligned, the others (numbers) right-aligned, two spaces apart.
std::string aligned(const std::vector<Line>& lines) {
  std::vector<size_t> width;
  for (const Line& line : lines) {
    if (width.size() < line.size()) width.resize(line.size(), 0);
    for (size_t c = 0; c < line.size(); ++c) width[c] = std::max(width[c], line[c].size());
  }
  std::string out;
  for (const Line& line : lines) {
    for (size_t c = 0; c < line.size(); ++c) {
      const size_t pad = width[c] - line[c].size();
      if (c == 0) {
        out += line[c];
        out.append(pad, ' ');
      } else {
        out.append(2 + pad, ' ');
        out += line[c];
      }
    }
    out += '\n';
  }
  return out;
}

Line usage_line(const std::string& key, const ledger::UsageRow& row, bool with_tool_calls) {
  Line line = {key, std::to_string(row.requests)};
  if (with_tool_calls) line.push_back(std::to_string(row.tool_calls));
  for (std::string cell : {std::to_string(row.input_tokens), std::to_string(row.output_tokens),
                           std::to_string(row.cached_tokens), cost_text(row.cost_usd),
                           share_text(row.estimated_share())}) {
    line.push_back(std::move(cell));
  }
  return line;
}

Line tool_line(const std::string& key, const ledger::ToolUsageRow& row) {
  return {key,
          std::to_string(row.calls),
          std::to_string(row.ok),
          std::to_string(row.error),
          std::to_string(row.timeout),
          std::to_string(row.unavailable),
          std::to_string(row.invalid_arguments),
          std::to_string(row.other()),
          seconds_text(row.median_duration_s),
          seconds_text(row.average_duration_s())};
}

}  // namespace

std::string render_usage_table(const ledger::UsageReport& report, const std::string& since_text,
                               size_t ledger_count) {
  std::string key_header = ledger::to_string(report.by);
  std::transform(key_header.begin(), key_header.end(), key_header.begin(),
                 [](char c) { return static_cast<char>(c - 'a' + 'A'); });
  // By agent, the agent's tool calls sit beside its model requests; the other groupings have
  // none (a tool call has no model or provider).
  const bool with_tool_calls = report.by == ledger::UsageBy::Agent;
  std::vector<Line> lines;
  Line header = {key_header, "REQUESTS"};
  if (with_tool_calls) header.push_back("TOOL_CALLS");
  for (const char* name : {"INPUT", "OUTPUT", "CACHED", "COST_USD", "ESTIMATED"}) {
    header.push_back(name);
  }
  lines.push_back(std::move(header));
  for (const ledger::UsageRow& row : report.rows) {
    lines.push_back(usage_line(key_text(row.key), row, with_tool_calls));
  }
  lines.push_back(usage_line("TOTAL", report.total, with_tool_calls));

  std::string out =
      title(ledger::to_string(report.by), report.since_unix_ms, since_text, ledger_count);
  out += aligned(lines);
  if (report.truncated) {
    out += "(only the " + std::to_string(report.rows.size()) +
           " most expensive rows are listed; TOTAL covers all)\n";
  }
  return out;
}

std::string render_tool_usage_table(const ledger::ToolUsageReport& report,
                                    const std::string& since_text, size_t ledger_count) {
  std::vector<Line> lines;
  lines.push_back({"TOOL", "CALLS", "OK", "ERROR", "TIMEOUT", "UNAVAILABLE", "INVALID_ARGS",
                   "OTHER", "P50_S", "AVG_S"});
  for (const ledger::ToolUsageRow& row : report.rows) lines.push_back(tool_line(row.key, row));
  lines.push_back(tool_line("TOTAL", report.total));

  std::string out = title("tool", report.since_unix_ms, since_text, ledger_count);
  out += aligned(lines);
  if (report.truncated) {
    out += "(only the " + std::to_string(report.rows.size()) +
           " most called tools are listed; TOTAL covers all)\n";
  }
  return out;
}

}  // namespace sluice::cli
