// The body of GET /status (DESIGN §6): what is serving (version, config generation and
// source, uptime, workers), how the last reload went, each provider's health, circuit, load and
// counters, and each agent's allowed models, limits and current usage.
//
// Shape:
//   {"version":"0.1.0","generation":3,"config_source":"/etc/sluice.yaml",
//    "started_at":"2025-01-02T03:04:05.678Z","uptime_seconds":42,"workers":4,
//    "last_reload":{"ok":true,"error":null,"at":"…"|null,"generation":3,"restart_pending":[]},
//    "providers":{"openai":{"type":"openai","base_url":"https://…",
//                           "health":"ok"|"slow"|"down"|"unknown",
//                           "circuit":"closed"|"open"|"half_open",
//                           "ewma_latency_ms":123.4,       (time to first byte; 0 = no sample)
//                           "in_flight":2,"requests":10,"failures":1,"error_rate":0.1,
//                           "last_error":"upstream_timeout"|null,"last_error_at":"…"|null}},
//    "agents":{"sofia":{"models":["fast","quality"],"tools":["projects.list"],
//                       "limits":{"rpm":60,"tpm":200000|null,"concurrent":4|null},
//                       "usage":{"rpm":{"used":2,"remaining":58,"reset_after_ms":2000}|null,
//                                "tpm":{…}|null,
//                                "concurrent":{"in_use":1,"remaining":3}|null},
//                       "budget":{"usd":5.0,"per":"day","spent_usd":1.25,"reserved_usd":0.02,
//                                 "remaining_usd":3.73,"period_start":"2025-01-02T00:00:00.000Z",
//                                 "resets_at":"2025-01-03T00:00:00.000Z"|null}}}}
//    ("budget" only for an agent whose config has one; resets_at null for per: total.)
// error_rate is failures/requests (0 with no requests). A limit that is not configured is null
// in `limits` and in `usage`. rpm/tpm usage is the token bucket's level now (it drains
// continuously over a minute), so `used` falls back towards 0 as time passes. Budget spend is
// the current UTC period's (core/state/spend_account.h): it includes what this process rebuilt
// from the ledger at start-up; reserved_usd is the worst case held by requests in flight;
// amounts are rounded to 1e-9 USD (so decimal sums read as such).
#pragma once

#include <chrono>
#include <string>

#include "core/admin/admin_hooks.h"
#include "core/metrics/provider_stats.h"
#include "core/state/process_state.h"

namespace sluice::admin {

struct StatusInputs {
  const ConfigView& config;  // config may be null (before the first load)
  const LastReload& last_reload;
  const metrics::ProviderStats& provider_stats;
  std::chrono::system_clock::time_point started_at;
  std::chrono::seconds uptime;
  // Health, circuit, load and agent usage; null: the process registry (ProcessState::process()).
  state::ProcessState* states = nullptr;
  // The wall clock budget periods are read with; null: state::wall_now (tests inject one).
  state::WallClock wall_clock = nullptr;
  // state.redis, when configured.
  std::optional<FleetView> fleet = std::nullopt;
};

std::string status_json(const StatusInputs& in);

}  // namespace sluice::admin
