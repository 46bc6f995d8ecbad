#include "core/admin/status_report.h"

#include "core/admin/config_json.h"
#include "core/admin/json_writer.h"
#include "core/log/access_log.h"  // TimestampCache: ISO-8601 UTC with milliseconds
#include "sluice_version.h"

namespace sluice::admin {
namespace {

std::string iso_time(std::chrono::system_clock::time_point t) {
  std::string out;
  log::TimestampCache clock;
  clock.append(out, t);
  return out;
}

void write_providers(JsonWriter& out, const config::Config& cfg,
                     const metrics::ProviderStats& stats) {
  out.key("providers").begin_object();
  for (const auto& [name, provider] : cfg.providers) {
    metrics::ProviderCountersView counters;
    if (const metrics::ProviderCounters* c = stats.find(name)) counters = c->view();
    out.key(name).begin_object();
    out.key("type").string(provider.type);
    out.key("base_url").string(redact_url_userinfo(provider.base_url));
    out.key("health").string("unknown");
    out.key("circuit").string("closed");
    out.key("requests").unsigned_integer(counters.requests);
    out.key("failures").unsigned_integer(counters.failures);
    out.key("last_error");
    if (counters.last_error.empty()) {
      out.null();
    } else {
      out.string(counters.last_error);
    }
    out.key("last_error_at");
    if (counters.last_error_at) {
      out.string(iso_time(*counters.last_error_at));
    } else {
      out.null();
    }
    out.end_object();
  }
  out.end_object();
}

void write_agents(JsonWriter& out, const config::Config& cfg) {
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
    out.end_object();
  }
  out.end_object();
}

}  // namespace

std::string status_json(const StatusInputs& in) {
  JsonWriter out;
  out.begin_object();
  out.key("version").string(SLUICE_VERSION);
  out.key("generation").unsigned_integer(in.config.generation);
  out.key("config_source");
  if (in.config.config) {
    out.string(in.config.config->source_path);
  } else {
    out.null();
  }
  out.key("started_at").string(iso_time(in.started_at));
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
    out.string(iso_time(*in.last_reload.at));
  } else {
    out.null();
  }
  out.key("generation").unsigned_integer(in.last_reload.generation);
  out.key("restart_pending").begin_array();
  for (const std::string& change : in.last_reload.restart_pending) out.string(change);
  out.end_array();
  out.end_object();

  if (in.config.config) {
    write_providers(out, *in.config.config, in.provider_stats);
    write_agents(out, *in.config.config);
  } else {
    out.key("providers").begin_object().end_object();
    out.key("agents").begin_object().end_object();
  }
  out.end_object();
  return out.take();
}

}  // namespace sluice::admin
