// Metrics: the one process-wide Prometheus registry and every metric family of DESIGN §7.
// All families are created here, up front, so their names are fixed in one place even for
// the ones later issues fill in. Families are thread-safe (prometheus-cpp); what the request
// path should use is RequestMetrics (request_metrics.h), which looks label children up once
// per worker and caches them, never per request.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "core/metrics/provider_stats.h"

namespace sluice::metrics {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The instance the process serves on /metrics (tests build their own).
  static Metrics& process();

  // Prometheus text exposition format 0.0.4 of everything registered.
  std::string serialize() const;

  prometheus::Registry& registry() { return *registry_; }
  ProviderStats& provider_stats() { return provider_stats_; }
  const ProviderStats& provider_stats() const { return provider_stats_; }

  // One config load/reload attempt (also the initial load): result="success"|"failure".
  void record_config_reload(bool ok);

  // Bucket bounds, in seconds.
  static prometheus::Histogram::BucketBoundaries request_duration_buckets();
  static prometheus::Histogram::BucketBoundaries time_to_first_token_buckets();
  static prometheus::Histogram::BucketBoundaries overhead_buckets();  // µs scale: 5e-6 … 0.1

 private:
  // Declared first: the family references below point into it.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  // ---- the families of DESIGN §7 (names are the user's API; keep them) ----------------------
  prometheus::Family<prometheus::Counter>& requests_total;  // {agent,model,provider,status}
  prometheus::Family<prometheus::Histogram>& request_duration_seconds;     // {model,provider}
  prometheus::Family<prometheus::Histogram>& time_to_first_token_seconds;  // {model,provider}
  prometheus::Family<prometheus::Histogram>& overhead_seconds_family;      // no labels
  prometheus::Family<prometheus::Gauge>& active_requests_family;           // no labels
  prometheus::Family<prometheus::Counter>& tokens_total;  // {agent,model,type=input|output|cached}
  prometheus::Family<prometheus::Counter>& cost_usd_total;      // {agent,model}
  prometheus::Family<prometheus::Counter>& rate_limited_total;  // {agent,limit}
  prometheus::Family<prometheus::Counter>& retries_total;       // {provider,reason}
  prometheus::Family<prometheus::Counter>& fallbacks_total;     // {from,to}
  prometheus::Family<prometheus::Gauge>&
      circuit_state;                                   // {provider}: 0 closed, 1 half-open, 2 open
  prometheus::Family<prometheus::Gauge>& provider_up;  // {provider}: 1 up, 0 down
  prometheus::Family<prometheus::Counter>& config_reloads_total;  // {result=success|failure}
  prometheus::Family<prometheus::Counter>& tool_calls_total;      // {agent,tool,result}
  prometheus::Family<prometheus::Histogram>& tool_call_duration_seconds;  // {tool}
  // {result=written|failed|dropped}: the spend ledger's rows (core/ledger/ledger_writer.h).
  prometheus::Family<prometheus::Counter>& ledger_rows_total;
  // {result=written|dropped}: access log lines (core/log/access_log.h): dropped when the
  // writer's queue is full or the file cannot be written (disk full, I/O error).
  prometheus::Family<prometheus::Counter>& access_log_lines_total;
  // {model}: requests charged 0 because their physical model has no price (filters/cost).
  prometheus::Family<prometheus::Counter>& unpriced_requests_total;
  // {agent}: budget left in the current period (agents with a budget; state/spend_account.h).
  prometheus::Family<prometheus::Gauge>& budget_remaining_usd;
  // {plugin,hook}: a plugin hook that failed (error, instruction or memory budget, bad yield).
  prometheus::Family<prometheus::Counter>& plugin_errors_total;

  // No labels: config generations (snapshots) still in memory — the serving one plus those
  // in-flight requests pin. Set by the admin server at scrape time (ConfigSnapshot::alive()).
  prometheus::Family<prometheus::Gauge>& config_generations_alive_family;
  // {state=in_use|free}: request slots (core/server/request_slot.h) held by connections with
  // a request in progress, and kept in the workers' pools for reuse. Idle keep-alive
  // connections hold none, so in_use is at most the requests being read or answered. Set by
  // the admin server at scrape time (AdminHooks::request_slots).
  prometheus::Family<prometheus::Gauge>& request_slots_family;

  // No labels: 1 while every worker shares limits through state.redis (core/fleet), 0 while
  // any falls back to on_failure. Its child exists only with state.redis.
  prometheus::Family<prometheus::Gauge>& redis_up;
  // {kind=connect|timeout|reply|protocol|noscript|auth}: failed Redis calls and connections.
  prometheus::Family<prometheus::Counter>& redis_errors_total;

  // No labels: the spend ledger's file size (pages, without the WAL) and its per-request rows
  // (the requests table; rows older than state.retention are rolled up and leave it). Set by
  // the ledger's writer thread.
  prometheus::Family<prometheus::Gauge>& ledger_bytes_family;
  prometheus::Family<prometheus::Gauge>& ledger_rows_family;

  // The unlabelled children, created once.
  prometheus::Histogram& overhead_seconds;
  prometheus::Gauge& active_requests;
  prometheus::Gauge& config_generations_alive;
  prometheus::Gauge& request_slots_in_use;
  prometheus::Gauge& request_slots_free;

 private:
  prometheus::Counter& reloads_success_;
  prometheus::Counter& reloads_failure_;
  ProviderStats provider_stats_;
};

}  // namespace sluice::metrics
