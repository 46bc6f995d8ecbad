// The body of GET /status (DESIGN §6): what is serving (version, config generation and
// source, uptime, workers), how the last reload went, each provider's counters, and each
// agent's allowed models.
//
// Shape:
//   {"version":"0.1.0","generation":3,"config_source":"/etc/sluice.yaml",
//    "started_at":"2025-01-02T03:04:05.678Z","uptime_seconds":42,"workers":4,
//    "last_reload":{"ok":true,"error":null,"at":"…"|null,"generation":3},
//    "providers":{"openai":{"type":"openai","base_url":"https://…","health":"unknown",
//                           "circuit":"closed","requests":10,"failures":1,
//                           "last_error":"upstream_timeout"|null,"last_error_at":"…"|null}},
//    "agents":{"sofia":{"models":["fast","quality"],"tools":["projects.list"]}}}
// `health` and `circuit` are fixed at "unknown"/"closed" until health checks and the circuit
// breaker exist (later issues extend this report, not replace it).
#pragma once

#include <chrono>
#include <string>

#include "core/admin/admin_hooks.h"
#include "core/metrics/provider_stats.h"

namespace sluice::admin {

struct StatusInputs {
  const ConfigView& config;  // config may be null (before the first load)
  const LastReload& last_reload;
  const metrics::ProviderStats& provider_stats;
  std::chrono::system_clock::time_point started_at;
  std::chrono::seconds uptime;
};

std::string status_json(const StatusInputs& in);

}  // namespace sluice::admin
