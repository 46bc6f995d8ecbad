#include "core/cli/usage_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string_view>

#include "core/admin/usage_endpoint.h"
#include "core/cli/usage_ledgers.h"

namespace sluice::cli {
namespace {

constexpr const char* kUsageUsage =
    "usage: sluice usage --ledger FILE [--ledger FILE...] [--since DURATION]"
    " [--by agent|model|provider|tool] [--json]\n"
    "  FILE: a spend ledger (state.ledger); several: one report over all of them (a fleet)\n"
    "  DURATION: how far back, in config units (30m, 24h, 7d); default: the whole ledger\n";

struct UsageOptions {
  std::vector<std::string> ledgers;  // in the order given; reported as one
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
      if (missing) break;
      o->ledgers.push_back(*ledger);
    } else if (auto since = take_value(args, i, "--since", &missing)) {
      o->since = *since;
    } else if (auto by_text = take_value(args, i, "--by", &missing)) {
      if (missing) break;
      auto by = ledger::parse_usage_by(*by_text);
      if (!by) {
        std::fprintf(stderr, "sluice usage: --by \"%s\": use agent, model, provider or tool\n",
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
  // An empty value ("--ledger=") names no file: the same complaint as no --ledger at all.
  if (o->ledgers.empty() ||
      std::find(o->ledgers.begin(), o->ledgers.end(), std::string()) != o->ledgers.end()) {
    std::fprintf(stderr, "sluice usage: --ledger FILE is required (the state.ledger file)\n");
    return false;
  }
  return true;
}

}  // namespace

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
  if (auto twice = ledger_named_twice(options.ledgers)) {
    std::fprintf(stderr, "sluice usage: %s\n", twice->c_str());
    std::fputs(kUsageUsage, stderr);
    return 2;
  }
  // The whole output is made before any of it is printed: a ledger that cannot be read leaves
  // stdout empty, so a script never takes a partial report for the fleet's.
  const std::string since_text = options.since.value_or("");
  const size_t count = options.ledgers.size();
  std::string error;
  std::string out;
  if (options.by == ledger::UsageBy::Tool) {
    if (auto report = tool_usage_over(options.ledgers, since, &error)) {
      out = options.json ? admin::tool_usage_report_json(*report, options.ledgers) + "\n"
                         : render_tool_usage_table(*report, since_text, count);
    }
  } else if (auto report = usage_over(options.ledgers, options.by, since, &error)) {
    out = options.json ? admin::usage_report_json(*report, options.ledgers) + "\n"
                       : render_usage_table(*report, since_text, count);
  }
  if (out.empty()) {
    std::fprintf(stderr, "sluice usage: %s\n", error.c_str());
    return 1;
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace sluice::cli
