// What users see of the ledger without a running server: GET /usage through the admin router
// (JSON, 400s, 404 when off), the `sluice usage` table, `since` parsing, and the restart-only
// rule for state.ledger / state.flush_interval.
#include <gtest/gtest.h>

#include "core/admin/admin_router.h"
#include "core/admin/usage_endpoint.h"
#include "core/cli/usage_command.h"
#include "core/config/loader.h"
#include "core/ledger/ledger_reader.h"
#include "core/ledger/ledger_writer.h"
#include "core/metrics/metrics.h"
#include "core/server/reload_diff.h"
#include "tests/unit/ledger_test_util.h"

namespace sluice {
namespace {

using ledger::test::make_row;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kHour = 3'600'000;

std::shared_ptr<const config::Config> load(const std::string& text) {
  return config::load_config_text(text, "/tmp/sluice.yaml",
                                  [](const std::string&) { return std::optional<std::string>(); });
}

ledger::LedgerRow tool_call(std::string agent, std::string tool, std::string error_code,
                            double seconds, int64_t time_ms) {
  ledger::LedgerRow r;
  r.request_id = "call-" + tool + "-" + std::to_string(time_ms);
  r.time_unix_ms = time_ms;
  r.agent = std::move(agent);
  r.tool = std::move(tool);
  r.status = error_code.empty() ? 200 : 504;
  r.error_code = std::move(error_code);
  r.latency_s = seconds;
  return r;
}

class UsageSurfaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger::LedgerWriter::Options options;
    options.path = path;
    options.metrics = &metrics;
    std::string error;
    auto writer = ledger::LedgerWriter::open(options, &error);
    ASSERT_TRUE(writer) << error;
    writer->enqueue(make_row("alice", "fast", "openai", 0.25, 100, 10, kNow - 2 * kHour));
    writer->enqueue(make_row("bob", "smart", "anthropic", 1.5, 1000, 100, kNow - 48 * kHour));
    writer->enqueue(make_row("bob", "fast", "openai", 0.125, 50, 5, kNow - kHour, true));
    writer->enqueue(tool_call("bob", "projects.list", "", 0.5, kNow - kHour));
    writer->enqueue(tool_call("bob", "projects.list", "tool_timeout", 5.0, kNow - kHour));
    writer->enqueue(tool_call("alice", "memory.query", "", 0.5, kNow - 48 * kHour));
    writer->stop();
  }

  admin::AdminResponse get(const std::string& target, std::string ledger_path) {
    admin::AdminHooks hooks;
    auto config = load("listen: 127.0.0.1:8080\nproviders: {p: {type: mock}}\n");
    hooks.current_config = [config] { return admin::ConfigView{config, 1}; };
    hooks.ledger_path = [ledger_path] { return ledger_path; };
    admin::AdminRouter router(std::move(hooks), metrics);
    return router.handle("GET", target, {});
  }

  ledger::test::LedgerTempDir dir;
  std::string path = dir.file("ledger.db");
  metrics::Metrics metrics;
};

TEST_F(UsageSurfaceTest, GetUsageByModelIsTheReportAsJson) {
  auto r = get("/usage?by=model", path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  // smart (1.5) before fast (0.375); the whole ledger without `since`.
  EXPECT_NE(r.body.find(R"("by":"model","since":null)"), std::string::npos) << r.body;
  const size_t smart = r.body.find(R"({"key":"smart","requests":1,"input_tokens":1000,)");
  const size_t fast = r.body.find(R"({"key":"fast","requests":2,"input_tokens":150,)");
  ASSERT_NE(smart, std::string::npos) << r.body;
  ASSERT_NE(fast, std::string::npos) << r.body;
  EXPECT_LT(smart, fast);
  EXPECT_NE(r.body.find(R"("estimated_share":0.5)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("total":{"requests":3,"input_tokens":1150,"output_tokens":115,)"),
            std::string::npos)
      << r.body;
  // Tool calls have no model: no "" group, no tool_calls field.
  EXPECT_EQ(r.body.find(R"("key":"")"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("tool_calls"), std::string::npos) << r.body;
}

TEST_F(UsageSurfaceTest, GetUsageByAgentCountsToolCallsBesideRequests) {
  auto r = get("/usage?by=agent", path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"({"key":"bob","requests":2,"input_tokens":1050,)"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("estimated_share":0.5,"tool_calls":2})"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("total":{"requests":3,)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("tool_calls":3},"truncated":false})"), std::string::npos) << r.body;
}

TEST_F(UsageSurfaceTest, GetUsageByToolIsCallsByOutcome) {
  auto r = get("/usage?by=tool", path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            R"({"by":"tool","since":null,"ledger":")" + path +
                R"(","rows":[)"
                R"({"key":"projects.list","calls":2,"ok":1,"error":0,"timeout":1,)"
                R"("unavailable":0,"invalid_arguments":0,"other":0,"p50_s":0.5,"avg_s":2.75},)"
                R"({"key":"memory.query","calls":1,"ok":1,"error":0,"timeout":0,)"
                R"("unavailable":0,"invalid_arguments":0,"other":0,"p50_s":0.5,"avg_s":0.5}],)"
                R"("total":{"calls":3,"ok":2,"error":0,"timeout":1,"unavailable":0,)"
                R"("invalid_arguments":0,"other":0,"p50_s":0.5,"avg_s":2},)"
                R"("truncated":false})");

  admin::AdminResponse recent = admin::usage_endpoint("by=tool&since=3h", path, kNow);
  ASSERT_EQ(recent.status, 200);
  EXPECT_NE(recent.body.find(R"("total":{"calls":2,)"), std::string::npos) << recent.body;
  EXPECT_EQ(recent.body.find("memory.query"), std::string::npos) << recent.body;
}

TEST_F(UsageSurfaceTest, SinceCountsBackFromNow) {
  // 24h back from the real clock: the rows are from 2023, so nothing is that recent.
  auto r = get("/usage?since=24h&by=agent", path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("rows":[])"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("total":{"requests":0,)"), std::string::npos) << r.body;

  admin::AdminResponse direct = admin::usage_endpoint("by=agent&since=3h", path, kNow);
  ASSERT_EQ(direct.status, 200);
  EXPECT_NE(direct.body.find(R"("since":"2023-11-14T19:13:20Z")"), std::string::npos)
      << direct.body;
  EXPECT_NE(direct.body.find(R"("total":{"requests":2,)"), std::string::npos) << direct.body;
}

TEST_F(UsageSurfaceTest, BadByOrSinceIs400WithTheAcceptedValues) {
  auto bad_by = get("/usage?by=team", path);
  EXPECT_EQ(bad_by.status, 400);
  EXPECT_NE(bad_by.body.find("use agent, model, provider or tool"), std::string::npos)
      << bad_by.body;
  EXPECT_NE(bad_by.body.find("invalid_usage_query"), std::string::npos);
  auto bad_since = get("/usage?since=yesterday", path);
  EXPECT_EQ(bad_since.status, 400);
  EXPECT_NE(bad_since.body.find("24h"), std::string::npos) << bad_since.body;
  EXPECT_EQ(get("/usage?since=24", path).status, 400);  // durations need a unit
}

TEST_F(UsageSurfaceTest, LedgerOffIs404AndPostIs405) {
  auto off = get("/usage", "");
  EXPECT_EQ(off.status, 404);
  EXPECT_NE(off.body.find("ledger_disabled"), std::string::npos) << off.body;
  EXPECT_NE(off.body.find("state.ledger"), std::string::npos) << off.body;

  admin::AdminHooks hooks;
  auto config = load("listen: 127.0.0.1:8080\nproviders: {p: {type: mock}}\n");
  hooks.current_config = [config] { return admin::ConfigView{config, 1}; };
  admin::AdminRouter router(std::move(hooks), metrics);
  EXPECT_EQ(router.handle("GET", "/usage", {}).status, 404);  // no hook wired: off
  EXPECT_EQ(router.handle("POST", "/usage", {}).status, 405);
}

TEST_F(UsageSurfaceTest, UnreadableLedgerIs503) {
  auto r = get("/usage", dir.file("gone.db"));
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("no such file"), std::string::npos) << r.body;
}

TEST_F(UsageSurfaceTest, TableHasAlignedColumnsAndATotal) {
  std::string error;
  auto reader = ledger::LedgerReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  auto report = reader->usage_report(ledger::UsageBy::Agent, 0, &error);
  ASSERT_TRUE(report) << error;
  EXPECT_EQ(cli::render_usage_table(*report, ""),
            "usage by agent, whole ledger\n"
            "AGENT  REQUESTS  TOOL_CALLS  INPUT  OUTPUT  CACHED    COST_USD  ESTIMATED\n"
            "bob           2           2   1050     105       0  1.62500000      50.0%\n"
            "alice         1           1    100      10       0  0.25000000       0.0%\n"
            "TOTAL         3           3   1150     115       0  1.87500000      33.3%\n");

  // By model, no tool calls column: a tool call has no model.
  report = reader->usage_report(ledger::UsageBy::Model, kNow - 3 * kHour, &error);
  ASSERT_TRUE(report) << error;
  EXPECT_EQ(cli::render_usage_table(*report, "3h"),
            "usage by model, since 2023-11-14T19:13:20Z (3h)\n"
            "MODEL  REQUESTS  INPUT  OUTPUT  CACHED    COST_USD  ESTIMATED\n"
            "fast          2    150      15       0  0.37500000      50.0%\n"
            "TOTAL         2    150      15       0  0.37500000      50.0%\n");
}

TEST_F(UsageSurfaceTest, ToolTableHasOutcomesAndDurations) {
  std::string error;
  auto reader = ledger::LedgerReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  auto report = reader->tool_usage_report(0, &error);
  ASSERT_TRUE(report) << error;
  EXPECT_EQ(
      cli::render_tool_usage_table(*report, ""),
      "usage by tool, whole ledger\n"
      "TOOL           CALLS  OK  ERROR  TIMEOUT  UNAVAILABLE  INVALID_ARGS  OTHER  P50_S  AVG_S\n"
      "projects.list      2   1      0        1            0             0      0  0.500  2.750\n"
      "memory.query       1   1      0        0            0             0      0  0.500  0.500\n"
      "TOTAL              3   2      0        1            0             0      0  0.500  2.000\n");
}

TEST(UsageSince, ConfigDurationsBackFromNow) {
  EXPECT_EQ(ledger::since_unix_ms("24h", kNow), kNow - 24 * kHour);
  EXPECT_EQ(ledger::since_unix_ms("7d", kNow), kNow - 7 * 24 * kHour);
  EXPECT_EQ(ledger::since_unix_ms("30m", kNow), kNow - 30 * 60'000);
  EXPECT_EQ(ledger::since_unix_ms("100000d", kNow), 0);  // before 1970: everything
  EXPECT_FALSE(ledger::since_unix_ms("24", kNow));
  EXPECT_FALSE(ledger::since_unix_ms("", kNow));
  EXPECT_FALSE(ledger::since_unix_ms("-1h", kNow));
  EXPECT_EQ(ledger::format_utc(0), "1970-01-01T00:00:00Z");
}

std::shared_ptr<const config::Config> with_state(const std::string& ledger,
                                                 const std::string& flush_interval) {
  return load("listen: 127.0.0.1:8080\nproviders: {p: {type: mock}}\nstate: {ledger: " + ledger +
              ", flush_interval: " + flush_interval + "}\n");
}

TEST(LedgerReload, LedgerAndFlushIntervalWaitForARestart) {
  auto running = with_state("/tmp/a.db", "50ms");
  auto changes = server::restart_only_changes(*running, *with_state("/tmp/b.db", "50ms"));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "state.ledger: \"/tmp/a.db\" -> \"/tmp/b.db\" (applies on restart)");
  changes = server::restart_only_changes(*running, *with_state("/tmp/a.db", "1s"));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "state.flush_interval: 50ms -> 1000ms (applies on restart)");
  EXPECT_TRUE(server::restart_only_changes(*running, *with_state("/tmp/a.db", "50ms")).empty());
}

}  // namespace
}  // namespace sluice
