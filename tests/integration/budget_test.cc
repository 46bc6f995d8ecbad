// Budgets end to end (DESIGN §4 agents.*.budget, §8, issue 6 item 5): a real sluice with the
// cost filter and a spend ledger in front of the mock provider. Prices are inline and make
// every request's cost known from the mock's usage (input free, $0.01 per output token), and
// each request asks for max_tokens 5, so its worst case is exactly $0.05. The agent `spender`
// has a daily budget of a few requests' worth:
//   - requests are admitted while spent + worst case fits, then refused with 429
//     budget_exceeded and retry-after to the next UTC midnight, before the provider is called;
//   - the refusal is a ledger row (429, cost 0);
//   - the spend survives a restart after SIGTERM and after kill -9 (rebuilt from the ledger);
//   - a reload that raises the budget admits again and keeps the spend;
//   - /status, /metrics and the ledger agree on the numbers.
// The period boundary itself is tested in unit tests with an injected clock.
#include <signal.h>
#include <sqlite3.h>

#include <cmath>
#include <memory>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

inline constexpr const char* kSpenderKey = "sk-agent-spender-7c6d5e";
constexpr double kOutputUsdPerToken = 0.01;  // output: 10000 USD per 1M tokens
constexpr int kMaxTokens = 5;
constexpr double kWorstCaseUsd = kMaxTokens * kOutputUsdPerToken;  // input is free
constexpr double kBudgetUsd = 0.30;

// What the ledger holds for one agent.
struct LedgerSums {
  double cost_usd = -1;
  int64_t rows = -1;
  int64_t refused_rows = -1;  // status 429
  double refused_cost = -1;   // their cost (must be 0)
};

LedgerSums ledger_sums(const std::string& path, const std::string& agent) {
  LedgerSums sums;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return sums;
  }
  sqlite3_stmt* s = nullptr;
  const char* sql =
      "SELECT total(cost_usd), count(*), coalesce(sum(status = 429), 0),"
      " total(CASE WHEN status = 429 THEN cost_usd END) FROM requests WHERE agent = ?1";
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot query " << path << ": " << sqlite3_errmsg(db);
  } else {
    sqlite3_bind_text(s, 1, agent.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) == SQLITE_ROW) {
      sums.cost_usd = sqlite3_column_double(s, 0);
      sums.rows = sqlite3_column_int64(s, 1);
      sums.refused_rows = sqlite3_column_int64(s, 2);
      sums.refused_cost = sqlite3_column_double(s, 3);
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return sums;
}

// Whole seconds from now to the next 00:00:00 UTC.
int64_t seconds_to_utc_midnight() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto midnight = floor<days>(now) + days{1};
  return duration_cast<seconds>(midnight - now).count();
}

// "2026-11-22T00:00:00.000Z" for the next UTC midnight.
std::string next_utc_midnight_iso() {
  using namespace std::chrono;
  const year_month_day next{floor<days>(system_clock::now()) + days{1}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT00:00:00.000Z", static_cast<int>(next.year()),
                static_cast<unsigned>(next.month()), static_cast<unsigned>(next.day()));
  return buf;
}

class BudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    // A run that straddles midnight UTC would see the budget reset mid-test.
    if (seconds_to_utc_midnight() < 120) GTEST_SKIP() << "too close to midnight UTC";
  }

  std::string yaml(double budget_usd) const {
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    char budget[64];
    std::snprintf(budget, sizeof budget, "%.4f", budget_usd);
    config.extra_agents = "  spender:\n    keys: [\"" + agent_key_digest(kSpenderKey) +
                          "\"]\n    budget: {usd: " + budget + ", per: day}\n";
    std::string y = config.to_yaml();
    const std::string off = "state: {ledger: \"\"}\n";
    const size_t at = y.find(off);
    EXPECT_NE(at, std::string::npos) << "GatewayConfig no longer turns the ledger off that way";
    if (at == std::string::npos) return y;
    // The cost filter joins the end of the chain (`filters:` is the list just above `state:`).
    y.replace(at, off.size(),
              "  - cost:\n"
              "      prices:\n"
              "        " +
                  std::string(kFastPhysical) +
                  ": {input: 0, output: 10000}\n"
                  "state: {ledger: " +
                  json_quote(ledger) + ", flush_interval: 50ms}\n");
    return y;
  }

  std::unique_ptr<SluiceServer> start(double budget_usd = kBudgetUsd) {
    auto server = std::make_unique<SluiceServer>();
    EXPECT_TRUE(server->start(sluice_binary(), yaml(budget_usd)));
    return server;
  }

  static std::optional<HttpResponse> chat(SluiceServer& server, const std::string& text) {
    auto body = Json::parse(chat_body(kFastModel, text));
    body->set("max_tokens", kMaxTokens);
    return server.client().post_json("/v1/chat/completions", body->dump(), bearer(kSpenderKey));
  }

  int64_t upstream_requests() {
    auto stats = mock.stats();
    return stats ? (*stats)["requests_total"].as_int(-1) : -1;
  }

  // Sends requests until one is refused, checking each admission against the budget: a
  // request is admitted exactly when the spend so far (the provider's usage × the price) plus
  // its worst case fits. Leaves the refused response in `refusal`.
  void spend_until_refused(SluiceServer& server) {
    for (int i = 0; i < 40; ++i) {
      const bool fits = spent + kWorstCaseUsd <= kBudgetUsd + 1e-9;
      auto r = chat(server, "spend number " + std::to_string(i));
      // The previous request's reservation is settled just after its last byte was sent: a
      // refusal right after an answer may still count that worst case. Ask again.
      for (int retry = 0; fits && r && r->status == 429 && retry < 10; ++retry) {
        ++refusals;
        std::this_thread::sleep_for(50ms);
        r = chat(server, "spend number " + std::to_string(i));
      }
      ASSERT_TRUE(r) << server.describe();
      if (!fits) {
        ASSERT_EQ(r->status, 429) << "spent " << spent << " + worst case " << kWorstCaseUsd
                                  << " passes " << kBudgetUsd << ": " << r->describe();
        ++refusals;
        refusal = r;
        return;
      }
      ASSERT_EQ(r->status, 200) << "spent " << spent << ": " << r->describe();
      auto body = r->json();
      ASSERT_TRUE(body);
      const int64_t output = (*body)["usage"]["completion_tokens"].as_int(-1);
      ASSERT_GT(output, 0) << r->describe();
      spent += static_cast<double>(output) * kOutputUsdPerToken;
      ++admitted;
    }
    FAIL() << "never refused; spent " << spent;
  }

  // A metric sample's value from /metrics (-1: absent).
  static double metric(SluiceServer& server, const std::string& series) {
    auto r = server.admin_client().get("/metrics");
    if (!r) return -1;
    const size_t at = r->body.find(series + " ");
    return at == std::string::npos ? -1 : std::stod(r->body.substr(at + series.size() + 1));
  }

  static Json budget_status(SluiceServer& server) {
    auto r = server.admin_client().get("/status");
    if (!r || r->status != 200) return Json();
    auto doc = r->json();
    return doc ? (*doc)["agents"]["spender"]["budget"] : Json();
  }

  static void stop_with_sigterm(SluiceServer& server) {
    ASSERT_TRUE(server.process().signal(SIGTERM));
    auto code = server.process().wait_exit(30s);
    ASSERT_TRUE(code.has_value()) << server.describe();
    EXPECT_EQ(*code, 0) << server.describe();
  }

  void expect_budget_refusal(const std::optional<HttpResponse>& r) {
    ASSERT_TRUE(is_openai_error(r, 429, "budget_exceeded"));
    auto body = r->json();
    EXPECT_EQ((*body)["error"]["type"].str(), "rate_limit_error") << r->describe();
    EXPECT_EQ((*body)["error"]["code"].str(), "budget_exceeded") << r->describe();
    const std::string retry_after = r->header("retry-after");
    ASSERT_FALSE(retry_after.empty()) << r->describe();
    EXPECT_NEAR(std::stoll(retry_after), seconds_to_utc_midnight(), 5) << r->describe();
  }

  MockProvider mock{mock_provider_binary()};
  TempDir data;  // outlives every sluice of a test: the ledger lives here
  std::string ledger = data.file("ledger.db");
  double spent = 0;  // what the admitted requests cost, from their usage
  int admitted = 0;
  int refusals = 0;  // 429 answers so far (each is a ledger row)
  std::optional<HttpResponse> refusal;
};

TEST_F(BudgetTest, RefusesWhenTheWorstCaseWouldPassTheBudgetBeforeCallingTheProvider) {
  auto sluice = start();
  const int64_t upstream_before = upstream_requests();
  spend_until_refused(*sluice);
  ASSERT_GE(admitted, 3) << "the budget should hold a few requests";
  EXPECT_EQ(upstream_requests() - upstream_before, admitted);  // the refusal never went up
  expect_budget_refusal(refusal);

  // Refused again, still without reaching the provider.
  auto again = chat(*sluice, "one more");
  ++refusals;
  expect_budget_refusal(again);
  EXPECT_EQ(upstream_requests() - upstream_before, admitted);

  // Another agent (no budget) is not affected.
  auto bob = sluice->client().post_json("/v1/chat/completions", chat_body(kFastModel, "hi"),
                                        bearer(kBobKey));
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->status, 200) << bob->describe();
}

TEST_F(BudgetTest, StatusMetricsAndTheLedgerAgreeOnTheSpend) {
  auto sluice = start();
  spend_until_refused(*sluice);
  ASSERT_FALSE(HasFatalFailure());

  Json b = budget_status(*sluice);
  ASSERT_TRUE(b.is_object()) << "no agents.spender.budget in /status";
  EXPECT_DOUBLE_EQ(b["usd"].as_number(), kBudgetUsd);
  EXPECT_EQ(b["per"].str(), "day");
  EXPECT_NEAR(b["spent_usd"].as_number(-1), spent, 1e-9);
  EXPECT_NEAR(b["reserved_usd"].as_number(-1), 0.0, 1e-9);
  EXPECT_NEAR(b["remaining_usd"].as_number(-1), kBudgetUsd - spent, 1e-9);
  EXPECT_EQ(b["resets_at"].str(), next_utc_midnight_iso());
  EXPECT_EQ(b["period_start"].str().substr(10), "T00:00:00.000Z");

  EXPECT_TRUE(eventually(
      [&] {
        return std::fabs(metric(*sluice, "sluice_budget_remaining_usd{agent=\"spender\"}") -
                         (kBudgetUsd - spent)) < 1e-9;
      },
      5s))
      << metric(*sluice, "sluice_budget_remaining_usd{agent=\"spender\"}");
  EXPECT_TRUE(eventually(
      [&] {
        return metric(*sluice, "sluice_rate_limited_total{agent=\"spender\",limit=\"budget\"}") ==
               refusals;
      },
      5s));

  stop_with_sigterm(*sluice);
  LedgerSums sums = ledger_sums(ledger, "spender");
  EXPECT_NEAR(sums.cost_usd, spent, 1e-9);
  EXPECT_EQ(sums.rows, admitted + refusals);
  EXPECT_EQ(sums.refused_rows, refusals);
  EXPECT_EQ(sums.refused_cost, 0.0);
}

TEST_F(BudgetTest, ARestartAfterSigtermRebuildsTheSpendFromTheLedger) {
  {
    auto first = start();
    spend_until_refused(*first);
    ASSERT_FALSE(HasFatalFailure());
    stop_with_sigterm(*first);
  }
  const int64_t upstream_before = upstream_requests();
  auto second = start();
  EXPECT_NE(second->stderr_text().find("budgets: spend of 1 agent(s) rebuilt from"),
            std::string::npos)
      << second->stderr_text();
  expect_budget_refusal(chat(*second, "after the restart"));
  EXPECT_EQ(upstream_requests(), upstream_before);
  Json b = budget_status(*second);
  EXPECT_NEAR(b["spent_usd"].as_number(-1), spent, 1e-9);
  EXPECT_NEAR(metric(*second, "sluice_budget_remaining_usd{agent=\"spender\"}"), kBudgetUsd - spent,
              1e-9);
}

TEST_F(BudgetTest, ARestartAfterKillNineKeepsTheRowsOlderThanTheFlushInterval) {
  {
    auto first = start();
    spend_until_refused(*first);
    ASSERT_FALSE(HasFatalFailure());
    // Every row is committed (a flush every 50 ms) before the kill.
    ASSERT_TRUE(eventually(
        [&] {
          return metric(*first, "sluice_ledger_rows_total{result=\"written\"}") ==
                 admitted + refusals;
        },
        20s));
    ASSERT_TRUE(first->process().signal(SIGKILL));
    auto code = first->process().wait_exit(30s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 128 + SIGKILL);
  }
  const int64_t upstream_before = upstream_requests();
  auto second = start();
  expect_budget_refusal(chat(*second, "after kill -9"));
  EXPECT_EQ(upstream_requests(), upstream_before);
  EXPECT_NEAR(budget_status(*second)["spent_usd"].as_number(-1), spent, 1e-9);
}

TEST_F(BudgetTest, AReloadThatRaisesTheBudgetAdmitsAgainAndKeepsTheSpend) {
  auto sluice = start();
  spend_until_refused(*sluice);
  ASSERT_FALSE(HasFatalFailure());

  sluice->dir().write("sluice.yaml", yaml(kBudgetUsd + 0.20));
  auto reload = sluice->admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload) << sluice->describe();
  ASSERT_EQ(reload->status, 200) << reload->describe();

  auto r = chat(*sluice, "after the reload");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  const double cost = static_cast<double>((*r->json())["usage"]["completion_tokens"].as_int(0)) *
                      kOutputUsdPerToken;
  // The spend before the reload is still there: not reset to this one request.
  Json b;
  ASSERT_TRUE(eventually(
      [&] {
        b = budget_status(*sluice);
        return std::fabs(b["spent_usd"].as_number(-1) - (spent + cost)) < 1e-9;
      },
      5s))
      << "spent_usd " << b["spent_usd"].as_number(-1) << ", expected " << spent + cost;
  EXPECT_DOUBLE_EQ(b["usd"].as_number(), kBudgetUsd + 0.20);
}

}  // namespace
}  // namespace sluice::test
