// What an operator sees of budgets outside the request path: the spend rebuilt from the ledger
// at start-up (day, month and all time per agent; nothing for a missing ledger; a warning, not
// a refusal, for an unreadable one), sluice_budget_remaining_usd set from it, GET /status's
// "budget" object per agent and the BUDGET_USD column of `sluice status`.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "core/admin/admin_router.h"
#include "core/admin/status_report.h"
#include "core/cli/status_command.h"
#include "core/ledger/ledger_reader.h"
#include "core/ledger/ledger_writer.h"
#include "core/metrics/metrics.h"
#include "core/metrics/provider_stats.h"
#include "core/server/spend_rebuild.h"
#include "core/state/budget_gauges.h"
#include "core/state/process_state.h"
#include "tests/unit/ledger_test_util.h"

namespace sluice {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

state::WallTime utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi};
}
int64_t ms(state::WallTime t) {
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// "Now" for these tests: 21 Nov 2026, 15:00 UTC.
const state::WallTime kNow = utc(2026, 11, 21, 15);
state::WallTime fixed_now() {
  return kNow;
}

config::Agent agent_with_budget(const std::string& name, double usd, const std::string& per) {
  config::Agent a;
  a.name = name;
  if (usd > 0) a.budget = config::Budget{usd, per};
  return a;
}

class SpendRebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config.state.ledger = dir.file("ledger.db");
    config.agents["alice"] = agent_with_budget("alice", 1.0, "day");
    config.agents["bob"] = agent_with_budget("bob", 10.0, "month");
    config.agents["carol"] = agent_with_budget("carol", 0, "");  // no budget
  }

  void write_ledger(std::vector<ledger::LedgerRow> rows) {
    std::string error;
    ledger::LedgerWriter::Options options;
    options.path = config.state.ledger;
    options.metrics = &metrics;
    auto writer = ledger::LedgerWriter::open(options, &error);
    ASSERT_TRUE(writer) << error;
    for (auto& r : rows) writer->enqueue(std::move(r));
    writer->stop();
  }

  static ledger::LedgerRow row(const std::string& agent, double cost, state::WallTime at) {
    return ledger::test::make_row(agent, "fast", "openai", cost, 10, 10, ms(at));
  }

  ledger::test::LedgerTempDir dir;
  config::Config config;
  metrics::Metrics metrics;
  state::ProcessState states{&metrics};
};

TEST_F(SpendRebuildTest, SeedsEachAgentsDayMonthAndTotalFromTheLedger) {
  write_ledger({
      row("alice", 0.25, utc(2026, 10, 31, 23, 59)),  // last month
      row("alice", 0.50, utc(2026, 11, 20, 23, 59)),  // this month, yesterday
      row("alice", 0.125, utc(2026, 11, 21)),         // today, at midnight exactly
      row("alice", 0.0625, utc(2026, 11, 21, 14)),    // today
      row("bob", 2.0, utc(2025, 1, 1)),               // long ago
      row("bob", 3.0, utc(2026, 11, 1)),              // this month
      row("", 9.0, utc(2026, 11, 21, 1)),             // anonymous: nobody's budget
      row("ghost", 7.0, utc(2026, 11, 21, 2)),        // an agent no longer configured
  });
  server::SpendRebuild r = server::rebuild_spend_from_ledger(config, states, kNow);
  EXPECT_EQ(r.source, server::SpendRebuild::Source::Ledger);
  EXPECT_EQ(r.agents_seeded, 2u);

  const state::SpendAccount& alice = states.agent("alice")->spend();
  EXPECT_DOUBLE_EQ(alice.spent(state::BudgetPeriod::Day, kNow), 0.1875);
  EXPECT_DOUBLE_EQ(alice.spent(state::BudgetPeriod::Month, kNow), 0.6875);
  EXPECT_DOUBLE_EQ(alice.spent(state::BudgetPeriod::Total, kNow), 0.9375);
  const state::SpendAccount& bob = states.agent("bob")->spend();
  EXPECT_DOUBLE_EQ(bob.spent(state::BudgetPeriod::Day, kNow), 0.0);
  EXPECT_DOUBLE_EQ(bob.spent(state::BudgetPeriod::Month, kNow), 3.0);
  EXPECT_DOUBLE_EQ(bob.spent(state::BudgetPeriod::Total, kNow), 5.0);
  EXPECT_EQ(states.find_agent("ghost"), nullptr);

  // The seeded spend is enforced: alice has 1.0 - 0.1875 left today.
  state::SpendAccount::Reservation res;
  EXPECT_EQ(
      states.agent("alice")->spend().reserve({1.0, state::BudgetPeriod::Day}, 0.82, kNow, &res),
      state::SpendAccount::Admission::OverBudget);
  EXPECT_EQ(
      states.agent("alice")->spend().reserve({1.0, state::BudgetPeriod::Day}, 0.8125, kNow, &res),
      state::SpendAccount::Admission::Admitted);
}

TEST_F(SpendRebuildTest, SetsTheRemainingBudgetGaugeOfAgentsWithABudget) {
  write_ledger({row("alice", 0.25, utc(2026, 11, 21, 9)), row("carol", 1.0, utc(2026, 11, 21, 9))});
  server::rebuild_spend_from_ledger(config, states, kNow);
  ASSERT_NE(states.agent("alice")->budget_remaining_gauge(), nullptr);
  EXPECT_DOUBLE_EQ(states.agent("alice")->budget_remaining_gauge()->Value(), 0.75);
  ASSERT_NE(states.agent("bob")->budget_remaining_gauge(), nullptr);
  EXPECT_DOUBLE_EQ(states.agent("bob")->budget_remaining_gauge()->Value(), 10.0);
  EXPECT_EQ(states.agent("carol")->budget_remaining_gauge(), nullptr);  // no budget, no gauge
}

TEST_F(SpendRebuildTest, NoLedgerYetIsNoSpend) {
  server::SpendRebuild r = server::rebuild_spend_from_ledger(config, states, kNow);
  EXPECT_EQ(r.source, server::SpendRebuild::Source::NoFileYet);
  EXPECT_DOUBLE_EQ(states.agent("alice")->spend().spent(state::BudgetPeriod::Total, kNow), 0.0);
  EXPECT_DOUBLE_EQ(states.agent("alice")->budget_remaining_gauge()->Value(), 1.0);
}

TEST_F(SpendRebuildTest, LedgerOffIsNoSpend) {
  config.state.ledger = "";
  EXPECT_EQ(server::rebuild_spend_from_ledger(config, states, kNow).source,
            server::SpendRebuild::Source::Off);
}

TEST_F(SpendRebuildTest, AnUnreadableLedgerIsAWarningAndSpendStartsAtZero) {
  std::ofstream(config.state.ledger) << "this is not a sqlite database, just text\n";
  server::SpendRebuild r = server::rebuild_spend_from_ledger(config, states, kNow);
  EXPECT_EQ(r.source, server::SpendRebuild::Source::Unreadable);
  EXPECT_FALSE(r.warning.empty());
  EXPECT_DOUBLE_EQ(states.agent("alice")->spend().spent(state::BudgetPeriod::Day, kNow), 0.0);
  EXPECT_DOUBLE_EQ(states.agent("alice")->budget_remaining_gauge()->Value(), 1.0);
}

TEST_F(SpendRebuildTest, SpendByAgentPeriodsReadsAllThreeInOnePass) {
  write_ledger({row("alice", 1.0, utc(2026, 11, 21, 1)), row("alice", 2.0, utc(2026, 11, 2)),
                row("alice", 4.0, utc(2026, 1, 2))});
  std::string error;
  auto reader = ledger::LedgerReader::open(config.state.ledger, &error);
  ASSERT_TRUE(reader) << error;
  auto spent = reader->spend_by_agent_periods(ms(utc(2026, 11, 21)), ms(utc(2026, 11, 1)), &error);
  ASSERT_TRUE(spent) << error;
  ASSERT_EQ(spent->count("alice"), 1u);
  EXPECT_DOUBLE_EQ(spent->at("alice").day_usd, 1.0);
  EXPECT_DOUBLE_EQ(spent->at("alice").month_usd, 3.0);
  EXPECT_DOUBLE_EQ(spent->at("alice").total_usd, 7.0);
}

// --- GET /status and `sluice status` -------------------------------------------------------

struct StatusFixture {
  std::shared_ptr<config::Config> config = std::make_shared<config::Config>();
  metrics::Metrics metrics;
  state::ProcessState states{nullptr};
  admin::LastReload last_reload;

  StatusFixture() {
    config->source_path = "/etc/sluice.yaml";
    config->agents["daily"] = agent_with_budget("daily", 5.0, "day");
    config->agents["forever"] = agent_with_budget("forever", 100.0, "total");
    config->agents["free"] = agent_with_budget("free", 0, "");
    config->agents["idle"] = agent_with_budget("idle", 2.0, "month");  // never spent
  }

  std::string status() {
    admin::ConfigView view{config, 1};
    admin::StatusInputs in{view,    last_reload, metrics.provider_stats(), kNow, 10s,
                           &states, &fixed_now};
    return admin::status_json(in);
  }
};

TEST(BudgetStatus, EachAgentWithABudgetShowsItsSpendInTheCurrentPeriod) {
  StatusFixture f;
  state::SpendAccount& daily = f.states.agent("daily")->spend();
  daily.charge(0.1, kNow - 20h);  // yesterday: not in today's spend
  daily.charge(0.1, kNow - 1h);
  daily.charge(0.2, kNow - 1h);
  state::SpendAccount::Reservation r;
  ASSERT_EQ(daily.reserve({5.0, state::BudgetPeriod::Day}, 0.5, kNow, &r),
            state::SpendAccount::Admission::Admitted);
  f.states.agent("forever")->spend().charge(42.0, utc(2020, 1, 1));

  const std::string body = f.status();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;

  simdjson::dom::element b = doc["agents"]["daily"]["budget"];
  EXPECT_EQ(double(b["usd"]), 5.0);
  EXPECT_EQ(std::string_view(b["per"]), "day");
  EXPECT_EQ(double(b["spent_usd"]), 0.3) << body;  // 0.1 + 0.2, rounded to a nano-dollar
  EXPECT_EQ(double(b["reserved_usd"]), 0.5);
  EXPECT_EQ(double(b["remaining_usd"]), 4.2);
  EXPECT_EQ(std::string_view(b["period_start"]), "2026-11-21T00:00:00.000Z");
  EXPECT_EQ(std::string_view(b["resets_at"]), "2026-11-22T00:00:00.000Z");

  simdjson::dom::element t = doc["agents"]["forever"]["budget"];
  EXPECT_EQ(double(t["spent_usd"]), 42.0);
  EXPECT_EQ(double(t["remaining_usd"]), 58.0);
  EXPECT_EQ(std::string_view(t["period_start"]), "1970-01-01T00:00:00.000Z");
  EXPECT_TRUE(t["resets_at"].is_null());

  simdjson::dom::element idle = doc["agents"]["idle"]["budget"];
  EXPECT_EQ(double(idle["spent_usd"]), 0.0);
  EXPECT_EQ(double(idle["remaining_usd"]), 2.0);
  EXPECT_EQ(std::string_view(idle["resets_at"]), "2026-12-01T00:00:00.000Z");
  EXPECT_EQ(f.states.find_agent("idle"), nullptr);  // /status registered nothing

  EXPECT_EQ(doc["agents"]["free"]["budget"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(doc["agents"]["free"]["limits"].error(), simdjson::SUCCESS);  // the rest stays
}

TEST(BudgetStatus, TheStatusTableHasABudgetColumn) {
  StatusFixture f;
  f.states.agent("daily")->spend().charge(1.25, kNow);
  f.states.agent("forever")->spend().charge(0.0003, kNow);
  std::string error;
  auto table = cli::render_status(f.status(), kNow, &error);
  ASSERT_TRUE(table) << error;
  const std::string& text = table->text;
  EXPECT_NE(text.find("BUDGET_USD"), std::string::npos) << text;
  auto line_of = [&](const std::string& agent) {
    const size_t at = text.find("\n" + agent + " ");
    if (at == std::string::npos) return std::string();
    return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
  };
  EXPECT_NE(line_of("daily").find("1.25/5.00 day"), std::string::npos) << text;
  EXPECT_NE(line_of("forever").find("0.000300/100.00 total"), std::string::npos) << text;
  EXPECT_NE(line_of("idle").find("0.00/2.00 month"), std::string::npos) << text;
  const std::string free = line_of("free");
  ASSERT_FALSE(free.empty()) << text;
  EXPECT_EQ(free.back(), '-') << text;
}

TEST(BudgetGauge, AScrapeOfMetricsShowsTheBudgetOfTheCurrentPeriod) {
  // The cost filter sets the gauge when spend changes. An agent that used its whole budget
  // yesterday and sent nothing since must not read 0 left today, nor keep an old budget's
  // figure after a reload: /metrics sets the gauges from the spend and config of now.
  auto config = std::make_shared<config::Config>();
  config->agents["daily"] = agent_with_budget("daily", 5.0, "day");
  config->agents["free"] = agent_with_budget("free", 0, "");
  metrics::Metrics metrics;
  state::ProcessState states{&metrics};
  const state::WallTime now = state::wall_now();
  state::AgentState* daily = states.agent("daily");
  daily->spend().charge(5.0, now - 48h);  // spent it all two days ago
  daily->spend().charge(1.5, now);        // and this much today
  states.budget_gauge(*daily)->Set(0);    // what the filter left two days ago

  admin::AdminHooks hooks;
  hooks.current_config = [&] { return admin::ConfigView{config, 1}; };
  admin::AdminRouter router(hooks, metrics, &states);
  admin::AdminResponse r = router.handle("GET", "/metrics", {});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("sluice_budget_remaining_usd{agent=\"daily\"} 3.5"), std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("sluice_budget_remaining_usd{agent=\"free\"}"), std::string::npos);

  // A reload that raises the budget: the next scrape shows it.
  auto raised = std::make_shared<config::Config>(*config);
  raised->agents["daily"].budget->usd = 8.0;
  config = raised;
  r = router.handle("GET", "/metrics", {});
  EXPECT_NE(r.body.find("sluice_budget_remaining_usd{agent=\"daily\"} 6.5"), std::string::npos)
      << r.body;
}

TEST(BudgetGauge, BudgetLimitOfAConfiguredBudget) {
  EXPECT_EQ(state::budget_limit_of(config::Budget{2.5, "month"}).per, state::BudgetPeriod::Month);
  EXPECT_EQ(state::budget_limit_of(config::Budget{2.5, "month"}).usd, 2.5);
  EXPECT_EQ(state::budget_limit_of(config::Budget{1, "total"}).per, state::BudgetPeriod::Total);
  EXPECT_EQ(state::budget_limit_of(config::Budget{1, "day"}).per, state::BudgetPeriod::Day);
}

}  // namespace
}  // namespace sluice
