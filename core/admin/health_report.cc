#include "core/admin/health_report.h"

#include <cmath>
#include <vector>

#include "core/admin/config_json.h"
#include "core/admin/json_writer.h"
#include "core/health/provider_verdict.h"

namespace sluice::admin {
namespace {

// The EWMA's last update is a steady_clock time; the report speaks wall time.
std::optional<health::WallTime> to_wall(state::SteadyTime t, state::SteadyTime steady_now,
                                        health::WallTime wall_now) {
  if (t.time_since_epoch().count() == 0) return std::nullopt;  // never
  return wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(steady_now - t);
}

health::ProviderSignals signals_of(const config::Provider& provider,
                                   const metrics::ProviderStats& stats,
                                   const state::ProcessState& states, health::WallTime wall_now) {
  health::ProviderSignals s;
  s.has_health_check = provider.health_check.has_value();
  s.slow_after =
      provider.health_check ? provider.health_check->slow_after : config::HealthCheck{}.slow_after;
  const auto steady_now = std::chrono::steady_clock::now();
  if (const state::ProviderState* st = states.find_provider(provider.name)) {
    const state::ProviderStateView view = st->view(steady_now);
    s.probe_health = view.health;
    s.probe_at = view.last_probe_at;
    s.probe_latency = view.last_probe_latency;
    s.circuit = view.circuit;
    s.ewma_ms = view.ewma_ttfb_ms;
    s.last_answer_at = to_wall(st->last_ttfb_at(), steady_now, wall_now);
  }
  if (const metrics::ProviderCounters* c = stats.find(provider.name)) {
    const metrics::ProviderCountersView counters = c->view();
    s.requests = counters.requests;
    s.consecutive_failures = counters.consecutive_failures;
    s.last_error_at = counters.last_error_at;
  }
  return s;
}

}  // namespace

std::string health_report_json(const HealthReportInputs& in) {
  struct Entry {
    const config::Provider* provider;
    health::ProviderVerdict verdict;
    health::ProviderSignals signals;
  };
  std::vector<Entry> entries;
  std::vector<health::ReportHealth> healths;
  for (const auto& [name, provider] : in.config.providers) {
    health::ProviderSignals s = signals_of(provider, in.provider_stats, in.states, in.now);
    health::ProviderVerdict v = health::judge(s);
    healths.push_back(v.health);
    entries.push_back({&provider, std::move(v), s});
  }
  size_t count[3] = {0, 0, 0};
  for (health::ReportHealth h : healths) ++count[static_cast<size_t>(h)];

  JsonWriter out;
  out.begin_object();
  out.key("verdict").string(health::to_string(health::overall(healths)));
  out.key("generated_at").time(in.now);
  out.key("counts").begin_object();
  out.key("ok").unsigned_integer(count[static_cast<size_t>(health::ReportHealth::Ok)]);
  out.key("slow").unsigned_integer(count[static_cast<size_t>(health::ReportHealth::Slow)]);
  out.key("down").unsigned_integer(count[static_cast<size_t>(health::ReportHealth::Down)]);
  out.end_object();
  out.key("providers").begin_object();
  for (const Entry& e : entries) {
    out.key(e.provider->name).begin_object();
    out.key("health").string(health::to_string(e.verdict.health));
    out.key("source").string(health::to_string(e.verdict.source));
    out.key("latency_ms");
    if (e.verdict.latency_ms) {
      out.number(std::round(*e.verdict.latency_ms * 10.0) / 10.0);  // 0.1 ms is plenty
    } else {
      out.null();
    }
    out.key("last_check");
    if (e.verdict.last_check) {
      out.time(*e.verdict.last_check);
    } else {
      out.null();
    }
    out.key("reason").string(e.verdict.reason);
    out.key("type").string(e.provider->type);
    out.key("base_url").string(redact_url_userinfo(e.provider->base_url));
    out.key("circuit").string(state::to_string(e.signals.circuit));
    out.key("consecutive_failures").unsigned_integer(e.signals.consecutive_failures);
    out.end_object();
  }
  out.end_object();
  out.end_object();
  return out.take();
}

}  // namespace sluice::admin
