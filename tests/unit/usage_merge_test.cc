// `sluice usage` over several ledgers (a fleet's sidecars each write one): per key the sums
// add up, the rows sort and cut as one ledger's would, the tool p50 is the median of every
// call (not of the ledgers' medians), the title and the JSON say how many ledgers were read,
// and one file named twice is caught however it is named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/admin/usage_endpoint.h"
#include "core/cli/usage_command.h"
#include "core/cli/usage_ledgers.h"
#include "core/ledger/ledger_reader.h"
#include "core/ledger/ledger_writer.h"
#include "core/ledger/usage_merge.h"
#include "core/metrics/metrics.h"
#include "tests/unit/ledger_test_util.h"

namespace sluice {
namespace {

using ledger::test::make_row;

constexpr int64_t kNow = 1'700'000'000'000;

ledger::UsageRow usage_row(std::string key, uint64_t requests, uint64_t tool_calls, uint64_t input,
                           double cost, uint64_t estimated = 0) {
  ledger::UsageRow row;
  row.key = std::move(key);
  row.requests = requests;
  row.tool_calls = tool_calls;
  row.input_tokens = input;
  row.output_tokens = input / 10;
  row.cost_usd = cost;
  row.estimated_requests = estimated;
  return row;
}

// A report as one ledger's reader returns it: its rows and their total.
ledger::UsageReport usage_report(std::vector<ledger::UsageRow> rows) {
  ledger::UsageReport report;
  report.total.key = "total";
  for (const ledger::UsageRow& row : rows) {
    report.total.requests += row.requests;
    report.total.tool_calls += row.tool_calls;
    report.total.input_tokens += row.input_tokens;
    report.total.output_tokens += row.output_tokens;
    report.total.cost_usd += row.cost_usd;
    report.total.estimated_requests += row.estimated_requests;
  }
  report.rows = std::move(rows);
  return report;
}

// One ledger's tool report for `tool`: calls ok, durations as given (their own p50 set as the
// ledger's query would, to show the merge does not use it).
ledger::ToolUsageReport tool_report(const std::string& tool, const std::vector<double>& seconds,
                                    ledger::ToolDurations* durations) {
  ledger::ToolUsageReport report;
  ledger::ToolUsageRow row;
  row.key = tool;
  row.calls = seconds.size();
  row.ok = seconds.size();
  for (double s : seconds) row.total_duration_s += s;
  std::vector<double> sorted = seconds;
  row.median_duration_s = ledger::lower_median(sorted);
  report.rows.push_back(row);
  report.total = row;
  report.total.key = "total";
  (*durations)[tool] = seconds;
  return report;
}

TEST(UsageMerge, SumsEachKeyAcrossLedgers) {
  auto a =
      usage_report({usage_row("bob", 2, 1, 1000, 1.5, 1), usage_row("alice", 1, 0, 100, 0.25)});
  auto b =
      usage_report({usage_row("alice", 3, 2, 300, 0.75, 3), usage_row("carol", 1, 0, 10, 0.1)});
  auto merged = ledger::merge_usage_reports({a, b}, 1000);

  ASSERT_EQ(merged.rows.size(), 3u);
  EXPECT_EQ(merged.rows[0].key, "bob");    // 1.5 USD
  EXPECT_EQ(merged.rows[1].key, "alice");  // 0.25 + 0.75
  EXPECT_EQ(merged.rows[1].requests, 4u);
  EXPECT_EQ(merged.rows[1].tool_calls, 2u);
  EXPECT_EQ(merged.rows[1].input_tokens, 400u);
  EXPECT_EQ(merged.rows[1].output_tokens, 40u);
  EXPECT_DOUBLE_EQ(merged.rows[1].cost_usd, 1.0);
  EXPECT_DOUBLE_EQ(merged.rows[1].estimated_share(), 0.75);  // 3 of 4, not an average of shares
  EXPECT_EQ(merged.rows[2].key, "carol");
  EXPECT_EQ(merged.total.requests, 7u);
  EXPECT_EQ(merged.total.tool_calls, 3u);
  EXPECT_EQ(merged.total.input_tokens, 1410u);
  EXPECT_DOUBLE_EQ(merged.total.cost_usd, 2.6);
  EXPECT_EQ(merged.total.estimated_requests, 4u);
  EXPECT_FALSE(merged.truncated);
}

TEST(UsageMerge, SortsLikeOneLedgerAndCutsButTheTotalCoversAll) {
  // Equal cost: more rows (requests and tool calls) first, then the key in byte order.
  auto a = usage_report({usage_row("b", 1, 0, 1, 0), usage_row("a", 1, 0, 1, 0)});
  auto b = usage_report({usage_row("c", 1, 1, 1, 0), usage_row("a", 0, 0, 1, 0)});
  auto merged = ledger::merge_usage_reports({a, b}, 2);
  ASSERT_EQ(merged.rows.size(), 2u);
  EXPECT_EQ(merged.rows[0].key, "c");  // 2 rows
  EXPECT_EQ(merged.rows[1].key, "a");  // 1 row, before "b"
  EXPECT_TRUE(merged.truncated);
  EXPECT_EQ(merged.total.requests, 3u);
  EXPECT_EQ(merged.total.input_tokens, 4u);
}

TEST(UsageMerge, ToolP50IsTheMedianOfEveryCallNotOfEachLedgers) {
  std::vector<ledger::ToolDurations> durations(2);
  // Ledger a's p50 is 2 s, b's 10 s; all five calls sorted: 1 2 3 10 20 → 3 s.
  auto a = tool_report("projects.list", {3, 1, 2}, &durations[0]);
  auto b = tool_report("projects.list", {20, 10}, &durations[1]);
  ledger::ToolDurations more;
  auto c = tool_report("memory.query", {0.5}, &more);
  durations.push_back(more);
  auto merged = ledger::merge_tool_usage_reports({a, b, c}, durations, 1000);

  ASSERT_EQ(merged.rows.size(), 2u);
  const ledger::ToolUsageRow& list = merged.rows[0];
  EXPECT_EQ(list.key, "projects.list");
  EXPECT_EQ(list.calls, 5u);
  EXPECT_EQ(list.ok, 5u);
  EXPECT_DOUBLE_EQ(list.median_duration_s, 3.0);
  EXPECT_DOUBLE_EQ(list.average_duration_s(), 36.0 / 5);
  EXPECT_EQ(merged.rows[1].key, "memory.query");
  EXPECT_DOUBLE_EQ(merged.rows[1].median_duration_s, 0.5);
  // The total's p50 over all six calls: 0.5 1 2 3 10 20 → the lower middle, 2 s.
  EXPECT_EQ(merged.total.calls, 6u);
  EXPECT_DOUBLE_EQ(merged.total.median_duration_s, 2.0);
  EXPECT_DOUBLE_EQ(merged.total.average_duration_s(), 36.5 / 6);
}

TEST(UsageMerge, LowerMedianIsTheNearestRankOne) {
  std::vector<double> none;
  EXPECT_EQ(ledger::lower_median(none), 0);
  std::vector<double> even = {4, 1, 3, 2};
  EXPECT_EQ(ledger::lower_median(even), 2);
  std::vector<double> odd = {5, 1, 4};
  EXPECT_EQ(ledger::lower_median(odd), 4);
}

TEST(UsageMerge, TitleSaysHowManyLedgersOnlyWhenSeveral) {
  auto report = usage_report({usage_row("alice", 1, 0, 100, 0.25)});
  EXPECT_EQ(cli::render_usage_table(report, "").substr(0, 29), "usage by agent, whole ledger\n");
  const std::string three = cli::render_usage_table(report, "", 3);
  EXPECT_EQ(three.substr(0, three.find('\n')), "usage by agent, all time, from 3 ledgers");
  report.since_unix_ms = kNow;
  const std::string two = cli::render_usage_table(report, "24h", 2);
  EXPECT_EQ(two.substr(0, two.find('\n')),
            "usage by agent, since 2023-11-14T22:13:20Z (24h), from 2 ledgers");

  ledger::ToolDurations durations;
  auto tools = tool_report("projects.list", {1}, &durations);
  const std::string by_tool = cli::render_tool_usage_table(tools, "", 2);
  EXPECT_EQ(by_tool.substr(0, by_tool.find('\n')), "usage by tool, all time, from 2 ledgers");
}

TEST(UsageMerge, JsonListsEveryLedgerAndKeepsTheOneLedgerDocument) {
  auto report = usage_report({usage_row("alice", 1, 0, 100, 0.25)});
  const std::string one = admin::usage_report_json(report, "a.db");
  EXPECT_EQ(admin::usage_report_json(report, std::vector<std::string>{"a.db"}), one);
  EXPECT_EQ(one.find("\"ledgers\""), std::string::npos) << one;

  const std::string two =
      admin::usage_report_json(report, std::vector<std::string>{"a.db", "b.db"});
  EXPECT_NE(two.find(R"("ledger":"a.db","ledgers":["a.db","b.db"],"rows":[)"), std::string::npos)
      << two;
  ledger::ToolDurations durations;
  auto tools = tool_report("projects.list", {1}, &durations);
  const std::string by_tool =
      admin::tool_usage_report_json(tools, std::vector<std::string>{"a.db", "b.db", "c.db"});
  EXPECT_NE(by_tool.find(R"("ledgers":["a.db","b.db","c.db"])"), std::string::npos) << by_tool;
}

class UsageLedgersTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, std::vector<ledger::LedgerRow> rows) {
    ledger::LedgerWriter::Options options;
    options.path = dir.file(name);
    options.metrics = &metrics;
    std::string error;
    auto writer = ledger::LedgerWriter::open(options, &error);
    EXPECT_TRUE(writer) << error;
    if (!writer) return "";
    for (ledger::LedgerRow& row : rows) writer->enqueue(std::move(row));
    writer->stop();
    return options.path;
  }

  ledger::test::LedgerTempDir dir;
  metrics::Metrics metrics;
};

TEST_F(UsageLedgersTest, TwoLedgersReadAsOneTable) {
  const std::string a =
      write("a.db", {make_row("alice", "fast", "openai", 0.25, 100, 10, kNow),
                     make_row("bob", "smart", "anthropic", 1.5, 1000, 100, kNow)});
  const std::string b =
      write("b.db", {make_row("alice", "fast", "openai", 0.5, 200, 20, kNow),
                     make_row("alice", "fast", "openai", 0.25, 50, 5, kNow, true)});
  std::string error;
  auto report = cli::usage_over({a, b}, ledger::UsageBy::Agent, 0, &error);
  ASSERT_TRUE(report) << error;
  EXPECT_EQ(cli::render_usage_table(*report, "", 2),
            "usage by agent, all time, from 2 ledgers\n"
            "AGENT  REQUESTS  TOOL_CALLS  INPUT  OUTPUT  CACHED    COST_USD  ESTIMATED\n"
            "bob           1           0   1000     100       0  1.50000000       0.0%\n"
            "alice         3           0    350      35       0  1.00000000      33.3%\n"
            "TOTAL         4           0   1350     135       0  2.50000000      25.0%\n");

  // One unreadable ledger fails the whole report, naming it.
  auto missing = cli::usage_over({a, dir.file("gone.db")}, ledger::UsageBy::Agent, 0, &error);
  EXPECT_FALSE(missing);
  EXPECT_NE(error.find(dir.file("gone.db") + ": no such file"), std::string::npos) << error;
}

TEST_F(UsageLedgersTest, ASnapshotKeepsTheReportAndTheDurationsInStep) {
  const std::string a = write("a.db", {make_row("alice", "fast", "openai", 0.25, 100, 10, kNow)});
  std::string error;
  auto reader = ledger::LedgerReader::open(a, &error);
  ASSERT_TRUE(reader) << error;
  auto calls = [&] {
    auto report = reader->usage_report(ledger::UsageBy::Agent, 0, &error);
    return report ? report->total.requests : 0;
  };
  {
    const ledger::LedgerReader::Snapshot snapshot(*reader);
    EXPECT_EQ(calls(), 1u);
    // A sidecar still writing the file: not seen until the snapshot ends.
    write("a.db", {make_row("bob", "fast", "openai", 0.25, 100, 10, kNow)});
    EXPECT_EQ(calls(), 1u);
  }
  EXPECT_EQ(calls(), 2u);
}

TEST_F(UsageLedgersTest, OneFileNamedTwiceIsCaughtHoweverItIsNamed) {
  const std::string a = write("a.db", {make_row("alice", "fast", "openai", 0.25, 100, 10, kNow)});
  const std::string b = write("b.db", {make_row("alice", "fast", "openai", 0.25, 100, 10, kNow)});
  EXPECT_EQ(cli::ledger_named_twice({a, b}), std::nullopt);

  auto same = cli::ledger_named_twice({a, b, a});
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, "--ledger " + a + " is the same file as --ledger " + a +
                       ": name each ledger once (it would be counted twice)");

  std::filesystem::create_symlink(a, dir.file("link.db"));
  ASSERT_EQ(::link(b.c_str(), dir.file("hard.db").c_str()), 0);
  EXPECT_TRUE(cli::ledger_named_twice({a, dir.file("link.db")}));
  EXPECT_TRUE(cli::ledger_named_twice({dir.file("hard.db"), b}));
  EXPECT_TRUE(cli::ledger_named_twice({a, dir.file("./a.db")}));
  // A file that does not exist is only compared by name; reading it says what is wrong.
  EXPECT_TRUE(cli::ledger_named_twice({dir.file("gone.db"), dir.file("gone.db")}));
  EXPECT_FALSE(cli::ledger_named_twice({dir.file("gone.db"), a}));
}

}  // namespace
}  // namespace sluice
