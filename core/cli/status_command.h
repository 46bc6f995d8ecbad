// `sluice status [-c FILE] [--admin HOST:PORT] [--token TOKEN] [--json]`: asks a running
// sluice's admin API for GET /status and its health report (GET /status?format=report) and
// prints them as a table — providers (verdict and its source, circuit, latency, load, errors)
// and agents (limits and usage) — or, with --json, the health report's JSON.
//
// Exit codes (for scripts and probes), from the health report's verdict
// (GET /status?format=report, core/health/provider_verdict.h):
//   0 — ok: every provider is ok;
//   1 — degraded: some provider is slow or down, but not all are down;
//   2 — down: every provider is down;
//   3 — no answer: the admin API is unreachable, answered non-200 (say 401 without the right
//       token) or not JSON, or the command line / config file was unusable (message on stderr).
// (Before the health report, 2 meant "no answer" and a slow provider exited 0: see
// docs/operations.md, "Health report".)
//
// The admin address and token come from --admin/--token, else from the config file's `admin`
// and `admin_token` (default file conf/sluice.yaml, as for `run`). Only those two keys are
// read, with ${VAR} substitution: a shell without the providers' ${API_KEY}s can still ask.
// This is a CLI, not the proxy: one blocking socket, the whole exchange bounded by 5 s.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

// `args` are the words after "status".
int status_command(const std::vector<std::string>& args);

// What the CLI needs of a health report (GET /status?format=report).
struct ReportSummary {
  std::string verdict;  // "ok" | "degraded" | "down"
  struct Provider {
    std::string health;  // "ok" | "slow" | "down"
    std::string source;  // "probe" | "traffic" | "none"
  };
  std::map<std::string, Provider, std::less<>> providers;
};
// nullopt when `json` is not a health report (e.g. an older sluice that ignores ?format=report
// and sends the full /status document: it has no "verdict").
std::optional<ReportSummary> parse_report(std::string_view json);

// The exit code of a verdict ("ok" 0, "degraded" 1, "down" 2); 3 for anything else.
int exit_code_of(std::string_view verdict);

// The table for a /status body (exposed for unit tests). nullopt (and `error`) when `json` is
// not a /status document. `now` dates the "last error (age)" column. With `report`, the HEALTH
// and SOURCE columns and the verdict are the report's; without one (an older sluice), HEALTH is
// the /status document's and the verdict is worked out from it the same way (unknown = ok).
struct StatusTable {
  std::string text;
  std::string verdict;  // "ok" | "degraded" | "down"
};
std::optional<StatusTable> render_status(std::string_view json,
                                         std::chrono::system_clock::time_point now,
                                         std::string* error, const ReportSummary* report = nullptr);

}  // namespace sluice::cli
