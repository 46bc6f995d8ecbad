// Tool calls in the ledger (DESIGN §5: one row per call): a tool row round-trips through the
// writer; the report by tool counts calls per outcome with the p50 and average duration; and
// tool rows change nothing in what the model reports and the start-up spend say.
#include <gtest/gtest.h>

#include "core/ledger/ledger_reader.h"
#include "core/ledger/ledger_writer.h"
#include "core/metrics/metrics.h"
#include "tests/unit/ledger_test_util.h"

namespace sluice::ledger {
namespace {

using test::make_row;
using test::RawConnection;

constexpr int64_t kT0 = 1'700'000'000'000;

LedgerRow tool_row(std::string agent, std::string tool, std::string error_code, double seconds,
                   int64_t time_ms = kT0) {
  LedgerRow r;
  static int counter = 0;
  r.request_id = "call-" + std::to_string(++counter);
  r.time_unix_ms = time_ms;
  r.agent = std::move(agent);
  r.tool = std::move(tool);
  r.status = error_code.empty() ? 200 : 502;
  r.error_code = std::move(error_code);
  r.latency_s = seconds;
  return r;
}

class LedgerToolReportTest : public ::testing::Test {
 protected:
  void write(std::vector<LedgerRow> rows) {
    LedgerWriter::Options options;
    options.path = path;
    options.metrics = &metrics;
    std::string error;
    auto writer = LedgerWriter::open(std::move(options), &error);
    ASSERT_TRUE(writer) << error;
    const size_t n = rows.size();
    for (LedgerRow& row : rows) writer->enqueue(std::move(row));
    writer->stop();
    ASSERT_EQ(writer->stats().written, n);
  }

  std::unique_ptr<LedgerReader> reader() {
    std::string error;
    auto r = LedgerReader::open(path, &error);
    EXPECT_TRUE(r) << error;
    return r;
  }

  ToolUsageReport tools(int64_t since = 0, size_t max_groups = 1000) {
    std::string error;
    auto r = reader()->tool_usage_report(since, &error, {.max_groups = max_groups, .max_time = {}});
    EXPECT_TRUE(r) << error;
    return r ? *r : ToolUsageReport{};
  }

  UsageReport usage(UsageBy by) {
    std::string error;
    auto r = reader()->usage_report(by, 0, &error);
    EXPECT_TRUE(r) << error;
    return r ? *r : UsageReport{};
  }

  // projects.list: 5 calls (2 ok, an error, a timeout, one refused by its schema);
  // memory.query: 2 ok; github.create_issue: unavailable, and a call whose client went away.
  std::vector<LedgerRow> some_calls() {
    std::vector<LedgerRow> rows;
    rows.push_back(tool_row("alice", "projects.list", "", 0.010));
    rows.push_back(tool_row("alice", "projects.list", "", 0.030));
    rows.push_back(tool_row("bob", "projects.list", "tool_error", 0.020));
    rows.push_back(tool_row("bob", "projects.list", "tool_timeout", 5.0));
    rows.push_back(tool_row("bob", "projects.list", "invalid_arguments", 0.0));
    rows.push_back(tool_row("alice", "memory.query", "", 0.2, kT0 + 1000));
    rows.push_back(tool_row("alice", "memory.query", "", 0.4, kT0 + 1000));
    rows.push_back(tool_row("carol", "github.create_issue", "tool_unavailable", 0.001));
    rows.push_back(tool_row("carol", "github.create_issue", "client_closed", 1.0));
    return rows;
  }

  test::LedgerTempDir dir;
  std::string path = dir.file("ledger.db");
  metrics::Metrics metrics;
};

TEST_F(LedgerToolReportTest, AToolRowRoundTripsWithItsNameOutcomeAndDuration) {
  LedgerRow call = tool_row("alice", "projects.list", "tool_timeout", 5.002);
  call.error = "tool projects.list timed out after 5s";
  write({std::move(call), make_row("alice", "fast", "openai", 0.01, 10, 1)});
  RawConnection db(path);
  EXPECT_EQ(db.text("SELECT agent || '|' || tool || '|' || model || '|' || provider || '|' ||"
                    " status || '|' || error_code || '|' || error || '|' || input_tokens ||"
                    " '|' || cost_usd || '|' || attempts FROM requests WHERE tool != ''"),
            "alice|projects.list|||502|tool_timeout|tool projects.list timed out after 5s|0|0.0|0");
  EXPECT_EQ(db.text("SELECT latency_s FROM requests WHERE tool != ''"), "5.002");
  EXPECT_EQ(db.text("SELECT ttft_s FROM requests WHERE tool != ''"), "<null>");
  EXPECT_EQ(db.text("SELECT '[' || tool || ']' FROM requests WHERE model = 'fast'"), "[]");
}

TEST_F(LedgerToolReportTest, CallsPerToolByOutcomeWithP50AndAverage) {
  write(some_calls());
  ToolUsageReport r = tools();
  ASSERT_EQ(r.rows.size(), 3u);
  // Most called first, then by name.
  const ToolUsageRow& projects = r.rows[0];
  EXPECT_EQ(projects.key, "projects.list");
  EXPECT_EQ(projects.calls, 5u);
  EXPECT_EQ(projects.ok, 2u);
  EXPECT_EQ(projects.error, 1u);
  EXPECT_EQ(projects.timeout, 1u);
  EXPECT_EQ(projects.unavailable, 0u);
  EXPECT_EQ(projects.invalid_arguments, 1u);
  EXPECT_EQ(projects.other(), 0u);
  EXPECT_DOUBLE_EQ(projects.median_duration_s, 0.020);  // 0, .01, [.02], .03, 5
  EXPECT_NEAR(projects.average_duration_s(), 5.06 / 5, 1e-12);

  EXPECT_EQ(r.rows[1].key, "github.create_issue");
  EXPECT_EQ(r.rows[1].unavailable, 1u);
  EXPECT_EQ(r.rows[1].other(), 1u);                      // client_closed: none of the tool outcomes
  EXPECT_DOUBLE_EQ(r.rows[1].median_duration_s, 0.001);  // the lower middle of two
  EXPECT_EQ(r.rows[2].key, "memory.query");
  EXPECT_EQ(r.rows[2].ok, 2u);
  EXPECT_DOUBLE_EQ(r.rows[2].median_duration_s, 0.2);

  EXPECT_EQ(r.total.calls, 9u);
  EXPECT_EQ(r.total.ok, 4u);
  EXPECT_EQ(r.total.other(), 1u);
  EXPECT_DOUBLE_EQ(r.total.median_duration_s, 0.030);  // the 5th of 9
  EXPECT_FALSE(r.truncated);
}

TEST_F(LedgerToolReportTest, SinceAndMaxGroups) {
  write(some_calls());
  ToolUsageReport later = tools(kT0 + 1);
  ASSERT_EQ(later.rows.size(), 1u);
  EXPECT_EQ(later.rows[0].key, "memory.query");
  EXPECT_EQ(later.total.calls, 2u);
  EXPECT_DOUBLE_EQ(later.total.median_duration_s, 0.2);

  ToolUsageReport cut = tools(0, 1);
  ASSERT_EQ(cut.rows.size(), 1u);
  EXPECT_TRUE(cut.truncated);
  EXPECT_EQ(cut.total.calls, 9u);

  ToolUsageReport none = tools(kT0 + 1'000'000);
  EXPECT_TRUE(none.rows.empty());
  EXPECT_EQ(none.total.calls, 0u);
  EXPECT_EQ(none.total.median_duration_s, 0);
  EXPECT_EQ(none.total.average_duration_s(), 0);
}

TEST_F(LedgerToolReportTest, ToolRowsChangeNothingInTheModelReportsOrSpend) {
  std::vector<LedgerRow> model_rows;
  model_rows.push_back(make_row("alice", "fast", "openai", 0.25, 100, 10, kT0));
  model_rows.push_back(make_row("bob", "smart", "anthropic", 1.5, 1000, 100, kT0));
  LedgerRow refused = make_row("carol", "fast", "", 0, 0, 0, kT0);
  refused.status = 429;
  model_rows.push_back(std::move(refused));
  write(model_rows);
  const UsageReport model_before = usage(UsageBy::Model);
  const UsageReport provider_before = usage(UsageBy::Provider);
  const UsageReport agent_before = usage(UsageBy::Agent);

  write(some_calls());
  for (UsageBy by : {UsageBy::Model, UsageBy::Provider}) {
    const UsageReport& before = by == UsageBy::Model ? model_before : provider_before;
    const UsageReport after = usage(by);
    ASSERT_EQ(after.rows.size(), before.rows.size()) << to_string(by);
    for (size_t i = 0; i < after.rows.size(); ++i) {
      EXPECT_EQ(after.rows[i].key, before.rows[i].key);
      EXPECT_EQ(after.rows[i].requests, before.rows[i].requests);
      EXPECT_EQ(after.rows[i].tool_calls, 0u);
    }
    EXPECT_EQ(after.total.requests, 3u) << to_string(by);
    EXPECT_EQ(after.total.cost_usd, before.total.cost_usd);
  }

  // By agent: the same requests and spend, the tool calls beside them; carol is there for
  // her refusal and her two calls.
  const UsageReport agents = usage(UsageBy::Agent);
  ASSERT_EQ(agents.rows.size(), 3u);
  EXPECT_EQ(agents.rows[0].key, "bob");
  EXPECT_EQ(agents.rows[0].requests, 1u);
  EXPECT_EQ(agents.rows[0].tool_calls, 3u);
  EXPECT_EQ(agents.rows[1].key, "alice");
  EXPECT_EQ(agents.rows[1].requests, 1u);
  EXPECT_EQ(agents.rows[1].tool_calls, 4u);
  EXPECT_EQ(agents.rows[2].key, "carol");
  EXPECT_EQ(agents.rows[2].requests, 1u);
  EXPECT_EQ(agents.rows[2].tool_calls, 2u);
  EXPECT_EQ(agents.total.requests, agent_before.total.requests);
  EXPECT_EQ(agents.total.tool_calls, 9u);
  EXPECT_EQ(agents.total.input_tokens, agent_before.total.input_tokens);
  EXPECT_EQ(agents.total.cost_usd, agent_before.total.cost_usd);
  EXPECT_EQ(agents.total.estimated_share(), agent_before.total.estimated_share());

  std::string error;
  auto spent = reader()->spend_by_agent_periods(kT0, kT0, &error);
  ASSERT_TRUE(spent) << error;
  EXPECT_NEAR(spent->at("alice").day_usd, 0.25, 1e-12);
  EXPECT_NEAR(spent->at("bob").month_usd, 1.5, 1e-12);
  EXPECT_EQ(spent->at("carol").total_usd, 0);
}

TEST_F(LedgerToolReportTest, AnAgentWithOnlyToolCallsIsListedByAgent) {
  write({tool_row("dave", "memory.query", "", 0.1)});
  const UsageReport agents = usage(UsageBy::Agent);
  ASSERT_EQ(agents.rows.size(), 1u);
  EXPECT_EQ(agents.rows[0].key, "dave");
  EXPECT_EQ(agents.rows[0].requests, 0u);
  EXPECT_EQ(agents.rows[0].tool_calls, 1u);
  EXPECT_EQ(agents.rows[0].estimated_share(), 0);
  EXPECT_TRUE(usage(UsageBy::Model).rows.empty());
}

}  // namespace
}  // namespace sluice::ledger
