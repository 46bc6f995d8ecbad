// render_status and parse_report (status_command.h): the /status JSON as two aligned tables
// for people, with the health report's verdict.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "core/cli/status_command.h"

namespace sluice::cli {
namespace {

using Row = std::vector<std::string>;

// Columns padded to their widest cell, two spaces apart; the last column is not padded.
void append_table(std::string& out, const std::vector<Row>& rows) {
  std::vector<size_t> width;
  for (const Row& r : rows) {
    if (width.size() < r.size()) width.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const Row& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line.append(width[i] - r[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "2025-01-02T03:04:05.678Z" → time_point; nullopt if it is not that shape.
std::optional<std::chrono::system_clock::time_point> parse_iso_utc(std::string_view s) {
  std::tm tm{};
  int ms = 0;
  const std::string text(s);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t t = ::timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t) + std::chrono::milliseconds(ms);
}

// "4s ago", "3m ago", "2h ago", "5d ago".
std::string age(std::chrono::system_clock::time_point at,
                std::chrono::system_clock::time_point now) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(now - at).count();
  if (s < 0) return "just now";
  if (s < 120) return std::to_string(s) + "s ago";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m ago";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

std::string text_or(simdjson::dom::element e, const char* fallback) {
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) return std::string(s);
  return fallback;
}

std::string integer_or(simdjson::dom::element e, const char* fallback) {
  uint64_t u;
  if (e.get(u) == simdjson::SUCCESS) return std::to_string(u);
  int64_t i;
  if (e.get(i) == simdjson::SUCCESS) return std::to_string(i);
  return fallback;
}

double number_or(simdjson::dom::element e, double fallback) {
  double d;
  if (e.get(d) == simdjson::SUCCESS) return d;
  return fallback;
}

// One limit cell: "used/limit" for rpm/tpm, "in_use/limit" for concurrent, "-" when unset.
std::string usage_cell(simdjson::dom::element agent, const char* limit_name,
                       const char* used_field) {
  uint64_t limit;
  if (agent["limits"][limit_name].get(limit) != simdjson::SUCCESS) return "-";
  return integer_or(agent["usage"][limit_name][used_field], "?") + "/" + std::to_string(limit);
}

// Dollars for people: cents, or the first significant digits of a spend under a cent (a few
// cheap requests must not read as "0.00").
std::string dollars(double v) {
  if (v == 0 || std::fabs(v) >= 0.01) return fixed(v, 2);
  return fixed(v, 6);
}

// The budget cell: "spent/usd per" ("0.42/5.00 day"), "-" for an agent without a budget.
std::string budget_cell(simdjson::dom::element agent) {
  simdjson::dom::object budget;
  if (agent["budget"].get(budget) != simdjson::SUCCESS) return "-";
  return dollars(number_or(budget["spent_usd"], 0)) + "/" + dollars(number_or(budget["usd"], 0)) +
         " " + text_or(budget["per"], "?");
}

// The report's verdict rules (core/health/provider_verdict.h) over /status's own health words,
// for a sluice too old to send a report: unknown counts as ok, as the router treats it.
std::string verdict_of(const std::vector<std::string>& healths) {
  size_t down = 0;
  size_t impaired = 0;
  for (const std::string& h : healths) {
    if (h == "down") ++down;
    if (h == "down" || h == "slow") ++impaired;
  }
  if (!healths.empty() && down == healths.size()) return "down";
  return impaired > 0 ? "degraded" : "ok";
}

}  // namespace

std::optional<ReportSummary> parse_report(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
  std::string_view verdict;
  simdjson::dom::object providers;
  if (doc["verdict"].get(verdict) != simdjson::SUCCESS ||
      doc["providers"].get(providers) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  ReportSummary summary;
  summary.verdict = std::string(verdict);
  for (auto [name, p] : providers) {
    summary.providers[std::string(name)] = {text_or(p["health"], "?"), text_or(p["source"], "?")};
  }
  return summary;
}

int exit_code_of(std::string_view verdict) {
  if (verdict == "ok") return 0;
  if (verdict == "degraded") return 1;
  if (verdict == "down") return 2;
  return 3;
}

std::optional<StatusTable> render_status(std::string_view json,
                                         std::chrono::system_clock::time_point now,
                                         std::string* error, const ReportSummary* report) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    *error = "the answer is not JSON";
    return std::nullopt;
  }
  simdjson::dom::object providers;
  if (doc["providers"].get(providers) != simdjson::SUCCESS) {
    *error = "the answer has no \"providers\" object: is this sluice's admin API?";
    return std::nullopt;
  }
  StatusTable table;
  std::string& out = table.text;

  out += "sluice " + text_or(doc["version"], "?") + ", config generation " +
         integer_or(doc["generation"], "?") + " from " + text_or(doc["config_source"], "?") +
         ", up " + integer_or(doc["uptime_seconds"], "?") + "s";
  bool reload_ok = true;
  if (doc["last_reload"]["ok"].get(reload_ok) == simdjson::SUCCESS && !reload_ok) {
    out += "\nlast reload FAILED: " + text_or(doc["last_reload"]["error"], "?");
  }
  out += "\n";

  std::vector<Row> rows = {{"PROVIDER", "HEALTH", "SOURCE", "CIRCUIT", "LATENCY_MS", "IN_FLIGHT",
                            "REQUESTS", "FAILURES", "ERROR_RATE", "LAST_ERROR"}};
  std::vector<std::string> healths;
  for (auto [name, p] : providers) {
    std::string health = text_or(p["health"], "unknown");
    std::string source = "-";
    if (report != nullptr) {
      auto it = report->providers.find(std::string_view(name));
      if (it != report->providers.end()) {
        health = it->second.health;
        source = it->second.source;
      }
    }
    healths.push_back(health);
    const double latency = number_or(p["ewma_latency_ms"], 0);
    std::string last_error = "-";
    std::string_view err;
    if (p["last_error"].get(err) == simdjson::SUCCESS) {
      last_error = std::string(err);
      std::string_view at;
      if (p["last_error_at"].get(at) == simdjson::SUCCESS) {
        if (auto t = parse_iso_utc(at)) last_error += " (" + age(*t, now) + ")";
      }
    }
    rows.push_back({std::string(name), health, source, text_or(p["circuit"], "?"),
                    latency > 0 ? fixed(latency, 1) : "-", integer_or(p["in_flight"], "0"),
                    integer_or(p["requests"], "0"), integer_or(p["failures"], "0"),
                    fixed(number_or(p["error_rate"], 0) * 100.0, 1) + "%", last_error});
  }
  table.verdict = report != nullptr ? report->verdict : verdict_of(healths);
  out += "verdict: " + table.verdict + "\n\n";
  append_table(out, rows);

  simdjson::dom::object agents;
  if (doc["agents"].get(agents) == simdjson::SUCCESS && agents.size() > 0) {
    out += "\n";
    std::vector<Row> agent_rows = {{"AGENT", "RPM", "TPM", "CONCURRENT", "BUDGET_USD"}};
    for (auto [name, a] : agents) {
      agent_rows.push_back({std::string(name), usage_cell(a, "rpm", "used"),
                            usage_cell(a, "tpm", "used"), usage_cell(a, "concurrent", "in_use"),
                            budget_cell(a)});
    }
    append_table(out, agent_rows);
  }
  return table;
}

}  // namespace sluice::cli
