// state.retention against a real SQLite file: rows older than the retention are rolled up into
// daily aggregates and deleted by the writer thread, and every total a report or the start-up
// spend reads is the same before and after; the file shrinks; newer rows stay rows.
#include "core/ledger/ledger_retention.h"

#include <gtest/gtest.h>

#include "core/ledger/ledger_reader.h"
#include "core/ledger/ledger_schema.h"
#include "core/ledger/ledger_writer.h"
#include "core/metrics/metrics.h"
#include "tests/unit/ledger_test_util.h"

namespace sluice::ledger {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::make_row;
using test::RawConnection;

constexpr int64_t kDayMs = 86'400'000;
// "Now" for the writer's retention: noon on a day, so row times spread over whole days.
constexpr int64_t kNow = 1'780'000'000'000 - (1'780'000'000'000 % kDayMs) + kDayMs / 2;
int64_t test_now() {
  return kNow;
}

// Twenty days of traffic: model requests of two agents over two models (some estimated), and
// tool calls with every outcome.
std::vector<LedgerRow> twenty_days() {
  std::vector<LedgerRow> rows;
  const char* outcomes[] = {"", "tool_error", "tool_timeout", "tool_unavailable",
                            "invalid_arguments"};
  for (int day = 0; day < 20; ++day) {
    for (int i = 0; i < 150; ++i) {
      const int64_t t = kNow - day * kDayMs - i * 60'000;
      LedgerRow r = make_row(i % 2 ? "alice" : "bob", i % 3 ? "fast" : "smart", "openai",
                             0.001 * (1 + i % 7), 100 + i, 20 + i % 11, t, i % 5 == 0);
      r.cached_tokens = i % 4;
      rows.push_back(std::move(r));
      if (i % 10 == 0) {
        LedgerRow call;
        call.request_id = "tool-" + std::to_string(day) + "-" + std::to_string(i);
        call.time_unix_ms = t;
        call.agent = "alice";
        call.tool = i % 20 ? "search" : "memory.query";
        call.error_code = outcomes[(i / 10) % 5];
        call.latency_s = 0.01 * (1 + i % 13);
        call.status = call.error_code.empty() ? 200 : 502;
        rows.push_back(std::move(call));
      }
    }
  }
  return rows;
}

struct Snapshot {
  std::vector<UsageRow> by_agent, by_model;
  UsageRow total;
  std::vector<ToolUsageRow> tools;
  ToolUsageRow tool_total;
  std::map<std::string, PeriodSpend> spend;
};

Snapshot read_all(const std::string& path) {
  Snapshot s;
  std::string error;
  auto reader = LedgerReader::open(path, &error);
  EXPECT_TRUE(reader) << error;
  if (!reader) return s;
  auto agents = reader->usage_report(UsageBy::Agent, 0, &error);
  auto models = reader->usage_report(UsageBy::Model, 0, &error);
  auto tools = reader->tool_usage_report(0, &error, LedgerReader::ReportLimits{});
  const int64_t day_start = kNow - kNow % kDayMs;
  auto spend = reader->spend_by_agent_periods(day_start, day_start - 10 * kDayMs, &error);
  EXPECT_TRUE(agents && models && tools && spend) << error;
  if (!agents || !models || !tools || !spend) return s;
  s.by_agent = agents->rows;
  s.by_model = models->rows;
  s.total = agents->total;
  s.tools = tools->rows;
  s.tool_total = tools->total;
  s.spend = *spend;
  return s;
}

void expect_same_sums(const UsageRow& a, const UsageRow& b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.requests, b.requests) << a.key;
  EXPECT_EQ(a.tool_calls, b.tool_calls) << a.key;
  EXPECT_EQ(a.input_tokens, b.input_tokens) << a.key;
  EXPECT_EQ(a.output_tokens, b.output_tokens) << a.key;
  EXPECT_EQ(a.cached_tokens, b.cached_tokens) << a.key;
  EXPECT_NEAR(a.cost_usd, b.cost_usd, 1e-9) << a.key;
  EXPECT_EQ(a.estimated_requests, b.estimated_requests) << a.key;
}

void expect_same_outcomes(const ToolUsageRow& a, const ToolUsageRow& b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.calls, b.calls) << a.key;
  EXPECT_EQ(a.ok, b.ok) << a.key;
  EXPECT_EQ(a.error, b.error) << a.key;
  EXPECT_EQ(a.timeout, b.timeout) << a.key;
  EXPECT_EQ(a.unavailable, b.unavailable) << a.key;
  EXPECT_EQ(a.invalid_arguments, b.invalid_arguments) << a.key;
  EXPECT_NEAR(a.total_duration_s, b.total_duration_s, 1e-9) << a.key;
}

class LedgerRetentionTest : public ::testing::Test {
 protected:
  std::unique_ptr<LedgerWriter> open_writer(std::chrono::milliseconds retention) {
    LedgerWriter::Options options;
    options.path = path;
    options.metrics = &metrics;
    options.flush_interval = 10ms;
    options.retention = retention;
    options.now_ms = &test_now;
    std::string error;
    auto writer = LedgerWriter::open(std::move(options), &error);
    EXPECT_TRUE(writer) << error;
    return writer;
  }

  test::LedgerTempDir dir;
  std::string path = dir.file("ledger.db");
  metrics::Metrics metrics;
};

TEST_F(LedgerRetentionTest, RowsOlderThanTheRetentionRollUpAndEveryTotalStaysTheSame) {
  const std::vector<LedgerRow> rows = twenty_days();
  {
    auto writer = open_writer(0ms);  // keep every row
    ASSERT_TRUE(writer);
    for (LedgerRow row : rows) ASSERT_TRUE(writer->enqueue(std::move(row)));
    writer->stop();
    EXPECT_EQ(writer->stats().rolled_up, 0u);
  }
  const Snapshot before = read_all(path);
  int64_t bytes_before = 0, kept = 0;
  {
    RawConnection raw(path);
    bytes_before = raw.integer("PRAGMA page_count") * raw.integer("PRAGMA page_size");
    kept = raw.integer("SELECT count(*) FROM requests WHERE time_ms >= " +
                       std::to_string(kNow - 3 * kDayMs));
  }
  ASSERT_GT(kept, 0);

  // Three days: the writer rolls the older seventeen up, a batch at a time, by itself.
  auto writer = open_writer(std::chrono::milliseconds(3 * kDayMs));
  ASSERT_TRUE(writer);
  ASSERT_TRUE(eventually([&] { return writer->stats().rows == kept; }))
      << writer->stats().rows << " rows left, " << kept << " expected";
  EXPECT_EQ(writer->stats().rolled_up, rows.size() - static_cast<size_t>(kept));
  EXPECT_EQ(metrics.ledger_rows_family.Add({}).Value(), static_cast<double>(kept));
  writer->stop();

  const Snapshot after = read_all(path);
  ASSERT_EQ(after.by_agent.size(), before.by_agent.size());
  for (size_t i = 0; i < before.by_agent.size(); ++i) {
    expect_same_sums(before.by_agent[i], after.by_agent[i]);
  }
  ASSERT_EQ(after.by_model.size(), before.by_model.size());
  for (size_t i = 0; i < before.by_model.size(); ++i) {
    expect_same_sums(before.by_model[i], after.by_model[i]);
  }
  expect_same_sums(before.total, after.total);
  ASSERT_EQ(after.tools.size(), before.tools.size());
  for (size_t i = 0; i < before.tools.size(); ++i) {
    expect_same_outcomes(before.tools[i], after.tools[i]);
  }
  expect_same_outcomes(before.tool_total, after.tool_total);
  // Budgets rebuilt at start-up: today, the month (here: the last ten days) and all time.
  ASSERT_EQ(after.spend.size(), before.spend.size());
  for (const auto& [agent, spend] : before.spend) {
    EXPECT_NEAR(after.spend.at(agent).day_usd, spend.day_usd, 1e-9) << agent;
    EXPECT_NEAR(after.spend.at(agent).month_usd, spend.month_usd, 1e-9) << agent;
    EXPECT_NEAR(after.spend.at(agent).total_usd, spend.total_usd, 1e-9) << agent;
  }

  RawConnection raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM requests"), kept);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM requests WHERE time_ms < " +
                        std::to_string(kNow - 3 * kDayMs)),
            0);
  // Seventeen days, by agent/model/tool/outcome.
  EXPECT_EQ(raw.integer("SELECT count(DISTINCT day) FROM daily"), 17);
  EXPECT_EQ(raw.integer("SELECT sum(requests) FROM daily"),
            static_cast<int64_t>(rows.size()) - kept);
  // The file gave the freed pages back (incremental vacuum: 2).
  EXPECT_EQ(raw.integer("PRAGMA auto_vacuum"), 2);
  const int64_t bytes_after = raw.integer("PRAGMA page_count") * raw.integer("PRAGMA page_size");
  EXPECT_LT(bytes_after, bytes_before);
}

TEST_F(LedgerRetentionTest, ARollUpOfTheSameDayAddsToItsAggregate) {
  {
    auto writer = open_writer(0ms);
    ASSERT_TRUE(writer);
    writer->enqueue(make_row("alice", "fast", "openai", 0.5, 10, 1, kNow - 5 * kDayMs));
    writer->stop();
  }
  {
    auto writer = open_writer(std::chrono::milliseconds(kDayMs));
    ASSERT_TRUE(writer);
    ASSERT_TRUE(eventually([&] { return writer->stats().rows == 0; }));
    // Another row of that same day arrives late (a sidecar's clock, a replayed file).
    writer->enqueue(make_row("alice", "fast", "openai", 0.25, 5, 1, kNow - 5 * kDayMs + 1000));
    writer->stop();
  }
  auto writer = open_writer(std::chrono::milliseconds(kDayMs));
  ASSERT_TRUE(writer);
  ASSERT_TRUE(eventually([&] { return writer->stats().rows == 0; }));
  writer->stop();
  RawConnection raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM daily"), 1);
  EXPECT_EQ(raw.integer("SELECT requests FROM daily"), 2);
  EXPECT_EQ(raw.integer("SELECT input_tokens FROM daily"), 15);
  EXPECT_EQ(raw.text("SELECT cost_usd FROM daily"), "0.75");
}

TEST_F(LedgerRetentionTest, RetentionOffKeepsEveryRow) {
  auto writer = open_writer(0ms);
  ASSERT_TRUE(writer);
  writer->enqueue(make_row("alice", "fast", "openai", 0.5, 10, 1, kNow - 400 * kDayMs));
  writer->stop();
  RawConnection raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM requests"), 1);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM daily"), 0);
}

}  // namespace
}  // namespace sluice::ledger
