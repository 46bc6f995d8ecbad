#include "core/server/reload_diff.h"

#include "core/config/redis_url.h"

namespace sluice::server {
namespace {

void note(std::vector<std::string>& out, const char* key, const std::string& from,
          const std::string& to) {
  if (from == to) return;
  out.push_back(std::string(key) + ": " + from + " -> " + to + " (applies on restart)");
}

std::string access_log_text(const config::AccessLogSettings& s) {
  return "{path: \"" + s.path + "\", format: " + s.format +
         ", max_size: " + std::to_string(s.max_size) + ", keep: " + std::to_string(s.keep) + "}";
}

// The URL redacted: the diff goes to the log.
std::string redis_text(const std::optional<config::StateSettings::Redis>& r) {
  if (!r) return "(none)";
  std::string error;
  auto url = config::parse_redis_url(r->url, error);
  return "{url: " + (url ? config::redacted(*url) : std::string("?")) + ", key_prefix: \"" +
         r->key_prefix + "\", timeout: " + std::to_string(r->timeout.count()) + "ms, on_failure: " +
         (r->on_failure == config::StateSettings::Redis::OnFailure::Deny ? "deny" : "local") + "}";
}

}  // namespace

std::vector<std::string> restart_only_changes(const config::Config& running,
                                              const config::Config& next) {
  std::vector<std::string> out;
  note(out, "admin", running.admin.to_string(), next.admin.to_string());
  note(out, "workers", std::to_string(running.workers), std::to_string(next.workers));
  note(out, "limits.max_connections", std::to_string(running.limits.max_connections),
       std::to_string(next.limits.max_connections));
  note(out, "access_log", access_log_text(running.access_log), access_log_text(next.access_log));
  note(out, "state.ledger", "\"" + running.state.ledger + "\"", "\"" + next.state.ledger + "\"");
  note(out, "state.flush_interval", std::to_string(running.state.flush_interval.count()) + "ms",
       std::to_string(next.state.flush_interval.count()) + "ms");
  note(out, "state.retention", std::to_string(running.state.retention.count()) + "ms",
       std::to_string(next.state.retention.count()) + "ms");
  note(out, "state.redis", redis_text(running.state.redis), redis_text(next.state.redis));
  return out;
}

}  // namespace sluice::server
