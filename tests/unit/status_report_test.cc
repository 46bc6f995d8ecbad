// GET /status's per-provider health, circuit and load and per-agent limits and usage, read
// from a ProcessState the test drives (no sockets, no process-wide registry).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/admin/admin_router.h"
#include "core/log/request_record.h"
#include "core/metrics/metrics.h"
#include "core/metrics/request_metrics.h"
#include "core/state/process_state.h"

namespace sluice::admin {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const config::Config> make_config() {
  auto cfg = std::make_shared<config::Config>();
  cfg->source_path = "/etc/sluice/sluice.yaml";
  for (const char* name : {"a", "b", "never_used"}) {
    config::Provider p;
    p.name = name;
    p.type = "openai";
    p.base_url = "http://127.0.0.1:1/v1";
    cfg->providers[name] = p;
  }
  cfg->models["fast"].name = "fast";
  config::Agent sofia;
  sofia.name = "sofia";
  sofia.limits.rpm = 60;
  sofia.limits.tpm = 1000;
  sofia.limits.concurrent = 4;
  cfg->agents["sofia"] = sofia;
  config::Agent bot;  // no limits
  bot.name = "bot";
  cfg->agents["bot"] = bot;
  config::Agent idle;  // limits, but never sent a request
  idle.name = "idle";
  idle.limits.rpm = 10;
  cfg->agents["idle"] = idle;
  return cfg;
}

struct Fixture {
  std::shared_ptr<const config::Config> config = make_config();
  metrics::Metrics metrics;
  state::ProcessState states{nullptr};

  AdminRouter router() {
    AdminHooks h;
    h.current_config = [this] { return ConfigView{config, 1}; };
    return AdminRouter(h, metrics, &states);
  }
};

simdjson::dom::element get_status(simdjson::dom::parser& parser, AdminRouter& router,
                                  std::string& body) {
  AdminResponse r = router.handle("GET", "/status", {});
  EXPECT_EQ(r.status, 200);
  body = r.body;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
  return doc;
}

TEST(StatusReport, ProviderHealthCircuitLoadAndErrorRate) {
  Fixture f;
  state::ProviderState* a = f.states.provider("a");
  a->set_health(state::HealthStatus::Down);
  a->record_ttfb(120ms);
  a->attempt_started();
  a->attempt_started();
  config::CircuitBreakerSettings breaker;
  breaker.consecutive_failures = 1;
  a->record_outcome(/*failed=*/true, breaker, std::chrono::steady_clock::now());
  f.states.provider("b")->set_health(state::HealthStatus::Slow);

  metrics::RequestMetrics worker(f.metrics);
  log::RequestRecord rec;
  rec.model = "fast";
  rec.provider = "a";
  rec.status = 200;
  for (int i = 0; i < 3; ++i) worker.record(rec);
  rec.status = 502;
  rec.error_code = "upstream_error";
  worker.record(rec);

  AdminRouter router = f.router();
  simdjson::dom::parser parser;
  std::string body;
  simdjson::dom::element doc = get_status(parser, router, body);

  simdjson::dom::element pa = doc["providers"]["a"];
  EXPECT_EQ(std::string_view(pa["health"]), "down");
  EXPECT_EQ(std::string_view(pa["circuit"]), "open");
  EXPECT_DOUBLE_EQ(double(pa["ewma_latency_ms"]), 120.0);
  EXPECT_EQ(uint64_t(pa["in_flight"]), 2u);
  EXPECT_EQ(uint64_t(pa["requests"]), 4u);
  EXPECT_EQ(uint64_t(pa["failures"]), 1u);
  EXPECT_DOUBLE_EQ(double(pa["error_rate"]), 0.25);
  EXPECT_EQ(std::string_view(pa["last_error"]), "upstream_error");
  EXPECT_EQ(std::string_view(pa["last_error_at"]).back(), 'Z');  // ISO-8601 UTC

  simdjson::dom::element pb = doc["providers"]["b"];
  EXPECT_EQ(std::string_view(pb["health"]), "slow");
  EXPECT_EQ(std::string_view(pb["circuit"]), "closed");
  EXPECT_EQ(uint64_t(pb["requests"]), 0u);
  EXPECT_DOUBLE_EQ(double(pb["error_rate"]), 0.0);  // no requests: 0, not NaN

  // A configured provider with no state yet reads as a fresh one.
  simdjson::dom::element never = doc["providers"]["never_used"];
  EXPECT_EQ(std::string_view(never["health"]), "unknown");
  EXPECT_EQ(std::string_view(never["circuit"]), "closed");
  EXPECT_DOUBLE_EQ(double(never["ewma_latency_ms"]), 0.0);
  EXPECT_EQ(uint64_t(never["in_flight"]), 0u);
  EXPECT_EQ(f.states.find_provider("never_used"), nullptr);  // /status created nothing
}

TEST(StatusReport, AgentLimitsAndCurrentUsage) {
  Fixture f;
  state::AgentState* sofia = f.states.agent("sofia");
  const auto now = std::chrono::steady_clock::now();
  ASSERT_TRUE(sofia->requests().try_take(2, 60, 1min, now).allowed);
  ASSERT_TRUE(sofia->tokens().try_take(400, 1000, 1min, now).allowed);
  ASSERT_TRUE(sofia->in_flight().try_enter(4));

  AdminRouter router = f.router();
  simdjson::dom::parser parser;
  std::string body;
  simdjson::dom::element doc = get_status(parser, router, body);

  simdjson::dom::element s = doc["agents"]["sofia"];
  EXPECT_EQ(uint64_t(s["limits"]["rpm"]), 60u);
  EXPECT_EQ(uint64_t(s["limits"]["tpm"]), 1000u);
  EXPECT_EQ(uint64_t(s["limits"]["concurrent"]), 4u);
  // The buckets drain continuously, so a moment later a little may have come back.
  const uint64_t rpm_remaining = s["usage"]["rpm"]["remaining"];
  EXPECT_GE(rpm_remaining, 58u);
  EXPECT_LE(rpm_remaining, 60u);
  EXPECT_EQ(uint64_t(s["usage"]["rpm"]["used"]) + rpm_remaining, 60u);
  EXPECT_GT(int64_t(s["usage"]["rpm"]["reset_after_ms"]), 0);
  const uint64_t tpm_remaining = s["usage"]["tpm"]["remaining"];
  EXPECT_GE(tpm_remaining, 600u);
  EXPECT_LT(tpm_remaining, 700u);
  EXPECT_EQ(uint64_t(s["usage"]["concurrent"]["in_use"]), 1u);
  EXPECT_EQ(uint64_t(s["usage"]["concurrent"]["remaining"]), 3u);

  simdjson::dom::element bot = doc["agents"]["bot"];
  EXPECT_TRUE(bot["limits"]["rpm"].is_null());
  EXPECT_TRUE(bot["limits"]["tpm"].is_null());
  EXPECT_TRUE(bot["limits"]["concurrent"].is_null());
  EXPECT_TRUE(bot["usage"]["rpm"].is_null());
  EXPECT_TRUE(bot["usage"]["concurrent"].is_null());

  simdjson::dom::element idle = doc["agents"]["idle"];
  EXPECT_EQ(uint64_t(idle["usage"]["rpm"]["used"]), 0u);
  EXPECT_EQ(uint64_t(idle["usage"]["rpm"]["remaining"]), 10u);
  EXPECT_TRUE(idle["usage"]["tpm"].is_null());
  EXPECT_EQ(f.states.find_agent("idle"), nullptr);  // /status registered nothing
}

}  // namespace
}  // namespace sluice::admin
