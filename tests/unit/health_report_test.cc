// GET /status?format=report (core/admin/health_report.h) from a ProcessState the test drives,
// and what `sluice status` makes of it (parse_report, exit codes, the table's columns).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/admin/admin_router.h"
#include "core/cli/status_command.h"
#include "core/log/request_record.h"
#include "core/metrics/metrics.h"
#include "core/metrics/request_metrics.h"
#include "core/state/process_state.h"

namespace sluice::admin {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  std::shared_ptr<config::Config> config = std::make_shared<config::Config>();
  metrics::Metrics metrics;
  state::ProcessState states{nullptr};

  Fixture() {
    // probed: health-checked; busy: traffic only; idle: nothing known.
    for (const char* name : {"probed", "busy", "idle"}) {
      config::Provider p;
      p.name = name;
      p.type = "openai";
      p.base_url = "http://user:secret@127.0.0.1:1/v1";
      if (std::string_view(name) == "probed") {
        p.health_check = config::HealthCheck{};
        p.health_check->slow_after = 100ms;
      }
      config->providers[name] = p;
    }
  }

  AdminResponse get(std::string_view target) {
    AdminHooks h;
    std::shared_ptr<const config::Config> cfg = config;
    h.current_config = [cfg] { return ConfigView{cfg, 1}; };
    return AdminRouter(h, metrics, &states).handle("GET", target, {});
  }

  // `n` finished requests to `provider`, failed (502) or not.
  void requests(const char* provider, int n, bool failed) {
    metrics::RequestMetrics worker(metrics);
    log::RequestRecord rec;
    rec.model = "fast";
    rec.provider = provider;
    rec.status = failed ? 502 : 200;
    if (failed) rec.error_code = "upstream_error";
    for (int i = 0; i < n; ++i) worker.record(rec);
  }
};

TEST(HealthReport, EachProviderWithItsSourceAndTheVerdict) {
  Fixture f;
  state::ProviderState* probed = f.states.provider("probed");
  probed->set_health(state::HealthStatus::Slow);
  probed->record_health_probe(250ms, std::chrono::system_clock::now());
  f.states.provider("busy")->record_ttfb(20ms);
  f.requests("busy", 2, false);

  AdminResponse r = f.get("/status?format=report");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS) << r.body;

  EXPECT_EQ(std::string_view(doc["verdict"]), "degraded") << r.body;
  EXPECT_EQ(std::string_view(doc["generated_at"]).back(), 'Z');
  EXPECT_EQ(uint64_t(doc["counts"]["ok"]), 2u);
  EXPECT_EQ(uint64_t(doc["counts"]["slow"]), 1u);
  EXPECT_EQ(uint64_t(doc["counts"]["down"]), 0u);

  simdjson::dom::element p = doc["providers"]["probed"];
  EXPECT_EQ(std::string_view(p["health"]), "slow");
  EXPECT_EQ(std::string_view(p["source"]), "probe");
  EXPECT_DOUBLE_EQ(double(p["latency_ms"]), 250.0);
  EXPECT_EQ(std::string_view(p["last_check"]).size(), 24u) << r.body;  // …T03:04:05.678Z
  EXPECT_EQ(std::string_view(p["base_url"]).find("secret"), std::string_view::npos);

  simdjson::dom::element busy = doc["providers"]["busy"];
  EXPECT_EQ(std::string_view(busy["health"]), "ok");
  EXPECT_EQ(std::string_view(busy["source"]), "traffic");
  EXPECT_DOUBLE_EQ(double(busy["latency_ms"]), 20.0);
  EXPECT_EQ(std::string_view(busy["last_check"]).back(), 'Z');

  simdjson::dom::element idle = doc["providers"]["idle"];
  EXPECT_EQ(std::string_view(idle["health"]), "ok");
  EXPECT_EQ(std::string_view(idle["source"]), "none");
  EXPECT_TRUE(idle["latency_ms"].is_null());
  EXPECT_TRUE(idle["last_check"].is_null());
  EXPECT_EQ(f.states.find_provider("idle"), nullptr);  // the report created no state

  // The CLI reads the same document.
  auto summary = cli::parse_report(r.body);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->verdict, "degraded");
  EXPECT_EQ(summary->providers["busy"].source, "traffic");
  EXPECT_EQ(cli::exit_code_of(summary->verdict), 1);
}

TEST(HealthReport, FailuresInARowTakeATrafficProviderDownAndASuccessEndsTheRun) {
  Fixture f;
  f.config->providers.erase("idle");
  f.config->providers.erase("probed");
  f.requests("busy", 3, true);
  AdminResponse r = f.get("/status?format=report");
  auto summary = cli::parse_report(r.body);
  ASSERT_TRUE(summary) << r.body;
  EXPECT_EQ(summary->providers["busy"].health, "down") << r.body;
  EXPECT_EQ(summary->verdict, "down") << r.body;  // its only provider
  EXPECT_EQ(cli::exit_code_of(summary->verdict), 2);
  EXPECT_NE(r.body.find("\"consecutive_failures\":3"), std::string::npos) << r.body;

  f.requests("busy", 1, false);
  summary = cli::parse_report(f.get("/status?format=report").body);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->providers["busy"].health, "ok");
  EXPECT_EQ(summary->verdict, "ok");
}

TEST(HealthReport, FormatParameter) {
  Fixture f;
  EXPECT_NE(f.get("/status?format=full").body.find("\"uptime_seconds\""), std::string::npos);
  EXPECT_NE(f.get("/status?x=1&format=report").body.find("\"verdict\""), std::string::npos);
  AdminResponse bad = f.get("/status?format=xml");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("invalid_format"), std::string::npos) << bad.body;
  // Not a report: the full document has no verdict (how the CLI spots an older sluice).
  EXPECT_FALSE(cli::parse_report(f.get("/status").body));
  EXPECT_EQ(cli::exit_code_of("weird"), 3);
}

TEST(HealthReport, TheTableShowsTheReportsHealthAndSource) {
  Fixture f;
  f.requests("busy", 3, true);
  const std::string status = f.get("/status").body;
  auto report = cli::parse_report(f.get("/status?format=report").body);
  ASSERT_TRUE(report);
  std::string error;
  auto table = cli::render_status(status, std::chrono::system_clock::now(), &error, &*report);
  ASSERT_TRUE(table) << error;
  EXPECT_EQ(table->verdict, "degraded");
  EXPECT_NE(table->text.find("verdict: degraded"), std::string::npos) << table->text;
  EXPECT_NE(table->text.find("SOURCE"), std::string::npos) << table->text;
  EXPECT_NE(table->text.find("busy      down    traffic"), std::string::npos) << table->text;

  // Without a report (an older sluice): /status's own words, unknown counting as ok.
  auto legacy = cli::render_status(status, std::chrono::system_clock::now(), &error);
  ASSERT_TRUE(legacy) << error;
  EXPECT_EQ(legacy->verdict, "ok");  // /status says unknown everywhere
}

}  // namespace
}  // namespace sluice::admin
