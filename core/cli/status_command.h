// `sluice status [-c FILE] [--admin HOST:PORT] [--token TOKEN] [--json]`: asks a running
// sluice's admin API for GET /status and prints it as a table — providers (health, circuit,
// latency, load, errors) and agents (limits and usage) — or as the raw JSON.
//
// Exit codes (for scripts and probes):
//   0 — every provider is up (ok, slow or unknown);
//   1 — at least one provider is down;
//   2 — no answer: the admin API is unreachable, answered non-200 (say 401 without the right
//       token) or not JSON, or the command line / config file was unusable (message on stderr).
//
// The admin address and token come from --admin/--token, else from the config file's `admin`
// and `admin_token` (default file conf/sluice.yaml, as for `run`). Only those two keys are
// read, with ${VAR} substitution: a shell without the providers' ${API_KEY}s can still ask.
// This is a CLI, not the proxy: one blocking socket, the whole exchange bounded by 5 s.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

// `args` are the words after "status".
int status_command(const std::vector<std::string>& args);

// The table for a /status body (exposed for unit tests). nullopt (and `error`) when `json` is
// not a /status document. `now` dates the "last error (age)" column.
struct StatusTable {
  std::string text;
  bool any_down = false;
};
std::optional<StatusTable> render_status(std::string_view json,
                                         std::chrono::system_clock::time_point now,
                                         std::string* error);

}  // namespace sluice::cli
