// LedgerReader: usage reports by agent, model and provider (by tool: ledger_tool_report_test),
// start-up spend per agent, and the errors an operator sees for a missing file or one that is
// not a ledger.
#include "core/ledger/ledger_reader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/ledger/ledger_writer.h"
#include "core/metrics/metrics.h"
#include "tests/unit/ledger_test_util.h"

namespace sluice::ledger {
namespace {

using test::make_row;

constexpr int64_t kDay1 = 1'700'000'000'000;  // some time on day 1
constexpr int64_t kDay2 = kDay1 + 86'400'000;

class LedgerReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    LedgerWriter::Options options;
    options.path = path;
    options.metrics = &metrics;
    auto writer = LedgerWriter::open(options, &error);
    ASSERT_TRUE(writer) << error;
    // day 1
    writer->enqueue(make_row("alice", "fast", "openai", 0.010, 100, 10, kDay1));
    writer->enqueue(make_row("alice", "smart", "anthropic", 0.200, 1000, 100, kDay1 + 1));
    writer->enqueue(make_row("bob", "fast", "openai", 0.001, 10, 1, kDay1 + 2, true));
    // day 2
    writer->enqueue(make_row("bob", "smart", "anthropic", 0.500, 2000, 200, kDay2));
    writer->enqueue(make_row("bob", "fast", "openai", 0.002, 20, 2, kDay2 + 1, true));
    LedgerRow refused = make_row("carol", "fast", "", 0, 0, 0, kDay2 + 2);
    refused.status = 429;
    writer->enqueue(std::move(refused));
    writer->stop();
    ASSERT_EQ(writer->stats().written, 6u);
    reader = LedgerReader::open(path, &error);
    ASSERT_TRUE(reader) << error;
  }

  UsageReport report(UsageBy by, int64_t since = 0) {
    std::string error;
    auto r = reader->usage_report(by, since, &error);
    EXPECT_TRUE(r) << error;
    return r ? *r : UsageReport{};
  }

  test::LedgerTempDir dir;
  std::string path = dir.file("ledger.db");
  metrics::Metrics metrics;
  std::unique_ptr<LedgerReader> reader;
};

TEST_F(LedgerReportTest, ByAgentSortedByCostWithTokensAndEstimatedShare) {
  UsageReport r = report(UsageBy::Agent);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].key, "bob");
  EXPECT_EQ(r.rows[0].requests, 3u);
  EXPECT_EQ(r.rows[0].input_tokens, 2030u);
  EXPECT_EQ(r.rows[0].output_tokens, 203u);
  EXPECT_NEAR(r.rows[0].cost_usd, 0.503, 1e-12);
  EXPECT_EQ(r.rows[0].estimated_requests, 2u);
  EXPECT_NEAR(r.rows[0].estimated_share(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(r.rows[1].key, "alice");
  EXPECT_NEAR(r.rows[1].cost_usd, 0.210, 1e-12);
  EXPECT_EQ(r.rows[1].estimated_share(), 0);
  EXPECT_EQ(r.rows[2].key, "carol");
  EXPECT_EQ(r.rows[2].requests, 1u);
  EXPECT_EQ(r.rows[2].cost_usd, 0);
  EXPECT_EQ(r.total.requests, 6u);
  EXPECT_EQ(r.total.input_tokens, 3130u);
  EXPECT_NEAR(r.total.cost_usd, 0.713, 1e-12);
  EXPECT_EQ(r.total.estimated_requests, 2u);
  EXPECT_FALSE(r.truncated);
}

TEST_F(LedgerReportTest, ByModelAndByProvider) {
  UsageReport by_model = report(UsageBy::Model);
  ASSERT_EQ(by_model.rows.size(), 2u);
  EXPECT_EQ(by_model.rows[0].key, "smart");
  EXPECT_NEAR(by_model.rows[0].cost_usd, 0.700, 1e-12);
  EXPECT_EQ(by_model.rows[1].key, "fast");
  EXPECT_EQ(by_model.rows[1].requests, 4u);

  UsageReport by_provider = report(UsageBy::Provider);
  ASSERT_EQ(by_provider.rows.size(), 3u);
  EXPECT_EQ(by_provider.rows[0].key, "anthropic");
  EXPECT_EQ(by_provider.rows[1].key, "openai");
  EXPECT_EQ(by_provider.rows[1].requests, 3u);
  EXPECT_EQ(by_provider.rows[2].key, "");  // the local refusal reached no provider
}

TEST_F(LedgerReportTest, SinceKeepsOnlyLaterRows) {
  UsageReport r = report(UsageBy::Agent, kDay2);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].key, "bob");
  EXPECT_EQ(r.rows[0].requests, 2u);
  EXPECT_EQ(r.rows[1].key, "carol");
  EXPECT_EQ(r.total.requests, 3u);
  EXPECT_EQ(report(UsageBy::Agent, kDay2 + 1'000'000).total.requests, 0u);
}

TEST_F(LedgerReportTest, MaxGroupsCutsTheRowsButNotTheTotal) {
  std::string error;
  auto r = reader->usage_report(UsageBy::Agent, 0, &error, {.max_groups = 1, .max_time = {}});
  ASSERT_TRUE(r) << error;
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].key, "bob");
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->total.requests, 6u);
}

TEST_F(LedgerReportTest, SpendByAgentSinceAPeriodStart) {
  std::string error;
  auto all = reader->spend_by_agent(0, &error);
  ASSERT_TRUE(all) << error;
  EXPECT_EQ(all->size(), 3u);
  EXPECT_NEAR(all->at("alice"), 0.210, 1e-12);
  EXPECT_NEAR(all->at("bob"), 0.503, 1e-12);
  EXPECT_EQ(all->at("carol"), 0);

  auto day2 = spend_by_agent(path, kDay2, &error);
  ASSERT_TRUE(day2) << error;
  EXPECT_EQ(day2->count("alice"), 0u);
  EXPECT_NEAR(day2->at("bob"), 0.502, 1e-12);

  auto bob_day1 = reader->spend_of_agent("bob", kDay1, &error);
  ASSERT_TRUE(bob_day1) << error;
  EXPECT_NEAR(*bob_day1, 0.503, 1e-12);
  auto nobody = reader->spend_of_agent("nobody", 0, &error);
  ASSERT_TRUE(nobody) << error;
  EXPECT_EQ(*nobody, 0);
}

TEST_F(LedgerReportTest, ReadsWhileAWriterHasTheFileOpen) {
  std::string error;
  LedgerWriter::Options options;
  options.path = path;
  options.flush_interval = std::chrono::milliseconds(10);
  options.metrics = &metrics;
  auto writer = LedgerWriter::open(options, &error);
  ASSERT_TRUE(writer) << error;
  writer->enqueue(make_row("dave", "fast", "openai", 1.0, 1, 1, kDay2));
  ASSERT_TRUE(test::eventually([&] { return writer->stats().written == 1; }));
  auto fresh = LedgerReader::open(path, &error);
  ASSERT_TRUE(fresh) << error;
  auto spent = fresh->spend_of_agent("dave", 0, &error);
  ASSERT_TRUE(spent) << error;
  EXPECT_EQ(*spent, 1.0);
}

TEST_F(LedgerReportTest, MissingFileOrNotALedgerIsAClearError) {
  std::string error;
  EXPECT_FALSE(LedgerReader::open(dir.file("missing.db"), &error));
  EXPECT_NE(error.find("no such file"), std::string::npos) << error;
  EXPECT_FALSE(ledger_exists(dir.file("missing.db")));
  EXPECT_TRUE(ledger_exists(path));

  const std::string text_file = dir.file("notes.txt");
  std::ofstream(text_file) << "not a database";
  EXPECT_FALSE(LedgerReader::open(text_file, &error));
  EXPECT_NE(error.find("not a sluice ledger"), std::string::npos) << error;

  const std::string other_db = dir.file("other.db");
  {
    test::RawConnection other(other_db);
    other.exec("CREATE TABLE t (x)");
  }
  EXPECT_FALSE(LedgerReader::open(other_db, &error));
  EXPECT_NE(error.find("another application"), std::string::npos) << error;
}

TEST(UsageByTest, ParsesTheFourKeysOnly) {
  EXPECT_EQ(parse_usage_by("agent"), UsageBy::Agent);
  EXPECT_EQ(parse_usage_by("model"), UsageBy::Model);
  EXPECT_EQ(parse_usage_by("provider"), UsageBy::Provider);
  EXPECT_EQ(parse_usage_by("tool"), UsageBy::Tool);
  EXPECT_FALSE(parse_usage_by("tools"));
  EXPECT_FALSE(parse_usage_by("Agent"));
  EXPECT_FALSE(parse_usage_by("agent; DROP TABLE requests"));
  EXPECT_STREQ(to_string(UsageBy::Provider), "provider");
  EXPECT_STREQ(to_string(UsageBy::Tool), "tool");
}

}  // namespace
}  // namespace sluice::ledger
