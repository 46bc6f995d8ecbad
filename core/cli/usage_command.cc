#include "core/cli/usage_command.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string_view>

#include "core/admin/usage_endpoint.h"
#include "core/ledger/ledger_reader.h"

namespace sluice::cli {
namespace {

constexpr const char* kUsageUsage =
    "usage: sluice usage --ledger FILE [--since DURATION] [--by agent|model|provider] [--json]\n"
    "  DURATION: how far back, in config units (30m, 24h, 7d); default: the whole ledger\n";

struct UsageOptions {
  std::string ledger;
  std::optional<std::string> since;
  ledger::UsageBy by = ledger::UsageBy::Agent;
  bool json = false;
};

// "--name VALUE" or "--name=VALUE"; nullopt when args[i] is not this option. A missing VALUE
// is reported and comes back as "" in *missing.
std::optional<std::string> take_value(const std::vector<std::string>& args, size_t& i,
                                      std::string_view name, bool* missing) {
  const std::string& a = args[i];
  if (a == name) {
    if (i + 1 >= args.size()) {
      std::fprintf(stderr, "sluice usage: %s needs a value\n", a.c_str());
      *missing = true;
      return std::string();
    }
    return args[++i];
  }
  const std::string prefix = std::string(name) + "=";
  if (a.rfind(prefix, 0) != 0) return std::nullopt;
  return a.substr(prefix.size());
}

bool parse_options(const std::vector<std::string>& args, UsageOptions* o) {
  bool missing = false;
  for (size_t i = 0; i < args.size() && !missing; ++i) {
    if (args[i] == "--json") {
      o->json = true;
    } else if (auto ledger = take_value(args, i, "--ledger", &missing)) {
      o->ledger = *ledger;
    } else if (auto since = take_value(args, i, "--since", &missing)) {
      o->since = *since;
    } else if (auto by_text = take_value(args, i, "--by", &missing)) {
      if (missing) break;
      auto by = ledger::parse_usage_by(*by_text);
      if (!by) {
        std::fprintf(stderr, "sluice usage: --by \"%s\": use agent, model or provider\n",
                     by_text->c_str());
        return false;
      }
      o->by = *by;
    } else {
      std::fprintf(stderr, "sluice usage: unexpected argument \"%s\"\n", args[i].c_str());
      return false;
    }
  }
  if (missing) return false;
  if (o->ledger.empty()) {
    std::fprintf(stderr, "sluice usage: --ledger FILE is required (the state.ledger file)\n");
    return false;
  }
  return true;
}

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

constexpr size_t kColumns = 7;
using Line = std::array<std::string, kColumns>;

Line line_of(const std::string& key, const ledger::UsageRow& row) {
  return {key,
          std::to_string(row.requests),
          std::to_string(row.input_tokens),
          std::to_string(row.output_tokens),
          std::to_string(row.cached_tokens),
          cost_text(row.cost_usd),
          share_text(row.estimated_share())};
}

}  // namespace

std::string render_usage_table(const ledger::UsageReport& report, const std::string& since_text) {
  std::string key_header = ledger::to_string(report.by);
  std::transform(key_header.begin(), key_header.end(), key_header.begin(),
                 [](char c) { return static_cast<char>(c - 'a' + 'A'); });
  std::vector<Line> lines;
  lines.push_back({key_header, "REQUESTS", "INPUT", "OUTPUT", "CACHED", "COST_USD", "ESTIMATED"});
  for (const ledger::UsageRow& row : report.rows) lines.push_back(line_of(key_text(row.key), row));
  lines.push_back(line_of("TOTAL", report.total));

  std::array<size_t, kColumns> width{};
  for (const Line& line : lines)
    for (size_t c = 0; c < kColumns; ++c) width[c] = std::max(width[c], line[c].size());

  std::string out =
      "usage by " + std::string(ledger::to_string(report.by)) + ", " +
      (report.since_unix_ms > 0
           ? "since " + ledger::format_utc(report.since_unix_ms) + " (" + since_text + ")"
           : std::string("whole ledger")) +
      "\n";
  for (const Line& line : lines) {
    for (size_t c = 0; c < kColumns; ++c) {
      const size_t pad = width[c] - line[c].size();
      if (c == 0) {
        out += line[c];
        out.append(pad, ' ');
      } else {
        out.append(2 + pad, ' ');  // numbers right-aligned
        out += line[c];
      }
    }
    out += '\n';
  }
  if (report.truncated) {
    out += "(only the " + std::to_string(report.rows.size()) +
           " most expensive rows are listed; TOTAL covers all)\n";
  }
  return out;
}

int usage_command(const std::vector<std::string>& args) {
  UsageOptions options;
  if (!parse_options(args, &options)) {
    std::fputs(kUsageUsage, stderr);
    return 2;
  }
  int64_t since = 0;
  if (options.since) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    auto parsed = ledger::since_unix_ms(*options.since, now_ms);
    if (!parsed) {
      std::fprintf(stderr,
                   "sluice usage: --since \"%s\" is not a duration: use a number and a unit "
                   "(30m, 24h, 7d; ms, s, m, h, d)\n",
                   options.since->c_str());
      return 2;
    }
    since = *parsed;
  }
  std::string error;
  auto reader = ledger::LedgerReader::open(options.ledger, &error);
  std::optional<ledger::UsageReport> report;
  if (reader) report = reader->usage_report(options.by, since, &error);
  if (!report) {
    std::fprintf(stderr, "sluice usage: %s\n", error.c_str());
    return 1;
  }
  if (options.json) {
    std::printf("%s\n", admin::usage_report_json(*report, options.ledger).c_str());
  } else {
    std::fputs(render_usage_table(*report, options.since.value_or("")).c_str(), stdout);
  }
  return 0;
}

}  // namespace sluice::cli
