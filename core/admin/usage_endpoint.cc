#include "core/admin/usage_endpoint.h"

#include <optional>

#include "core/admin/json_writer.h"
#include "core/ledger/ledger_reader.h"

namespace sluice::admin {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded value: %XX and '+' for space.
std::string decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The value of `name` in a query string (the last one wins); nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  std::optional<std::string> found;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (decode(pair.substr(0, eq)) != name) continue;
    found = eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
  }
  return found;
}

void write_sums(JsonWriter& out, const ledger::UsageRow& row) {
  out.key("requests").unsigned_integer(row.requests);
  out.key("input_tokens").unsigned_integer(row.input_tokens);
  out.key("output_tokens").unsigned_integer(row.output_tokens);
  out.key("cached_tokens").unsigned_integer(row.cached_tokens);
  out.key("cost_usd").number(row.cost_usd);
  out.key("estimated_share").number(row.estimated_share());
}

void write_outcomes(JsonWriter& out, const ledger::ToolUsageRow& row) {
  out.key("calls").unsigned_integer(row.calls);
  out.key("ok").unsigned_integer(row.ok);
  out.key("error").unsigned_integer(row.error);
  out.key("timeout").unsigned_integer(row.timeout);
  out.key("unavailable").unsigned_integer(row.unavailable);
  out.key("invalid_arguments").unsigned_integer(row.invalid_arguments);
  out.key("other").unsigned_integer(row.other());
  out.key("p50_s").number(row.median_duration_s);
  out.key("avg_s").number(row.average_duration_s());
}

// The fields every report shares, before its rows. "ledgers" only when there are several:
// one ledger's document stays what GET /usage has always answered.
void write_head(JsonWriter& out, ledger::UsageBy by, int64_t since_unix_ms,
                const std::vector<std::string>& ledger_paths) {
  out.key("by").string(ledger::to_string(by));
  out.key("since");
  if (since_unix_ms > 0) {
    out.string(ledger::format_utc(since_unix_ms));
  } else {
    out.null();
  }
  out.key("ledger").string(ledger_paths.empty() ? std::string() : ledger_paths.front());
  if (ledger_paths.size() < 2) return;
  out.key("ledgers").begin_array();
  for (const std::string& path : ledger_paths) out.string(path);
  out.end_array();
}

AdminResponse bad_query(const std::string& message) {
  return admin_error(400, message, "invalid_request_error", "invalid_usage_query");
}

}  // namespace

std::string usage_report_json(const ledger::UsageReport& report, const std::string& ledger_path) {
  return usage_report_json(report, std::vector<std::string>{ledger_path});
}

std::string tool_usage_report_json(const ledger::ToolUsageReport& report,
                                   const std::string& ledger_path) {
  return tool_usage_report_json(report, std::vector<std::string>{ledger_path});
}

std::string usage_report_json(const ledger::UsageReport& report,
                              const std::vector<std::string>& ledger_paths) {
  // By agent, each agent's tool calls follow its model requests' sums; the other reports have
  // none to show.
  const bool with_tool_calls = report.by == ledger::UsageBy::Agent;
  JsonWriter out;
  out.begin_object();
  write_head(out, report.by, report.since_unix_ms, ledger_paths);
  out.key("rows").begin_array();
  for (const ledger::UsageRow& row : report.rows) {
    out.begin_object();
    out.key("key").string(row.key);
    write_sums(out, row);
    if (with_tool_calls) out.key("tool_calls").unsigned_integer(row.tool_calls);
    out.end_object();
  }
  out.end_array();
  out.key("total").begin_object();
  write_sums(out, report.total);
  if (with_tool_calls) out.key("tool_calls").unsigned_integer(report.total.tool_calls);
  out.end_object();
  out.key("truncated").boolean(report.truncated);
  out.end_object();
  return out.take();
}

std::string tool_usage_report_json(const ledger::ToolUsageReport& report,
                                   const std::vector<std::string>& ledger_paths) {
  JsonWriter out;
  out.begin_object();
  write_head(out, ledger::UsageBy::Tool, report.since_unix_ms, ledger_paths);
  out.key("rows").begin_array();
  for (const ledger::ToolUsageRow& row : report.rows) {
    out.begin_object();
    out.key("key").string(row.key);
    write_outcomes(out, row);
    out.end_object();
  }
  out.end_array();
  out.key("total").begin_object();
  write_outcomes(out, report.total);
  out.end_object();
  out.key("truncated").boolean(report.truncated);
  out.end_object();
  return out.take();
}

AdminResponse usage_endpoint(std::string_view query, const std::string& ledger_path,
                             int64_t now_unix_ms) {
  ledger::UsageBy by = ledger::UsageBy::Agent;
  if (auto text = query_value(query, "by")) {
    auto parsed = ledger::parse_usage_by(*text);
    if (!parsed) {
      return bad_query("by=\"" + *text +
                       "\" is not a report key; use agent, model, provider or tool");
    }
    by = *parsed;
  }
  int64_t since = 0;
  if (auto text = query_value(query, "since")) {
    auto parsed = ledger::since_unix_ms(*text, now_unix_ms);
    if (!parsed) {
      return bad_query("since=\"" + *text +
                       "\" is not a duration; use a number and a unit: 30m, 24h, 7d (ms, s, m, h, "
                       "d)");
    }
    since = *parsed;
  }
  if (ledger_path.empty()) {
    return admin_error(404,
                       "the spend ledger is off (state.ledger is \"\"), so there is no usage to "
                       "report; set state.ledger and restart sluice",
                       "not_found_error", "ledger_disabled");
  }
  std::string error;
  auto reader = ledger::LedgerReader::open(ledger_path, &error);
  const ledger::LedgerReader::ReportLimits limits{.max_groups = kUsageMaxGroups,
                                                  .max_time = kUsageQueryTime};
  AdminResponse r;
  if (reader && by == ledger::UsageBy::Tool) {
    if (auto report = reader->tool_usage_report(since, &error, limits)) {
      r.body = tool_usage_report_json(*report, ledger_path);
    }
  } else if (reader) {
    if (auto report = reader->usage_report(by, since, &error, limits)) {
      r.body = usage_report_json(*report, ledger_path);
    }
  }
  if (r.body.empty()) {
    return admin_error(503, "cannot read the spend ledger: " + error, "service_unavailable",
                       "ledger_unreadable");
  }
  return r;
}

}  // namespace sluice::admin
