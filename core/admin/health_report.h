// The seeds' health report: GET /status?format=report on the admin API, and what
// `sluice status --json` prints. Per provider ok/slow/down with the signal that decided it,
// the latency and when it was last checked, plus one verdict for the whole process — what a
// monitoring probe or a person at 3 a.m. asks first. The rules are core/health/provider_verdict.h;
// this file only gathers the signals and writes the JSON.
//
// Shape:
//   {"verdict":"ok"|"degraded"|"down","generated_at":"2025-01-02T03:04:05.678Z",
//    "counts":{"ok":2,"slow":0,"down":1},
//    "providers":{"openai":{"health":"ok"|"slow"|"down",
//                           "source":"probe"|"traffic"|"none",
//                           "latency_ms":123.0|null,
//                           "last_check":"2025-01-02T03:04:01.002Z"|null,
//                           "reason":"health check answers in 123ms",
//                           "type":"openai","base_url":"https://…",
//                           "circuit":"closed"|"open"|"half_open",
//                           "consecutive_failures":0}}}
// consecutive_failures counts failed requests in a row (not probes; one answer resets it).
// Times are ISO 8601 UTC with milliseconds. latency_ms is the last probe's answer (source
// probe) or the EWMA of time to first byte (source traffic); last_check is when that probe
// finished, or the last exchange with the provider. "health" has the same name as in the full
// /status document so scripts that read .providers.X.health keep working; here it is never
// "unknown" (source "none" says the ok is an assumption).
#pragma once

#include <chrono>
#include <string>

#include "core/config/config.h"
#include "core/metrics/provider_stats.h"
#include "core/state/process_state.h"

namespace sluice::admin {

struct HealthReportInputs {
  const config::Config& config;
  const metrics::ProviderStats& provider_stats;
  state::ProcessState& states;
  std::chrono::system_clock::time_point now;
};

std::string health_report_json(const HealthReportInputs& in);

}  // namespace sluice::admin
