#include "core/admin/admin_router.h"

#include <optional>

#include "core/admin/config_json.h"
#include "core/admin/dashboard_page.h"
#include "core/admin/health_report.h"
#include "core/admin/json_writer.h"
#include "core/admin/status_report.h"
#include "core/admin/usage_endpoint.h"
#include "core/state/budget_gauges.h"

namespace sluice::admin {
namespace {

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const std::string_view* find_header(std::span<const http::HeaderView> headers,
                                    std::string_view name) {
  for (const http::HeaderView& h : headers) {
    if (ascii_iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

AdminResponse json(int status, std::string body) {
  AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

AdminResponse error(int status, std::string_view message, std::string_view type,
                    std::string_view code) {
  return admin_error(status, message, type, code);
}

AdminResponse method_not_allowed(std::string_view method, std::string_view path,
                                 std::string_view allow) {
  AdminResponse r = error(405,
                          std::string(method) + " is not allowed on " + std::string(path) +
                              "; use " + std::string(allow),
                          "invalid_request_error", "method_not_allowed");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

// The value of `name` in a query string ("a=1&format=report"), nullopt when absent. No
// percent-decoding: the admin API's parameters are plain words.
std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

enum class Route : uint8_t {
  Dashboard,
  Healthz,
  Readyz,
  Metrics,
  Status,
  Config,
  Reload,
  Usage,
  Unknown
};

Route route_of(std::string_view path) {
  if (path == "/") return Route::Dashboard;
  if (path == "/healthz") return Route::Healthz;
  if (path == "/readyz") return Route::Readyz;
  if (path == "/metrics") return Route::Metrics;
  if (path == "/status") return Route::Status;
  if (path == "/config") return Route::Config;
  if (path == "/reload") return Route::Reload;
  if (path == "/usage") return Route::Usage;
  return Route::Unknown;
}

}  // namespace

// The OpenAI error shape of DESIGN §5, so clients parse admin errors like agent errors.
AdminResponse admin_error(int status, std::string_view message, std::string_view type,
                          std::string_view code) {
  JsonWriter out;
  out.begin_object().key("error").begin_object();
  out.key("message").string(message);
  out.key("type").string(type);
  out.key("code").string(code);
  out.key("param").null();
  out.end_object().end_object();
  return json(status, out.take());
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Walk all of b whatever a is, so timing reveals neither the match length nor a's bytes.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    const unsigned char x = a.empty() ? 0 : static_cast<unsigned char>(a[i % a.size()]);
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

AdminRouter::AdminRouter(AdminHooks hooks, metrics::Metrics& metrics, state::ProcessState* states)
    : hooks_(std::move(hooks)),
      metrics_(metrics),
      states_(states),
      started_at_(std::chrono::system_clock::now()),
      started_steady_(std::chrono::steady_clock::now()) {}

bool AdminRouter::authorized(const config::Config* cfg,
                             std::span<const http::HeaderView> headers) const {
  if (cfg->admin_token.empty()) return true;
  const std::string_view* value = find_header(headers, "authorization");
  if (!value) return false;
  std::string_view v = trim(*value);
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size() || !ascii_iequals(v.substr(0, kScheme.size()), kScheme) ||
      (v[kScheme.size()] != ' ' && v[kScheme.size()] != '\t')) {
    return false;
  }
  return constant_time_equals(trim(v.substr(kScheme.size())), cfg->admin_token);
}

AdminResponse AdminRouter::handle(std::string_view method, std::string_view target,
                                  std::span<const http::HeaderView> headers) const {
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  const Route route = route_of(path);
  const bool is_get = method == "GET" || method == "HEAD";

  if (route == Route::Healthz) {
    if (!is_get) return method_not_allowed(method, path, "GET, HEAD");
    return json(200, R"({"status":"ok"})");
  }

  const ConfigView view = hooks_.current_config ? hooks_.current_config() : ConfigView{};
  if (!view.config) {
    // Cannot know the admin token yet: refuse rather than serve without it.
    return error(503, "no configuration loaded yet", "service_unavailable", "not_ready");
  }
  if (route == Route::Dashboard) {
    // The page holds no data (it fetches the endpoints below, which check the token), so it is
    // served without the token: the browser has to load it to ask for one.
    if (!is_get) return method_not_allowed(method, path, "GET, HEAD");
    return dashboard_page(!view.config->admin_token.empty());
  }
  if (!authorized(view.config.get(), headers)) {
    AdminResponse r = error(401, "admin API requires \"Authorization: Bearer <admin_token>\"",
                            "authentication_error", "invalid_admin_token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice-admin\"");
    return r;
  }

  switch (route) {
    case Route::Readyz:
      return is_get ? readyz() : method_not_allowed(method, path, "GET, HEAD");
    case Route::Metrics:
      if (!is_get) return method_not_allowed(method, path, "GET, HEAD");
      // Budget gauges are set when spend changes; a period that rolled over since (midnight
      // UTC) or a reload that changed a budget shows only once they are read again here.
      state::refresh_budget_gauges(*view.config,
                                   states_ != nullptr ? *states_ : state::ProcessState::process(),
                                   state::wall_now());
      return metrics();
    case Route::Status: {
      if (!is_get) return method_not_allowed(method, path, "GET, HEAD");
      const size_t q = target.find('?');
      const std::string_view query =
          q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
      const auto format = query_param(query.substr(0, query.find('#')), "format");
      if (!format || *format == "full") return status(view);
      if (*format == "report") return health_report(view);
      return error(400,
                   "unknown format \"" + std::string(*format) +
                       "\" for /status; use format=report (the health report) or format=full",
                   "invalid_request_error", "invalid_format");
    }
    case Route::Config:
      return is_get ? config(view) : method_not_allowed(method, path, "GET, HEAD");
    case Route::Reload:
      return method == "POST" ? reload() : method_not_allowed(method, path, "POST");
    case Route::Usage: {
      if (!is_get) return method_not_allowed(method, path, "GET, HEAD");
      const size_t q = target.find('?');
      const std::string_view query =
          q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
      const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      return usage_endpoint(query.substr(0, query.find('#')),
                            hooks_.ledger_path ? hooks_.ledger_path() : std::string(), now_ms);
    }
    case Route::Dashboard:
    case Route::Healthz:
    case Route::Unknown:
      break;
  }
  return error(404, "no admin endpoint " + std::string(path), "not_found_error", "not_found");
}

AdminResponse AdminRouter::readyz() const {
  const bool ready = hooks_.ready && hooks_.ready();
  return ready ? json(200, R"({"status":"ready"})") : json(503, R"({"status":"not_ready"})");
}

AdminResponse AdminRouter::metrics() const {
  AdminResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  // A gauge of something the admin API does not own (config snapshots die on worker threads):
  // read at scrape time, which is when its value is looked at.
  if (hooks_.current_config) {
    metrics_.config_generations_alive.Set(
        static_cast<double>(hooks_.current_config().generations_alive));
  }
  if (hooks_.request_slots) {
    // Read here rather than counted per request: the worker's hot path only stores a counter.
    const RequestSlotCounts slots = hooks_.request_slots();
    metrics_.request_slots_in_use.Set(static_cast<double>(slots.in_use));
    metrics_.request_slots_free.Set(static_cast<double>(slots.free));
  }
  r.body = metrics_.serialize();
  return r;
}

AdminResponse AdminRouter::status(const ConfigView& view) const {
  LastReload last;
  if (hooks_.last_reload) {
    last = hooks_.last_reload();
  } else {
    last.generation = view.generation;
  }
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - started_steady_);
  StatusInputs inputs{view, last, metrics_.provider_stats(), started_at_, uptime, states_};
  if (hooks_.fleet) inputs.fleet = hooks_.fleet();
  return json(200, status_json(inputs));
}

AdminResponse AdminRouter::health_report(const ConfigView& view) const {
  return json(200,
              health_report_json({*view.config, metrics_.provider_stats(),
                                  states_ != nullptr ? *states_ : state::ProcessState::process(),
                                  std::chrono::system_clock::now()}));
}

AdminResponse AdminRouter::config(const ConfigView& view) const {
  return json(200, redacted_config_json(view.config->raw));
}

AdminResponse AdminRouter::reload() const {
  if (!hooks_.reload) {
    return error(501, "reload is not available in this process", "not_implemented",
                 "reload_unavailable");
  }
  const ReloadResult result = hooks_.reload();
  JsonWriter out;
  out.begin_object();
  out.key("ok").boolean(result.ok);
  out.key("generation").unsigned_integer(result.generation);
  if (!result.ok) out.key("error").string(result.error);
  out.end_object();
  return json(result.ok ? 200 : 400, out.take());
}

}  // namespace sluice::admin
