// state.retention as an operator sees it: a sidecar started on a ledger with months of rows
// rolls the old ones up into daily aggregates by itself — sluice_ledger_rows drops, the file
// shrinks — while `sluice usage` reports the same totals before and after, and the budget
// rebuilt at start-up still counts the rolled-up spend.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "core/ledger/ledger_writer.h"
#include "core/metrics/metrics.h"
#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kDayMs = 86'400'000;

double metric(const std::string& scrape, const std::string& series) {
  const size_t at = scrape.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(scrape.substr(at + series.size() + 2));
}

class LedgerRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }

  // 60 days of alice's requests (2,400 rows) ending now, written as a sidecar would have.
  int64_t write_history() {
    ledger::LedgerWriter::Options options;
    options.path = ledger;
    options.metrics = &metrics;
    std::string error;
    auto writer = ledger::LedgerWriter::open(std::move(options), &error);
    EXPECT_TRUE(writer) << error;
    if (!writer) return 0;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    int64_t recent = 0;
    for (int i = 0; i < 2400; ++i) {
      ledger::LedgerRow row;
      row.request_id = "old-" + std::to_string(i);
      row.time_unix_ms = now - (i * 60 * kDayMs) / 2400 - 60'000;
      row.agent = "alice";
      row.model = kFastModel;
      row.physical_model = kFastPhysical;
      row.provider = "mockai";
      row.status = 200;
      row.input_tokens = 100 + i % 17;
      row.output_tokens = 10 + i % 5;
      row.cost_usd = 0.0001 * (1 + i % 9);
      row.latency_s = 0.2;
      row.attempts = 1;
      if (row.time_unix_ms >= now - 7 * kDayMs) ++recent;
      writer->enqueue(std::move(row));
    }
    writer->stop();
    return recent;
  }

  std::string usage_json() {
    auto p = Process::start({sluice_binary(), "usage", "--ledger", ledger, "--json"},
                            data.file("usage-" + std::to_string(++cli_runs)));
    EXPECT_TRUE(p);
    if (!p) return "";
    EXPECT_EQ(p->wait_exit(30s).value_or(-1), 0) << p->stderr_text();
    return p->stdout_text();
  }

  MockProvider mock{mock_provider_binary()};
  TempDir data;
  std::string ledger = data.file("ledger.db");
  metrics::Metrics metrics;
  int cli_runs = 0;
};

TEST_F(LedgerRetentionTest, OldRowsRollUpAndUsageTotalsStayTheSame) {
  const int64_t recent = write_history();
  ASSERT_GT(recent, 0);
  auto before = Json::parse(usage_json());
  ASSERT_TRUE(before);

  GatewayConfig config;
  config.provider_base_url = mock.base_url();
  config.ledger_path = ledger;
  std::string yaml = config.to_yaml();
  const std::string state = "flush_interval: 10ms";
  yaml.replace(yaml.find(state), state.size(), state + ", retention: 7d");
  SluiceServer sluice;
  ASSERT_TRUE(sluice.start(sluice_binary(), yaml));
  // The writer rolls the 53 older days up, a batch at a time, without any request.
  std::string scrape;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = sluice.admin_client().get("/metrics");
        scrape = r ? r->body : "";
        return metric(scrape, "sluice_ledger_rows") == static_cast<double>(recent);
      },
      20s))
      << scrape.substr(0, 3000);
  EXPECT_GT(metric(scrape, "sluice_ledger_bytes"), 0);
  // Requests go on meanwhile, and land as rows.
  auto r = sluice.client().post_json("/v1/chat/completions", chat_body(kFastModel, "still here"),
                                     bearer(kAliceKey));
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "none");
  ASSERT_TRUE(sluice.process().signal(SIGTERM));
  ASSERT_TRUE(sluice.process().wait_exit(30s).has_value());

  auto after = Json::parse(usage_json());
  ASSERT_TRUE(after);
  const Json& t0 = (*before)["total"];
  const Json& t1 = (*after)["total"];
  EXPECT_EQ(t0["requests"].as_int(), 2400);
  // After = the history (kept rows + roll-ups) + the one request above, exactly.
  auto rows = read_ledger_rows(ledger);
  ASSERT_TRUE(rows);
  const LedgerTestRow* added = nullptr;
  for (const auto& row : *rows) {
    if (row.request_id == r->header("x-request-id")) added = &row;
  }
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(rows->size(), static_cast<size_t>(recent) + 1) << "old rows still there";
  EXPECT_EQ(t1["requests"].as_int(), t0["requests"].as_int() + 1) << after->dump();
  EXPECT_EQ(t1["input_tokens"].as_int(), t0["input_tokens"].as_int() + added->input);
  EXPECT_EQ(t1["output_tokens"].as_int(), t0["output_tokens"].as_int() + added->output);
  EXPECT_NEAR(t1["cost_usd"].as_number(), t0["cost_usd"].as_number() + added->cost, 1e-9);
}

}  // namespace
}  // namespace sluice::test
