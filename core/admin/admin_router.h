// AdminRouter: the admin API (DESIGN §6) as a pure function of (method, target, headers) →
// response, so every endpoint and the token check are tested without sockets. AdminServer
// wraps it with the listener and the HTTP codec.
//
//   GET  /         200 the dashboard, text/html (dashboard_page.h; never needs the token)
//   GET  /healthz  200 {"status":"ok"}                     (never needs the token)
//   GET  /readyz   200 {"status":"ready"} | 503 {"status":"not_ready"}
//   GET  /metrics  200 Prometheus text, version 0.0.4
//   GET  /status   200 see status_report.h (also ?format=full)
//        /status?format=report  200 the health report, see health_report.h
//                               (another format → 400 invalid_format)
//   GET  /config   200 the effective config as JSON, secrets redacted (config_json.h)
//   GET  /usage    200 the ledger's usage report (usage_endpoint.h), ?by=…&since=…
//   POST /reload   200 {"ok":true,"generation":N}
//                  400 {"ok":false,"generation":N,"error":"…"}  rejected; the old config serves
//                  501 when no reload hook is wired
//   HEAD is answered like GET (the server drops the body). Other paths → 404, other methods
//   on a known path → 405 with Allow. Errors use the OpenAI shape of DESIGN §5:
//   {"error":{"message","type","code","param":null}}.
//
// Token: when the serving config's admin_token is non-empty, every endpoint but /healthz and /
// (the page holds no data) needs "Authorization: Bearer <token>" (compared in constant time)
// and answers 401 otherwise — the check runs before routing, so without the token unknown
// paths are 401, not 404.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/admin/admin_hooks.h"
#include "core/http/request.h"
#include "core/metrics/metrics.h"
#include "core/state/process_state.h"

namespace sluice::admin {

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Allow
};

class AdminRouter {
 public:
  // `states`: where /status reads health, circuit, load and agent usage (null: the process
  // registry, state::ProcessState::process()).
  AdminRouter(AdminHooks hooks, metrics::Metrics& metrics, state::ProcessState* states = nullptr);

  // `target` is the request target ("/status", "/metrics?x=1"); headers as received.
  AdminResponse handle(std::string_view method, std::string_view target,
                       std::span<const http::HeaderView> headers) const;

 private:
  bool authorized(const config::Config* cfg, std::span<const http::HeaderView> headers) const;
  AdminResponse readyz() const;
  AdminResponse metrics() const;
  AdminResponse status(const ConfigView& view) const;
  AdminResponse health_report(const ConfigView& view) const;
  AdminResponse config(const ConfigView& view) const;
  AdminResponse reload() const;

  AdminHooks hooks_;
  metrics::Metrics& metrics_;
  state::ProcessState* states_;
  std::chrono::system_clock::time_point started_at_;
  std::chrono::steady_clock::time_point started_steady_;
};

// An error in the OpenAI shape of DESIGN §5 (also used by AdminServer for framing errors).
AdminResponse admin_error(int status, std::string_view message, std::string_view type,
                          std::string_view code);

// True when `a` and `b` are equal; the time taken depends only on b's length (the token we
// hold), not on where a guess first differs.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace sluice::admin
