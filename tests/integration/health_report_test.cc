// The seeds' health report end to end (GET /status?format=report, `sluice status` and its exit
// codes) with real sockets: provider `a` is health-checked (probe source) against mock A,
// provider `mockai` has no health_check (traffic source) and serves model `fast` from mock B.
// A's probes turn slow and then fail; then B fails every chat. The report, the table and the
// CLI's exit code follow: ok (0) → degraded (1) → degraded (1) → down (2). Every wait is a poll
// with a generous bound, never a timing assertion.
#include <gtest/gtest.h>

#include <regex>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr auto kVerdictWait = 30s;  // probes every 200 ms; this is only the give-up bound
// slow_after well above a loaded machine's normal probe time, the slow answer well above it.
constexpr const char* kHealthCheck =
    "{interval: 200ms, timeout: 3s, unhealthy_after: 2, healthy_after: 1, slow_after: 500ms}";
constexpr const char* kSlowProbe = "slow:1500";

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class HealthReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
    GatewayConfig config;
    config.provider_base_url = b.base_url();  // `mockai`: models fast, smart, embed
    config.extra_providers = std::string("  a:\n    type: openai\n    base_url: ") + a.base_url() +
                             "\n    api_key: sk-a\n    health_check: " + kHealthCheck + "\n";
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  std::optional<Json> report() {
    HttpClient client = sluice.admin_client();
    auto r = client.get("/status?format=report");
    if (!r || r->status != 200) return std::nullopt;
    return r->json();
  }

  // "<health>/<source>" of one provider, e.g. "slow/probe".
  std::string verdict_of(const std::string& provider) {
    auto doc = report();
    if (!doc) return "(no report)";
    const Json& p = (*doc)["providers"][provider];
    return p["health"].str() + "/" + p["source"].str();
  }

  bool becomes(const std::string& provider, const std::string& verdict) {
    return eventually([&] { return verdict_of(provider) == verdict; }, kVerdictWait);
  }

  CliRun sluice_status(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {sluice_binary(), "status", "--admin",
                                     "127.0.0.1:" + std::to_string(sluice.admin_port())};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = Process::start(argv, cli_dir.file("status-" + std::to_string(++cli_runs)));
    CliRun run;
    if (!p) return run;
    auto code = p->wait_exit(30s);  // the command bounds itself at 5 s per GET
    run.exit_code = code ? *code : -1;
    run.out = p->stdout_text();
    run.err = p->stderr_text();
    return run;
  }

  std::optional<HttpResponse> chat() {
    HttpClient client = sluice.client();
    client.set_timeout(20s);
    return client.post_json("/v1/chat/completions", chat_body(kFastModel, "hi"), bearer(kBobKey));
  }

  MockProvider a{mock_provider_binary()};
  MockProvider b{mock_provider_binary()};
  SluiceServer sluice;
  TempDir cli_dir;
  int cli_runs = 0;
};

TEST_F(HealthReportTest, SlowThenDownProvidersMoveTheVerdictAndTheExitCode) {
  // Start: a answers its probes, mockai has seen nothing (ok, as an assumption).
  ASSERT_TRUE(becomes("a", "ok/probe")) << verdict_of("a") << "\n" << sluice.describe();
  EXPECT_EQ(verdict_of("mockai"), "ok/none");
  auto doc = report();
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["verdict"].str(), "ok") << doc->dump();
  EXPECT_TRUE(std::regex_match((*doc)["providers"]["a"]["last_check"].str(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << doc->dump();
  EXPECT_TRUE((*doc)["providers"]["a"]["latency_ms"].is_number()) << doc->dump();
  CliRun ok = sluice_status();
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("verdict: ok"), std::string::npos) << ok.out;

  // Traffic gives mockai a verdict of its own.
  auto r = chat();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  // (Counted at the request's completion, which may trail its last byte: poll.)
  EXPECT_TRUE(becomes("mockai", "ok/traffic")) << verdict_of("mockai");

  // a's probes answer, but slower than slow_after: slow, and the whole is degraded.
  ASSERT_TRUE(a.control(kSlowProbe, -1, "/v1/models"));
  ASSERT_TRUE(becomes("a", "slow/probe")) << verdict_of("a") << "\n" << sluice.describe();
  doc = report();
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["verdict"].str(), "degraded") << doc->dump();
  EXPECT_GT((*doc)["providers"]["a"]["latency_ms"].as_number(), 500) << doc->dump();
  CliRun slow = sluice_status();
  EXPECT_EQ(slow.exit_code, 1) << slow.out << slow.err;
  EXPECT_TRUE(std::regex_search(slow.out, std::regex(R"(\na +slow +probe +closed)"))) << slow.out;
  EXPECT_NE(slow.out.find("verdict: degraded"), std::string::npos) << slow.out;

  // a's probes fail: down; mockai still serves, so degraded.
  ASSERT_TRUE(a.reset());
  ASSERT_TRUE(a.control("status:500", -1, "/v1/models"));
  ASSERT_TRUE(becomes("a", "down/probe")) << verdict_of("a") << "\n" << sluice.describe();
  CliRun one_down = sluice_status();
  EXPECT_EQ(one_down.exit_code, 1) << one_down.out << one_down.err;

  // mockai fails every chat: down from traffic after three in a row; nothing is left: down.
  ASSERT_TRUE(b.control("status:500", -1, "/v1/chat"));
  for (int i = 0; i < 3; ++i) {
    auto failed = chat();
    ASSERT_TRUE(failed) << sluice.describe();
    EXPECT_GE(failed->status, 500) << failed->describe();
  }
  ASSERT_TRUE(becomes("mockai", "down/traffic")) << verdict_of("mockai");
  CliRun all_down = sluice_status({"--json"});
  EXPECT_EQ(all_down.exit_code, 2) << all_down.out << all_down.err;
  auto json = Json::parse(all_down.out);
  ASSERT_TRUE(json) << all_down.out;
  EXPECT_EQ((*json)["verdict"].str(), "down");
  EXPECT_EQ((*json)["counts"]["down"].as_int(), 2);
  EXPECT_EQ((*json)["providers"]["mockai"]["source"].str(), "traffic");
  EXPECT_EQ((*json)["providers"]["mockai"]["consecutive_failures"].as_int(), 3);
  EXPECT_TRUE(std::regex_match((*json)["providers"]["mockai"]["last_check"].str(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << all_down.out;
  CliRun table = sluice_status();
  EXPECT_EQ(table.exit_code, 2) << table.out << table.err;
  EXPECT_TRUE(std::regex_search(table.out, std::regex(R"(\nmockai +down +traffic +closed)")))
      << table.out;

  // One answer ends mockai's run of failures: degraded again (a is still down).
  ASSERT_TRUE(b.reset());
  r = chat();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  // (Counted at the request's completion, which may trail its last byte: poll.)
  EXPECT_TRUE(becomes("mockai", "ok/traffic")) << verdict_of("mockai");
  EXPECT_EQ(sluice_status().exit_code, 1);
}

TEST_F(HealthReportTest, AnUnreachableAdminApiExitsThree) {
  auto p = Process::start({sluice_binary(), "status", "--json", "--admin",
                           "127.0.0.1:" + std::to_string(unused_port())},
                          cli_dir.file("unreachable"));
  ASSERT_TRUE(p);
  auto code = p->wait_exit(30s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 3) << p->stderr_text();
  EXPECT_NE(p->stderr_text().find("unreachable"), std::string::npos) << p->stderr_text();
  EXPECT_TRUE(p->stdout_text().empty());
}

}  // namespace
}  // namespace sluice::test
