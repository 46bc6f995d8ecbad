// Admin API (DESIGN §6) through AdminRouter::handle, without sockets: every endpoint, the admin
// token, /config redaction and the error shapes.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

#include "core/admin/admin_router.h"
#include "core/admin/config_json.h"
#include "core/config/config.h"
#include "core/log/request_record.h"
#include "core/metrics/metrics.h"
#include "core/metrics/request_metrics.h"

namespace sluice::admin {
namespace {

// Every secret a config can hold; none may appear in any admin response.
constexpr const char* kSecrets[] = {
    "sk-live-PROVIDERKEY", "hdr-AUTHVALUE", "XAPIKEY-VALUE",  "adm-TOKEN-123", "deadbeefAGENTKEY",
    "jwt-HS256-SECRET",    "url-PASSWORD",  "lua-PLUGIN-KEY", "COOKIE-VALUE",  "plain-AGENT-KEY"};

constexpr const char* kConfigYaml = R"(
listen: 127.0.0.1:8080
admin: 127.0.0.1:9901
admin_token: adm-TOKEN-123
workers: 2
providers:
  openai:
    type: openai
    base_url: https://api.openai.com/v1
    api_key: sk-live-PROVIDERKEY
    headers:
      OpenAI-Organization: org-123
      Authorization: Bearer hdr-AUTHVALUE
      X-Api-Key: XAPIKEY-VALUE
      Cookie: session=COOKIE-VALUE
    timeouts: {connect: 2s, first_byte: 60s}
    tls_verify: false
  proxied:
    type: openai
    base_url: https://bob:url-PASSWORD@llm.internal:8443/v1
  demo:
    type: mock
models:
  fast:
    strategy: priority
    targets:
      - {provider: demo, model: "qwen3:8b", weight: 1}
  quality:
    targets:
      - {provider: openai, model: gpt-4o}
agents:
  sofia:
    keys: ["sha256:deadbeefAGENTKEY", "plain-AGENT-KEY"]
    models: [fast]
    tools: [projects.list]
    budget: {usd: 5.00, per: day}
  bot:
    keys: []
filters:
  - auth: {modes: [api_key, jwt], jwt: {hs256_secret: jwt-HS256-SECRET, issuer: me}}
  - lua: {file: guard.lua, config: {words: [foo, bar], api_key: lua-PLUGIN-KEY}}
  - rate_limit: {}
quoted: "123"
nothing: ~
)";

std::shared_ptr<const config::Config> make_config(const std::string& token = "adm-TOKEN-123") {
  auto cfg = std::make_shared<config::Config>();
  cfg->source_path = "/etc/sluice/sluice.yaml";
  cfg->admin_token = token;
  cfg->workers = 2;
  config::Provider openai;
  openai.name = "openai";
  openai.type = "openai";
  openai.base_url = "https://api.openai.com/v1";
  openai.api_key = "sk-live-PROVIDERKEY";
  cfg->providers["openai"] = openai;
  config::Provider proxied;
  proxied.name = "proxied";
  proxied.type = "openai";
  proxied.base_url = "https://bob:url-PASSWORD@llm.internal:8443/v1";
  cfg->providers["proxied"] = proxied;
  config::Provider demo;
  demo.name = "demo";
  demo.type = "mock";
  cfg->providers["demo"] = demo;
  cfg->models["fast"].name = "fast";
  cfg->models["quality"].name = "quality";
  config::Agent sofia;
  sofia.name = "sofia";
  sofia.models = std::vector<std::string>{"fast"};
  sofia.tools = {"projects.list"};
  cfg->agents["sofia"] = sofia;
  config::Agent bot;
  bot.name = "bot";
  cfg->agents["bot"] = bot;
  cfg->raw = YAML::Load(kConfigYaml);
  return cfg;
}

struct Fixture {
  std::shared_ptr<const config::Config> config = make_config();
  uint64_t generation = 3;
  bool ready = true;
  ReloadResult next_reload{true, 4, ""};
  int reloads = 0;
  LastReload last;
  metrics::Metrics metrics;

  AdminHooks hooks() {
    AdminHooks h;
    h.current_config = [this] { return ConfigView{config, generation}; };
    h.ready = [this] { return ready; };
    h.reload = [this] {
      ++reloads;
      return next_reload;
    };
    h.last_reload = [this] { return last; };
    return h;
  }
};

const std::vector<http::HeaderView> kAuthorized = {{"Authorization", "Bearer adm-TOKEN-123"}};
const std::vector<http::HeaderView> kNoHeaders = {};

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& body) {
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
  return doc;
}

std::string header_value(const AdminResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "<missing>";
}

void expect_error_shape(const AdminResponse& r, int status, std::string_view type,
                        std::string_view code) {
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.content_type, "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parse(parser, r.body);
  EXPECT_EQ(std::string_view(doc["error"]["type"]), type) << r.body;
  EXPECT_EQ(std::string_view(doc["error"]["code"]), code) << r.body;
  EXPECT_FALSE(std::string_view(doc["error"]["message"]).empty());
  EXPECT_TRUE(doc["error"]["param"].is_null());
}

TEST(AdminRouter, HealthzAnswersWithoutTheToken) {
  Fixture f;
  AdminRouter router(f.hooks(), f.metrics);
  AdminResponse r = router.handle("GET", "/healthz", kNoHeaders);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  EXPECT_EQ(router.handle("HEAD", "/healthz", kNoHeaders).status, 200);
}

TEST(AdminRouter, ReadyzFollowsTheDataPlane) {
  Fixture f;
  AdminRouter router(f.hooks(), f.metrics);
  f.ready = false;
  AdminResponse r = router.handle("GET", "/readyz", kAuthorized);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"status":"not_ready"})");
  f.ready = true;
  r = router.handle("GET", "/readyz", kAuthorized);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ready"})");
}

TEST(AdminRouter, MetricsServesPrometheusText) {
  Fixture f;
  metrics::RequestMetrics worker(f.metrics);
  log::RequestRecord rec;
  rec.agent = "sofia";
  rec.model = "fast";
  rec.provider = "demo";
  rec.status = 200;
  worker.record(rec);
  AdminRouter router(f.hooks(), f.metrics);
  AdminResponse r = router.handle("GET", "/metrics?name[]=x", kAuthorized);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("# TYPE sluice_requests_total counter"), std::string::npos);
  EXPECT_NE(
      r.body.find(
          R"(sluice_requests_total{agent="sofia",model="fast",provider="demo",status="200"} 1)"),
      std::string::npos)
      << r.body;
}

TEST(AdminRouter, StatusReportsConfigProvidersAndAgents) {
  Fixture f;
  metrics::RequestMetrics worker(f.metrics);
  log::RequestRecord rec;
  rec.model = "quality";
  rec.provider = "openai";
  rec.status = 200;
  worker.record(rec);
  rec.status = 504;
  rec.error_code = "upstream_timeout";
  worker.record(rec);
  f.last.at = std::chrono::system_clock::now();
  f.last.ok = false;
  f.last.error = "sluice.yaml:3:1: providers.x: unknown key";
  f.last.generation = 3;
  AdminRouter router(f.hooks(), f.metrics);

  AdminResponse r = router.handle("GET", "/status", kAuthorized);
  ASSERT_EQ(r.status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parse(parser, r.body);
  EXPECT_FALSE(std::string_view(doc["version"]).empty());
  EXPECT_EQ(uint64_t(doc["generation"]), 3u);
  EXPECT_EQ(std::string_view(doc["config_source"]), "/etc/sluice/sluice.yaml");
  EXPECT_EQ(std::string_view(doc["started_at"]).back(), 'Z');
  EXPECT_GE(int64_t(doc["uptime_seconds"]), 0);
  EXPECT_EQ(uint64_t(doc["workers"]), 2u);

  simdjson::dom::element last = doc["last_reload"];
  EXPECT_EQ(bool(last["ok"]), false);
  EXPECT_EQ(std::string_view(last["error"]), "sluice.yaml:3:1: providers.x: unknown key");
  EXPECT_TRUE(last["at"].is_string());
  EXPECT_EQ(uint64_t(last["generation"]), 3u);

  simdjson::dom::element openai = doc["providers"]["openai"];
  EXPECT_EQ(std::string_view(openai["type"]), "openai");
  EXPECT_EQ(std::string_view(openai["base_url"]), "https://api.openai.com/v1");
  EXPECT_EQ(std::string_view(openai["health"]), "unknown");
  EXPECT_EQ(std::string_view(openai["circuit"]), "closed");
  EXPECT_EQ(uint64_t(openai["requests"]), 2u);
  EXPECT_EQ(uint64_t(openai["failures"]), 1u);
  EXPECT_EQ(std::string_view(openai["last_error"]), "upstream_timeout");
  EXPECT_TRUE(openai["last_error_at"].is_string());
  simdjson::dom::element demo = doc["providers"]["demo"];
  EXPECT_EQ(uint64_t(demo["requests"]), 0u);
  EXPECT_TRUE(demo["last_error"].is_null());
  EXPECT_TRUE(demo["last_error_at"].is_null());
  EXPECT_EQ(std::string_view(doc["providers"]["proxied"]["base_url"]),
            "https://bob:[redacted]@llm.internal:8443/v1");

  simdjson::dom::array sofia_models = doc["agents"]["sofia"]["models"];
  ASSERT_EQ(sofia_models.size(), 1u);
  EXPECT_EQ(std::string_view(sofia_models.at(0)), "fast");
  simdjson::dom::array bot_models = doc["agents"]["bot"]["models"];  // omitted = all
  ASSERT_EQ(bot_models.size(), 2u);
  EXPECT_EQ(std::string_view(bot_models.at(0)), "fast");
  EXPECT_EQ(std::string_view(bot_models.at(1)), "quality");
}

TEST(AdminRouter, StatusWithoutReloadHookShowsNoReloadYet) {
  Fixture f;
  AdminHooks hooks = f.hooks();
  hooks.last_reload = nullptr;
  AdminRouter router(hooks, f.metrics);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parse(parser, router.handle("GET", "/status", kAuthorized).body);
  EXPECT_EQ(bool(doc["last_reload"]["ok"]), true);
  EXPECT_TRUE(doc["last_reload"]["at"].is_null());
  EXPECT_TRUE(doc["last_reload"]["error"].is_null());
  EXPECT_EQ(uint64_t(doc["last_reload"]["generation"]), 3u);
}

TEST(AdminRouter, ConfigIsJsonWithEverySecretRedacted) {
  Fixture f;
  AdminRouter router(f.hooks(), f.metrics);
  AdminResponse r = router.handle("GET", "/config", kAuthorized);
  ASSERT_EQ(r.status, 200);
  for (const char* secret : kSecrets) {
    EXPECT_EQ(r.body.find(secret), std::string::npos) << secret << " leaked: " << r.body;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parse(parser, r.body);
  simdjson::dom::element openai = doc["providers"]["openai"];
  EXPECT_EQ(std::string_view(openai["api_key"]), "[redacted]");
  EXPECT_EQ(std::string_view(openai["headers"]["Authorization"]), "[redacted]");
  EXPECT_EQ(std::string_view(openai["headers"]["X-Api-Key"]), "[redacted]");
  EXPECT_EQ(std::string_view(openai["headers"]["Cookie"]), "[redacted]");
  EXPECT_EQ(std::string_view(openai["headers"]["OpenAI-Organization"]), "org-123");
  EXPECT_EQ(std::string_view(doc["admin_token"]), "[redacted]");
  simdjson::dom::array keys = doc["agents"]["sofia"]["keys"];  // shape kept: two keys
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(std::string_view(keys.at(0)), "[redacted]");
  EXPECT_EQ(simdjson::dom::array(doc["agents"]["bot"]["keys"]).size(), 0u);
  EXPECT_EQ(std::string_view(doc["filters"].at(0)["auth"]["jwt"]["hs256_secret"]), "[redacted]");
  EXPECT_EQ(std::string_view(doc["filters"].at(0)["auth"]["jwt"]["issuer"]), "me");
  EXPECT_EQ(std::string_view(doc["filters"].at(1)["lua"]["config"]["api_key"]), "[redacted]");
  EXPECT_EQ(std::string_view(doc["providers"]["proxied"]["base_url"]),
            "https://bob:[redacted]@llm.internal:8443/v1");

  // Everything else is the config as written, typed as YAML reads it.
  EXPECT_EQ(std::string_view(doc["listen"]), "127.0.0.1:8080");
  EXPECT_EQ(int64_t(doc["workers"]), 2);
  EXPECT_EQ(bool(openai["tls_verify"]), false);
  EXPECT_EQ(std::string_view(openai["timeouts"]["connect"]), "2s");
  EXPECT_EQ(double(doc["agents"]["sofia"]["budget"]["usd"]), 5.0);
  EXPECT_EQ(std::string_view(doc["models"]["fast"]["targets"].at(0)["model"]), "qwen3:8b");
  EXPECT_EQ(int64_t(doc["models"]["fast"]["targets"].at(0)["weight"]), 1);
  EXPECT_EQ(std::string_view(doc["quoted"]), "123");
  EXPECT_TRUE(doc["nothing"].is_null());
  EXPECT_EQ(std::string_view(doc["filters"].at(1)["lua"]["config"]["words"].at(1)), "bar");
}

TEST(AdminRouter, NoSecretAppearsInAnyEndpoint) {
  Fixture f;
  f.next_reload = {false, 3, "rejected"};
  AdminRouter router(f.hooks(), f.metrics);
  for (auto [method, path] : {std::pair{"GET", "/healthz"},
                              {"GET", "/readyz"},
                              {"GET", "/metrics"},
                              {"GET", "/status"},
                              {"GET", "/config"},
                              {"POST", "/reload"},
                              {"GET", "/nope"},
                              {"PUT", "/status"}}) {
    for (const auto* headers : {&kAuthorized, &kNoHeaders}) {
      AdminResponse r = router.handle(method, path, *headers);
      for (const char* secret : kSecrets) {
        EXPECT_EQ(r.body.find(secret), std::string::npos) << method << " " << path;
        for (const auto& [name, value] : r.headers) {
          EXPECT_EQ(value.find(secret), std::string::npos) << method << " " << path;
        }
      }
    }
  }
}

TEST(AdminRouter, TokenIsRequiredEverywhereButHealthz) {
  Fixture f;
  AdminRouter router(f.hooks(), f.metrics);
  const std::vector<std::vector<http::HeaderView>> refused = {
      {},
      {{"Authorization", "Bearer wrong"}},
      {{"Authorization", "Bearer adm-TOKEN-12"}},    // a prefix
      {{"Authorization", "Bearer adm-TOKEN-1234"}},  // longer
      {{"Authorization", "adm-TOKEN-123"}},          // no scheme
      {{"Authorization", "Basic adm-TOKEN-123"}},    // wrong scheme
      {{"Authorization", "Bearer"}},
      {{"X-Admin-Token", "adm-TOKEN-123"}},
  };
  for (const char* path : {"/readyz", "/metrics", "/status", "/config", "/nope"}) {
    for (const auto& headers : refused) {
      AdminResponse r = router.handle("GET", path, headers);
      expect_error_shape(r, 401, "authentication_error", "invalid_admin_token");
      EXPECT_EQ(header_value(r, "WWW-Authenticate"), R"(Bearer realm="sluice-admin")");
    }
  }
  EXPECT_EQ(router.handle("POST", "/reload", refused[1]).status, 401);
  EXPECT_EQ(f.reloads, 0) << "an unauthorized reload must not run";

  // Accepted: scheme in any case, extra spaces, header name in any case.
  EXPECT_EQ(router.handle("GET", "/status", {{{"authorization", "bearer adm-TOKEN-123"}}}).status,
            200);
  EXPECT_EQ(
      router.handle("GET", "/status", {{{"AUTHORIZATION", "  Bearer   adm-TOKEN-123 "}}}).status,
      200);
  EXPECT_EQ(router.handle("GET", "/nope", kAuthorized).status, 404);
}

TEST(AdminRouter, NoTokenConfiguredMeansOpen) {
  Fixture f;
  f.config = make_config("");
  AdminRouter router(f.hooks(), f.metrics);
  EXPECT_EQ(router.handle("GET", "/status", kNoHeaders).status, 200);
  EXPECT_EQ(router.handle("GET", "/config", kNoHeaders).status, 200);
}

TEST(AdminRouter, TokenFollowsTheServingConfig) {
  Fixture f;
  AdminRouter router(f.hooks(), f.metrics);
  EXPECT_EQ(router.handle("GET", "/status", kAuthorized).status, 200);
  f.config = make_config("rotated-token");  // a reload changed admin_token
  EXPECT_EQ(router.handle("GET", "/status", kAuthorized).status, 401);
  EXPECT_EQ(router.handle("GET", "/status", {{{"Authorization", "Bearer rotated-token"}}}).status,
            200);
}

TEST(AdminRouter, ReloadCallsTheHookAndReportsTheResult) {
  Fixture f;
  AdminRouter router(f.hooks(), f.metrics);
  AdminResponse ok = router.handle("POST", "/reload", kAuthorized);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"ok":true,"generation":4})");
  EXPECT_EQ(f.reloads, 1);

  f.next_reload = {false, 3, "sluice.yaml:7:3: models.fast.targets[0].provider: unknown provider"};
  AdminResponse bad = router.handle("POST", "/reload", kAuthorized);
  EXPECT_EQ(bad.status, 400);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parse(parser, bad.body);
  EXPECT_EQ(bool(doc["ok"]), false);
  EXPECT_EQ(uint64_t(doc["generation"]), 3u);
  EXPECT_EQ(std::string_view(doc["error"]),
            "sluice.yaml:7:3: models.fast.targets[0].provider: unknown provider");
}

TEST(AdminRouter, ReloadWithoutHookIsNotImplemented) {
  Fixture f;
  AdminHooks hooks = f.hooks();
  hooks.reload = nullptr;
  AdminRouter router(hooks, f.metrics);
  expect_error_shape(router.handle("POST", "/reload", kAuthorized), 501, "not_implemented",
                     "reload_unavailable");
}

TEST(AdminRouter, UnknownPathIs404) {
  Fixture f;
  AdminRouter router(f.hooks(), f.metrics);
  for (const char* path : {"/index.html", "/usage/x", "/healthz/", "/HEALTHZ", "/metrics/x"}) {
    AdminResponse r = router.handle("GET", path, kAuthorized);
    expect_error_shape(r, 404, "not_found_error", "not_found");
  }
}

TEST(AdminRouter, WrongMethodIs405WithAllow) {
  Fixture f;
  AdminRouter router(f.hooks(), f.metrics);
  AdminResponse r = router.handle("GET", "/reload", kAuthorized);
  expect_error_shape(r, 405, "invalid_request_error", "method_not_allowed");
  EXPECT_EQ(header_value(r, "Allow"), "POST");
  EXPECT_EQ(f.reloads, 0);
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    r = router.handle(method, "/status", kAuthorized);
    expect_error_shape(r, 405, "invalid_request_error", "method_not_allowed");
    EXPECT_EQ(header_value(r, "Allow"), "GET, HEAD");
  }
  r = router.handle("DELETE", "/healthz", kNoHeaders);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header_value(r, "Allow"), "GET, HEAD");
}

TEST(AdminRouter, BeforeTheFirstConfigOnlyHealthzAnswers) {
  Fixture f;
  f.config = nullptr;
  AdminRouter router(f.hooks(), f.metrics);
  EXPECT_EQ(router.handle("GET", "/healthz", kNoHeaders).status, 200);
  EXPECT_EQ(router.handle("GET", "/status", kAuthorized).status, 503);
  EXPECT_EQ(router.handle("GET", "/readyz", kAuthorized).status, 503);
}

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abd", "abc"));
  EXPECT_FALSE(constant_time_equals("ab", "abc"));
  EXPECT_FALSE(constant_time_equals("abcabc", "abc"));
  EXPECT_FALSE(constant_time_equals("", "abc"));
  EXPECT_TRUE(constant_time_equals("", ""));
}

TEST(RedactUrl, HidesOnlyTheCredential) {
  EXPECT_EQ(redact_url_userinfo("https://u:p@h:1/x@y"), "https://u:[redacted]@h:1/x@y");
  EXPECT_EQ(redact_url_userinfo("redis://TOKEN@h"), "redis://[redacted]@h");
  EXPECT_EQ(redact_url_userinfo("https://h/a@b"), "https://h/a@b");
  EXPECT_EQ(redact_url_userinfo("me@example.com"), "me@example.com");
}

}  // namespace
}  // namespace sluice::admin
