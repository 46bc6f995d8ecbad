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
  EXPECT_NE(bad_by.body.find("use agent, model or provider"), std::string::npos) << bad_by.body;
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
            "AGENT  REQUESTS  INPUT  OUTPUT  CACHED    COST_USD  ESTIMATED\n"
            "bob           2   1050     105       0  1.62500000      50.0%\n"
            "alice         1    100      10       0  0.25000000       0.0%\n"
            "TOTAL         3   1150     115       0  1.87500000      33.3%\n");
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
