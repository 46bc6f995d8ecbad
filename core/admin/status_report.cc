#include "core/admin/status_report.h"

#include <cmath>
#include <optional>

#include "core/admin/config_json.h"
#include "core/admin/json_writer.h"
#include "core/state/budget_gauges.h"
#include "sluice_version.h"

namespace sluice::admin {
namespace {

// Rounded for people (and stable output): 3 decimals is a microsecond / a 0.1% error rate.
double rounded(double x) {
  return std::round(x * 1000.0) / 1000.0;
}

void write_providers(JsonWriter& out, const config::Config& cfg,
                     const metrics::ProviderStats& stats, const state::ProcessState& states) {
  const auto now = std::chrono::steady_clock::now();
  out.key("providers").begin_object();
  for (const auto& [name, provider] : cfg.providers) {
    metrics::ProviderCountersView counters;
    if (const metrics::ProviderCounters* c = stats.find(name)) counters = c->view();
    // A provider this process never built a snapshot for has no state yet: the defaults
    // (unknown health, closed circuit, idle) are what it would start with.
    state::ProviderStateView load;
    if (const state::ProviderState* st = states.find_provider(name)) load = st->view(now);
    out.key(name).begin_object();
    out.key("type").string(provider.type);
    out.key("base_url").string(redact_url_userinfo(provider.base_url));
    if (provider.proxy) {  // the password is redacted; `proxy_source` says where it came from
      out.key("proxy").string(provider.proxy->redacted);
      out.key("proxy_source").string(provider.proxy->source);
    }
    out.key("health").string(state::to_string(load.health));
    out.key("circuit").string(state::to_string(load.circuit));
    out.key("ewma_latency_ms").number(rounded(load.ewma_ttfb_ms));
    out.key("in_flight").unsigned_integer(load.in_flight);
    out.key("requests").unsigned_integer(counters.requests);
    out.key("failures").unsigned_integer(counters.failures);
    out.key("error_rate")
        .number(counters.requests == 0 ? 0.0
                                       : rounded(static_cast<double>(counters.failures) /
                                                 static_cast<double>(counters.requests)));
    out.key("last_error");
    if (counters.last_error.empty()) {
      out.null();
    } else {
      out.string(counters.last_error);
    }
    out.key("last_error_at");
    if (counters.last_error_at) {
      out.time(*counters.last_error_at);
    } else {
      out.null();
    }
    out.end_object();
  }
  out.end_object();
}

// {"used","remaining","reset_after_ms"} of one rate bucket, or null when the limit is not set.
template <typename Limit>
void write_bucket_usage(JsonWriter& out, const std::optional<Limit>& limit,
                        state::RateBucket* bucket, state::SteadyTime now) {
  if (!limit) {
    out.null();
    return;
  }
  const uint64_t l = *limit;
  state::BucketReading reading;
  reading.limit = l;
  reading.remaining = l;  // never used: the bucket is empty
  if (bucket != nullptr) reading = bucket->peek(l, std::chrono::minutes(1), now);
  out.begin_object();
  out.key("used").unsigned_integer(reading.remaining >= l ? 0 : l - reading.remaining);
  out.key("remaining").unsigned_integer(reading.remaining);
  out.key("reset_after_ms").integer(reading.reset_after.count());
  out.end_object();
}

template <typename Limit>
void write_limit(JsonWriter& out, const std::optional<Limit>& limit) {
  if (limit) {
    out.unsigned_integer(*limit);
  } else {
    out.null();
  }
}

void write_agent_limits(JsonWriter& out, const config::Agent& agent, state::ProcessState& states) {
  const config::AgentLimits& limits = agent.limits;
  out.key("limits").begin_object();
  out.key("rpm");
  write_limit(out, limits.rpm);
  out.key("tpm");
  write_limit(out, limits.tpm);
  out.key("concurrent");
  write_limit(out, limits.concurrent);
  out.end_object();

  // find_agent first: /status must not register state for an agent that never sent a request
  // (the registry's agent() creates on first call); once it exists, agent() returns the same
  // entry without creating anything, and non-const, as RateBucket::peek needs.
  state::AgentState* usage = states.find_agent(agent.name) ? states.agent(agent.name) : nullptr;
  const auto now = std::chrono::steady_clock::now();
  out.key("usage").begin_object();
  out.key("rpm");
  write_bucket_usage(out, limits.rpm, usage ? &usage->requests() : nullptr, now);
  out.key("tpm");
  write_bucket_usage(out, limits.tpm, usage ? &usage->tokens() : nullptr, now);
  out.key("concurrent");
  if (limits.concurrent) {
    const uint32_t in_use = usage ? usage->in_flight().inside() : 0;
    out.begin_object();
    out.key("in_use").unsigned_integer(in_use);
    out.key("remaining")
        .unsigned_integer(in_use >= *limits.concurrent ? 0 : *limits.concurrent - in_use);
    out.end_object();
  } else {
    out.null();
  }
  out.end_object();
}

// Budget amounts: rounded to a nano-dollar so 0.1 + 0.2 reads 0.3, while the cost of a single
// cheap request (millionths of a dollar) still shows.
double usd(double x) {
  return std::round(x * 1e9) / 1e9;
}

// Replaces `view`'s figures with the fleet's when a Redis answer gave some for this period.
bool fleet_figures(const state::AgentState& st, state::SpendAccount::View& view,
                   const state::BudgetLimit& limit) {
  const state::AgentState::FleetBudgetFigures f = st.fleet_budget();
  const int64_t period =
      std::chrono::duration_cast<std::chrono::seconds>(view.period_start.time_since_epoch())
          .count();
  if (!f.known || f.period_start_s != period) return false;
  view.spent_usd = f.spent_usd + std::max(0.0, view.spent_usd - f.own_spent_usd);
  view.reserved_usd = f.reserved_usd;
  view.remaining_usd = std::max(0.0, limit.usd - view.spent_usd - view.reserved_usd);
  return true;
}

// "budget": the agent's spend in the current period of its budget, or nothing without one.
void write_agent_budget(JsonWriter& out, const config::Agent& agent, state::ProcessState& states,
                        state::WallTime now) {
  if (!agent.budget) return;
  const state::BudgetLimit limit = state::budget_limit_of(*agent.budget);
  // As for usage: no state is registered for an agent that never had any (it spent nothing).
  const state::AgentState* st = states.find_agent(agent.name);
  const state::SpendAccount nothing_spent;
  state::SpendAccount::View view = (st != nullptr ? st->spend() : nothing_spent).view(limit, now);
  // With state.redis the budget is the fleet's: its figures as the last Redis answer gave them,
  // plus what this sidecar spent since.
  const bool fleet = st != nullptr && fleet_figures(*st, view, limit);
  out.key("budget").begin_object();
  out.key("scope").string(fleet ? "fleet" : "sidecar");
  out.key("usd").number(limit.usd);
  out.key("per").string(state::to_string(limit.per));
  out.key("spent_usd").number(usd(view.spent_usd));
  out.key("reserved_usd").number(usd(view.reserved_usd));
  out.key("remaining_usd").number(usd(view.remaining_usd));
  out.key("period_start").time(view.period_start);
  out.key("resets_at");
  if (view.resets_at) {
    out.time(*view.resets_at);
  } else {
    out.null();
  }
  out.end_object();
}

void write_agents(JsonWriter& out, const config::Config& cfg, state::ProcessState& states,
                  state::WallTime now) {
  out.key("agents").begin_object();
  for (const auto& [name, agent] : cfg.agents) {
    out.key(name).begin_object();
    // An omitted allow-list means every logical model: show them, not a placeholder.
    out.key("models").begin_array();
    if (agent.models) {
      for (const std::string& m : *agent.models) out.string(m);
    } else {
      for (const auto& [model, group] : cfg.models) out.string(model);
    }
    out.end_array();
    out.key("tools").begin_array();
    for (const std::string& t : agent.tools) out.string(t);
    out.end_array();
    write_agent_limits(out, agent, states);
    write_agent_budget(out, agent, states, now);
    out.end_object();
  }
  out.end_object();
}

// "redis": which mode is in force — "shared" while every worker shares limits through Redis,
// else the on_failure mode ("local" | "deny") the failing workers apply.
void write_fleet(JsonWriter& out, const FleetView& fleet) {
  out.key("redis").begin_object();
  out.key("url").string(fleet.url);
  out.key("key_prefix").string(fleet.key_prefix);
  const bool up = fleet.workers_shared == fleet.workers;
  out.key("up").boolean(up);
  out.key("mode").string(up ? "shared" : fleet.on_failure);
  out.key("on_failure").string(fleet.on_failure);
  out.key("workers_shared").unsigned_integer(fleet.workers_shared);
  out.key("workers").unsigned_integer(fleet.workers);
  out.key("fleet").begin_object();
  out.key("members").unsigned_integer(fleet.members);
  out.key("instances").unsigned_integer(fleet.instances);
  out.end_object();
  out.key("last_error");
  if (fleet.last_error.empty()) {
    out.null();
  } else {
    out.string(fleet.last_error);
  }
  out.end_object();
}

}  // namespace

std::string status_json(const StatusInputs& in) {
  JsonWriter out;
  out.begin_object();
  out.key("version").string(SLUICE_VERSION);
  out.key("generation").unsigned_integer(in.config.generation);
  out.key("generations_alive").integer(in.config.generations_alive);
  out.key("config_source");
  if (in.config.config) {
    out.string(in.config.config->source_path);
  } else {
    out.null();
  }
  out.key("started_at").time(in.started_at);
  out.key("uptime_seconds").integer(in.uptime.count());
  out.key("workers");
  if (in.config.config) {
    out.unsigned_integer(in.config.config->workers);
  } else {
    out.null();
  }

  out.key("last_reload").begin_object();
  out.key("ok").boolean(in.last_reload.ok);
  out.key("error");
  if (in.last_reload.error.empty()) {
    out.null();
  } else {
    out.string(in.last_reload.error);
  }
  out.key("at");
  if (in.last_reload.at) {
    out.time(*in.last_reload.at);
  } else {
    out.null();
  }
  out.key("generation").unsigned_integer(in.last_reload.generation);
  out.key("restart_pending").begin_array();
  for (const std::string& change : in.last_reload.restart_pending) out.string(change);
  out.end_array();
  out.end_object();

  if (in.fleet) write_fleet(out, *in.fleet);

  state::ProcessState& states = in.states != nullptr ? *in.states : state::ProcessState::process();
  if (in.config.config) {
    write_providers(out, *in.config.config, in.provider_stats, states);
    write_agents(out, *in.config.config, states,
                 in.wall_clock != nullptr ? in.wall_clock() : state::wall_now());
  } else {
    out.key("providers").begin_object().end_object();
    out.key("agents").begin_object().end_object();
  }
  out.end_object();
  return out.take();
}

}  // namespace sluice::admin
