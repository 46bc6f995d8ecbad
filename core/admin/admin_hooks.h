// AdminHooks: everything the admin server reads from (or asks of) the data plane, as a few
// callbacks the lead wires in main. The admin API depends only on this interface, so it can be
// tested without workers, sockets or the filter engine.
//
// Threading: every hook is called on the admin (main) loop's thread, one call at a time. A hook
// must not block for long (reload is the exception: it loads and validates a file, like SIGHUP).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config.h"

namespace sluice::admin {

// The config currently serving, and its generation (1 for the first load, +1 per accepted
// reload). In main: { snapshot->config_ptr(), snapshot->generation() }.
struct ConfigView {
  std::shared_ptr<const config::Config> config;  // null only before the first load
  uint64_t generation = 0;
  // Config generations still in memory (the serving one + those in-flight requests pin):
  // ConfigSnapshot::alive(). 1 when idle; /status and sluice_config_generations_alive.
  int64_t generations_alive = 0;
};

// What one POST /reload did.
struct ReloadResult {
  bool ok = false;
  uint64_t generation = 0;  // serving after the attempt (unchanged when !ok)
  std::string error;        // why it was rejected ("" when ok): file:line:col and key path
};

// The most recent reload attempt by any trigger (file watch, SIGHUP, POST /reload).
struct LastReload {
  std::optional<std::chrono::system_clock::time_point> at;  // nullopt = none since start-up
  bool ok = true;
  std::string error;
  uint64_t generation = 0;  // the generation that attempt produced, or kept when it failed
  // Restart-only keys (workers, admin, limits.max_connections, access_log) whose value in the
  // serving config differs from the running process: "workers: 2 -> 4 (applies on restart)".
  std::vector<std::string> restart_pending;
};

// Request slots (a request's parser, buffers and proxy session: core/server/request_slot.h),
// summed over the workers: sluice_request_slots{state}.
struct RequestSlotCounts {
  uint64_t in_use = 0;  // held by requests being read or answered (idle connections hold none)
  uint64_t free = 0;    // kept by the workers' pools for reuse
};

// state.redis as /status shows it (core/fleet; docs/fleet.md).
struct FleetView {
  std::string url;  // the password redacted
  std::string key_prefix;
  std::string on_failure;       // "local" | "deny"
  unsigned workers = 0;         // this process's workers …
  unsigned workers_shared = 0;  // … of which share limits through Redis now
  uint32_t members = 0;         // live workers in the fleet (the last heartbeat)
  uint32_t instances = 0;       // live sidecar processes in the fleet
  std::string last_error;       // why a worker last fell back ("" if never)
};

struct AdminHooks {
  std::function<ConfigView()> current_config;  // required
  std::function<bool()> ready;                 // config loaded and listeners up; unset = false
  std::function<ReloadResult()> reload;        // unset → POST /reload answers 501
  std::function<LastReload()> last_reload;     // unset → "no reload since start-up"
  // The spend ledger the process writes (GET /usage reads it); unset or "" → ledger off.
  std::function<std::string()> ledger_path;
  // Read at scrape time; unset → the gauges stay 0.
  std::function<RequestSlotCounts()> request_slots;
  // state.redis; unset or nullopt → /status has no "redis".
  std::function<std::optional<FleetView>()> fleet;
};

}  // namespace sluice::admin
