#include "core/metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace sluice::metrics {
namespace {

prometheus::Family<prometheus::Counter>& counter(prometheus::Registry& r, const char* name,
                                                 const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& r, const char* name,
                                             const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
prometheus::Family<prometheus::Histogram>& histogram(prometheus::Registry& r, const char* name,
                                                     const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

}  // namespace

prometheus::Histogram::BucketBoundaries Metrics::request_duration_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}
prometheus::Histogram::BucketBoundaries Metrics::time_to_first_token_buckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60};
}
prometheus::Histogram::BucketBoundaries Metrics::overhead_buckets() {
  // sluice's own CPU time per request is tens of µs (DESIGN §11): the buckets resolve that.
  return {5e-6, 1e-5,   2.5e-5, 5e-5, 1e-4,   2.5e-4, 5e-4,
          1e-3, 2.5e-3, 5e-3,   1e-2, 2.5e-2, 5e-2,   0.1};
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_total(counter(*registry_, "sluice_requests_total",
                             "Agent requests answered, by agent, logical model, provider and "
                             "HTTP status")),
      request_duration_seconds(histogram(*registry_, "sluice_request_duration_seconds",
                                         "Request arrival to last byte, by logical model and "
                                         "provider")),
      time_to_first_token_seconds(histogram(*registry_, "sluice_time_to_first_token_seconds",
                                            "Request arrival to the first upstream body byte")),
      overhead_seconds_family(histogram(*registry_, "sluice_overhead_seconds",
                                        "Time sluice itself spent on a request (duration minus "
                                        "upstream wait)")),
      active_requests_family(
          gauge(*registry_, "sluice_active_requests", "Requests currently in flight")),
      tokens_total(counter(*registry_, "sluice_tokens_total",
                           "Tokens used, by agent, logical model and type "
                           "(input|output|cached)")),
      cost_usd_total(
          counter(*registry_, "sluice_cost_usd_total", "Spend in USD, by agent and logical model")),
      rate_limited_total(counter(*registry_, "sluice_rate_limited_total",
                                 "Requests refused by a rate limit or budget")),
      retries_total(counter(*registry_, "sluice_retries_total", "Upstream retries, by reason")),
      fallbacks_total(counter(*registry_, "sluice_fallbacks_total",
                              "Moves from one target or model group to another")),
      circuit_state(gauge(*registry_, "sluice_circuit_state",
                          "Circuit breaker state: 0 closed, 1 half-open, 2 open")),
      provider_up(gauge(*registry_, "sluice_provider_up", "1 if the provider is healthy")),
      config_reloads_total(counter(*registry_, "sluice_config_reloads_total",
                                   "Config loads and reloads, by result (success|failure)")),
      tool_calls_total(
          counter(*registry_, "sluice_tool_calls_total", "Tool calls, by agent, tool and result")),
      tool_call_duration_seconds(histogram(*registry_, "sluice_tool_call_duration_seconds",
                                           "Tool call arrival to answer, by tool")),
      ledger_rows_total(counter(*registry_, "sluice_ledger_rows_total",
                                "Spend ledger rows, by result (written|failed|dropped)")),
      access_log_lines_total(counter(*registry_, "sluice_access_log_lines_total",
                                     "Access log lines, by result (written|dropped)")),
      unpriced_requests_total(counter(*registry_, "sluice_unpriced_requests_total",
                                      "Requests charged 0 because their physical model has no "
                                      "price, by physical model")),
      budget_remaining_usd(gauge(*registry_, "sluice_budget_remaining_usd",
                                 "Budget left in the current period, by agent (agents with a "
                                 "budget)")),
      plugin_errors_total(counter(*registry_, "sluice_plugin_errors_total",
                                  "Plugin hook failures (errors, budgets exceeded), by plugin "
                                  "and hook")),
      config_generations_alive_family(gauge(*registry_, "sluice_config_generations_alive",
                                            "Config generations still in memory: the serving "
                                            "one and those in-flight requests pin")),
      request_slots_family(gauge(*registry_, "sluice_request_slots",
                                 "Request slots (a request's parser, buffers and session): "
                                 "in_use by requests being read or answered, free in the "
                                 "workers' pools")),
      redis_up(gauge(*registry_, "sluice_redis_up",
                     "1 while every worker shares limits through state.redis, 0 while any "
                     "falls back to on_failure (present only with state.redis)")),
      redis_errors_total(counter(*registry_, "sluice_redis_errors_total",
                                 "Redis calls and connections that failed, by kind (connect|"
                                 "timeout|reply|protocol|noscript|auth)")),
      ledger_bytes_family(gauge(*registry_, "sluice_ledger_bytes",
                                "The spend ledger's file size in bytes (without its WAL)")),
      ledger_rows_family(gauge(*registry_, "sluice_ledger_rows",
                               "Per-request rows in the spend ledger (older ones are rolled up "
                               "into daily aggregates by state.retention)")),
      overhead_seconds(overhead_seconds_family.Add({}, overhead_buckets())),
      active_requests(active_requests_family.Add({})),
      config_generations_alive(config_generations_alive_family.Add({})),
      request_slots_in_use(request_slots_family.Add({{"state", "in_use"}})),
      request_slots_free(request_slots_family.Add({{"state", "free"}})),
      reloads_success_(config_reloads_total.Add({{"result", "success"}})),
      reloads_failure_(config_reloads_total.Add({{"result", "failure"}})) {}

Metrics& Metrics::process() {
  static Metrics instance;
  return instance;
}

std::string Metrics::serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return std::move(out).str();
}

void Metrics::record_config_reload(bool ok) {
  (ok ? reloads_success_ : reloads_failure_).Increment();
}

}  // namespace sluice::metrics
