// Limits and budgets shared by a fleet of sidecars through Redis (state.redis, core/fleet,
// docs/fleet.md), as an operator sees them: several real sluice processes against one real
// redis-server and one mock provider. Four sidecars hold one agent's rpm within 1% and its
// budget within one request's worst case; Redis killed (on_failure local and deny), paused
// past the timeout, flushed; a reload that changes a limit while shared; a fleet-wide
// concurrency cap.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"
#include "tests/support/redis_server.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kFleetKey = "sk-agent-fleet-5c5c01";  // agent "fleet": the limits below
constexpr int kMaxTokens = 10;

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

double metric(const std::string& scrape, const std::string& series) {
  const size_t at = scrape.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(scrape.substr(at + series.size() + 2));
}

struct FleetOptions {
  std::string limits = "{rpm: 600}";  // agents.fleet.limits
  std::string budget;                 // agents.fleet.budget flow map ("" = none)
  std::string on_failure = "local";
  std::string timeout = "1s";  // generous: a loaded 2-core CI box must not time out by accident
  int workers = 1;

  FleetOptions with_budget(std::string b) const {
    FleetOptions o = *this;
    o.budget = std::move(b);
    return o;
  }
  FleetOptions with_on_failure(std::string f) const {
    FleetOptions o = *this;
    o.on_failure = std::move(f);
    return o;
  }
  FleetOptions with_timeout(std::string t) const {
    FleetOptions o = *this;
    o.timeout = std::move(t);
    return o;
  }
};

FleetOptions limits(std::string l) {
  FleetOptions o;
  o.limits = std::move(l);
  return o;
}

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RedisServer::available())
        << "redis-server is not installed: scripts/setup.sh --tests installs it";
    ASSERT_TRUE(redis.ok());
    ASSERT_TRUE(mock.ok());
  }

  std::string yaml(const FleetOptions& o, const std::string& ledger) {
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.workers = o.workers;
    config.ledger_path = ledger;
    config.state_redis = "{url: \"" + redis.url() + "\", key_prefix: \"" + prefix +
                         "\", timeout: " + o.timeout + ", on_failure: " + o.on_failure + "}";
    config.extra_agents = "  fleet:\n    keys: [\"" + agent_key_digest(kFleetKey) +
                          "\"]\n    limits: " + o.limits + "\n";
    if (!o.budget.empty()) config.extra_agents += "    budget: " + o.budget + "\n";
    return replace_once(config.to_yaml(), "  - model_alias: {}\n",
                        "  - rate_limit: {default_max_tokens: 100}\n"
                        "  - model_alias: {}\n"
                        "  - cost:\n"
                        "      prices:\n"
                        "        " +
                            std::string(kFastPhysical) + ": {input: 0, output: 10000}\n");
  }

  // Starts `n` sidecars on the same Redis, each with its own ledger.
  void start(int n, const FleetOptions& o = {}) {
    workers = o.workers;
    for (int i = 0; i < n; ++i) {
      ledgers.push_back(data.file("ledger-" + std::to_string(i) + ".db"));
      auto s = std::make_unique<SluiceServer>();
      ASSERT_TRUE(s->start(sluice_binary(), yaml(o, ledgers.back())));
      sidecars.push_back(std::move(s));
    }
    // Every sidecar shares (its first heartbeat answered) and sees the whole fleet.
    for (auto& s : sidecars) {
      ASSERT_TRUE(eventually(
          [&] {
            auto st = status(*s);
            return st["redis"]["mode"].str() == "shared" &&
                   st["redis"]["fleet"]["instances"].as_int() == n;
          },
          10s))
          << status(*s).dump() << s->stderr_text();
    }
  }

  static Json status(SluiceServer& s) {
    auto r = s.admin_client().get("/status");
    if (!r || r->status != 200) return Json();
    auto j = Json::parse(r->body);
    return j ? *j : Json();
  }

  static std::string scrape(SluiceServer& s) {
    auto r = s.admin_client().get("/metrics");
    return r ? r->body : "";
  }

  static std::optional<HttpResponse> chat(HttpClient& c, const char* key = kFleetKey) {
    auto body = Json::parse(chat_body(kFastModel, "hello fleet"));
    body->set("max_tokens", kMaxTokens);
    return c.post_json("/v1/chat/completions", body->dump(), bearer(key));
  }
  static std::optional<HttpResponse> chat(SluiceServer& s, const char* key = kFleetKey) {
    HttpClient c = s.client();
    c.set_timeout(30s);
    return chat(c, key);
  }

  // Rewrites every sidecar's config and reloads it.
  void reload_all(const FleetOptions& o) {
    for (size_t i = 0; i < sidecars.size(); ++i) {
      std::ofstream(sidecars[i]->config_path()) << yaml(o, ledgers[i]);
      auto r = sidecars[i]->admin_client().post_json("/reload", "");
      ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
    }
  }

  double ledger_cost(size_t i) {
    double sum = 0;
    auto rows = read_ledger_rows(ledgers[i]);
    if (rows) {
      for (const auto& row : *rows) sum += row.cost > 0 ? row.cost : 0;
    }
    return sum;
  }

  // Bounded load on every sidecar for 2 s: 4 clients each, each at most one request every
  // 5 ms — far above rpm 600 (600 at once, then 10 a second). Admitted within 1%, never above.
  void expect_rpm_600_held_under_load() {
    const auto until = Clock::now() + 2s;
    std::atomic<int> attempts{0}, admitted{0}, refused{0}, other{0};
    std::mutex times_mutex;
    Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
    std::vector<std::thread> clients;
    for (int c = 0; c < 4 * static_cast<int>(sidecars.size()); ++c) {
      clients.emplace_back([&, c] {
        HttpClient client = sidecars[static_cast<size_t>(c) % sidecars.size()]->client();
        client.set_timeout(30s);
        for (auto at = Clock::now(); at < until; at = Clock::now()) {
          ++attempts;
          auto r = chat(client);
          {
            std::lock_guard lock(times_mutex);
            first = std::min(first, at);
            last = std::max(last, at);
          }
          if (r && r->status == 200) {
            ++admitted;
          } else if (r && r->status == 429) {
            ++refused;
          } else {
            ++other;
          }
          std::this_thread::sleep_until(at + 5ms);
        }
      });
    }
    for (auto& t : clients) t.join();
    EXPECT_EQ(other.load(), 0);
    // The fleet's bucket starts full (600) and refills at 10/s while the load lasts.
    const double seconds = std::chrono::duration<double>(last - first).count();
    const double allowed = 600 + 10 * seconds;
    const double error = (admitted.load() - allowed) / allowed;
    std::printf(
        "[ fleet    ] %zu sidecars x %d workers, rpm 600, %d attempts in %.2f s: "
        "admitted %d, allowed %.1f (%+.2f%%), refused %d\n",
        sidecars.size(), workers, attempts.load(), seconds, admitted.load(), allowed, error * 100,
        refused.load());
    RecordProperty("admitted", admitted.load());
    RecordProperty("allowed", static_cast<int>(allowed));
    // Never more than the limit (+1 for the time measured from the client side), and within 1%.
    EXPECT_LE(admitted.load(), allowed + 1);
    EXPECT_GE(admitted.load(), std::floor(allowed * 0.99) - 1);
    // Every sidecar refused some: the limit is the fleet's, not each sidecar's.
    for (auto& s : sidecars) {
      EXPECT_GT(metric(scrape(*s), "sluice_rate_limited_total{agent=\"fleet\",limit=\"rpm\"}"), 0);
    }
  }

  RedisServer redis;
  MockProvider mock{mock_provider_binary()};
  TempDir data;
  std::string prefix = "sluicetest:";
  std::vector<std::string> ledgers;
  std::vector<std::unique_ptr<SluiceServer>> sidecars;
  int workers = 1;  // per sidecar
};

TEST_F(FleetTest, FourSidecarsHoldOneAgentsRpmWithinOnePercent) {
  start(4, limits("{rpm: 600}"));
  expect_rpm_600_held_under_load();
}

// Members are workers: two sidecars of two workers each are four members too.
TEST_F(FleetTest, TwoSidecarsOfTwoWorkersHoldOneAgentsRpmWithinOnePercent) {
  FleetOptions options = limits("{rpm: 600}");
  options.workers = 2;
  start(2, options);
  expect_rpm_600_held_under_load();
}

TEST_F(FleetTest, FourSidecarsNeverPassTheBudgetByMoreThanOneRequestsWorstCase) {
  // Output at $0.01 a token, max_tokens 10: a request's worst case is $0.10.
  constexpr double kBudget = 3.0, kWorst = kMaxTokens * 0.01;
  start(4, limits("{rpm: 100000}").with_budget("{usd: 3, per: day}"));
  std::atomic<int> admitted{0}, over_budget{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client = sidecars[static_cast<size_t>(c % 4)]->client();
      client.set_timeout(30s);
      // Until this sidecar refuses ten times in a row, 20ms apart (the budget is spent: a
      // refusal while other requests' worst cases are held may pass once they settle).
      for (int in_a_row = 0, n = 0; in_a_row < 10 && n < 400; ++n) {
        auto r = chat(client);
        if (r && r->status == 200) {
          ++admitted;
          in_a_row = 0;
        } else if (r && r->status == 429 && r->body.find("budget_exceeded") != std::string::npos) {
          ++over_budget;
          ++in_a_row;
          std::this_thread::sleep_for(20ms);
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(other.load(), 0);
  // Every answer, admitted or refused, leaves a ledger row: wait for all of them.
  const size_t expected_rows = static_cast<size_t>(admitted.load() + over_budget.load());
  size_t rows = 0;
  ASSERT_TRUE(eventually(
      [&] {
        rows = 0;
        for (const auto& ledger : ledgers) {
          auto r = read_ledger_rows(ledger);
          if (r) rows += r->size();
        }
        return rows == expected_rows;
      },
      10s))
      << rows << " ledger rows, " << expected_rows << " answers";
  double spent = 0;
  for (size_t i = 0; i < sidecars.size(); ++i) spent += ledger_cost(i);
  std::printf("[ fleet    ] 4 sidecars, budget $%.2f: spent $%.4f in %d requests, %d refused\n",
              kBudget, spent, admitted.load(), over_budget.load());
  EXPECT_LE(spent, kBudget + kWorst);
  // A request is admitted while its worst case fits: the last ones stop within a worst case.
  EXPECT_GE(spent, kBudget - 2 * kWorst) << "the fleet stopped far below its budget";
  // Every sidecar now refuses, naming the fleet's spend.
  for (auto& s : sidecars) {
    auto r = chat(*s);
    ASSERT_TRUE(is_openai_error(r, 429, "budget_exceeded"));
  }
  // And /status on each shows the fleet's spend, not its own share (once its last call, at
  // most a second after its last request, brought the others' spend back).
  for (auto& s : sidecars) {
    double shown = -1;
    EXPECT_TRUE(eventually(
        [&] {
          const Json budget = status(*s)["agents"]["fleet"]["budget"];
          shown = budget["spent_usd"].as_number(-1);
          return budget["scope"].str() == "fleet" && std::abs(shown - spent) < 1e-6;
        },
        5s))
        << "shown " << shown << ", the ledgers say " << spent;
  }
}

TEST_F(FleetTest, RedisDownWithOnFailureLocalServesEachSidecarsShareAndRecovers) {
  start(2, limits("{rpm: 40}"));
  redis.stop();
  for (auto& s : sidecars) {
    ASSERT_TRUE(eventually([&] { return status(*s)["redis"]["mode"].str() == "local"; }, 10s))
        << status(*s).dump();
    EXPECT_EQ(metric(scrape(*s), "sluice_redis_up"), 0);
  }
  // Each of the two sidecars holds rpm 40 / 2 on its own.
  int admitted = 0;
  for (int i = 0; i < 30; ++i) {
    auto r = chat(*sidecars[0]);
    ASSERT_TRUE(r && (r->status == 200 || r->status == 429)) << (r ? r->describe() : "none");
    admitted += r->status == 200 ? 1 : 0;
  }
  EXPECT_EQ(admitted, 20);

  // Redis back: the sidecars share again by themselves, with what they took locally merged.
  ASSERT_TRUE(redis.start());
  for (auto& s : sidecars) {
    ASSERT_TRUE(eventually([&] { return status(*s)["redis"]["mode"].str() == "shared"; }, 15s))
        << status(*s).dump();
    EXPECT_EQ(metric(scrape(*s), "sluice_redis_up"), 1);
  }
  EXPECT_TRUE(eventually(
      [&] {
        auto level = redis.command({"HGET", prefix + "rate:fleet:rpm", "level"});
        return level && !level->empty() && std::stod(*level) >= 19;
      },
      5s))
      << "the 20 requests admitted locally did not reach the fleet's bucket";
  EXPECT_GT(metric(scrape(*sidecars[0]), "sluice_redis_errors_total{kind=\"connect\"}"), 0);
}

TEST_F(FleetTest, RedisDownWithOnFailureDenyRefusesLimitedAgentsWith503) {
  start(2, limits("{rpm: 600}").with_on_failure("deny"));
  ASSERT_EQ(chat(*sidecars[0])->status, 200);
  redis.stop();
  ASSERT_TRUE(
      eventually([&] { return status(*sidecars[0])["redis"]["mode"].str() == "deny"; }, 10s));
  auto r = chat(*sidecars[0]);
  ASSERT_TRUE(is_openai_error(r, 503, "fleet_state_unavailable"));
  EXPECT_NE(r->body.find("on_failure is deny"), std::string::npos) << r->body;
  EXPECT_EQ(r->header("retry-after"), "1");
  // An agent without limits does not need Redis.
  auto bob = chat(*sidecars[0], kBobKey);
  EXPECT_EQ(bob->status, 200);

  ASSERT_TRUE(redis.start());
  EXPECT_TRUE(eventually([&] { return chat(*sidecars[0])->status == 200; }, 15s));
}

TEST_F(FleetTest, ASlowRedisTimesOutAndTheRequestIsNotHeld) {
  start(1, limits("{rpm: 600}").with_timeout("50ms"));
  ASSERT_TRUE(redis.pause(1500ms));
  // The lease call for this request times out after 50ms: on_failure local serves it.
  auto r = chat(*sidecars[0]);
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "none");
  EXPECT_GE(metric(scrape(*sidecars[0]), "sluice_redis_errors_total{kind=\"timeout\"}"), 1);
  EXPECT_EQ(status(*sidecars[0])["redis"]["mode"].str(), "local");
  // Once Redis answers again, the sidecar shares again.
  EXPECT_TRUE(
      eventually([&] { return status(*sidecars[0])["redis"]["mode"].str() == "shared"; }, 15s));
}

TEST_F(FleetTest, AFlushedRedisGetsItsScriptsAndStateBack) {
  start(2, limits("{rpm: 600}").with_budget("{usd: 100, per: day}"));
  ASSERT_EQ(chat(*sidecars[0])->status, 200);
  ASSERT_TRUE(redis.command({"SCRIPT", "FLUSH"}));
  ASSERT_TRUE(redis.flushall());
  // Requests go on; the scripts are loaded again transparently.
  for (int i = 0; i < 10; ++i) {
    for (auto& s : sidecars) ASSERT_EQ(chat(*s)->status, 200);
  }
  double noscript = 0;
  for (auto& s : sidecars) {
    noscript += std::max(0.0, metric(scrape(*s), "sluice_redis_errors_total{kind=\"noscript\"}"));
  }
  EXPECT_GE(noscript, 1);
  // The spend written since (each sidecar's whole spend, from its own account) is back.
  EXPECT_TRUE(eventually(
      [&] {
        auto keys = redis.command({"KEYS", prefix + "spend:fleet:*"});
        return keys && !keys->empty();
      },
      5s));
  EXPECT_TRUE(redis.command({"EXISTS", prefix + "rate:fleet:rpm"}) ==
              std::optional<std::string>("1"));
}

TEST_F(FleetTest, AReloadChangesASharedLimitAndKeepsTheFleetsUsage) {
  start(2, limits("{rpm: 5}"));
  int admitted = 0;
  for (int i = 0; i < 7; ++i) admitted += chat(*sidecars[0])->status == 200 ? 1 : 0;
  EXPECT_EQ(admitted, 5);
  EXPECT_EQ(chat(*sidecars[1])->status, 429) << "the other sidecar did not see the fleet's usage";

  reload_all(limits("{rpm: 8}"));
  admitted = 0;
  for (int i = 0; i < 5; ++i) admitted += chat(*sidecars[1])->status == 200 ? 1 : 0;
  EXPECT_EQ(admitted, 3) << "rpm 8 with 5 used leaves 3 for the whole fleet";
  EXPECT_EQ(chat(*sidecars[0])->status, 429);
}

TEST_F(FleetTest, TpmReservationsAreSettledInTheFleetsBucket) {
  // tpm 6000 drains 100 tokens a second: the bucket's level is read against the time taken.
  start(2, limits("{tpm: 6000}"));
  const auto begin = Clock::now();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(chat(*sidecars[static_cast<size_t>(i % 2)])->status, 200);
  // What the requests really used, from both ledgers.
  int64_t used = 0;
  ASSERT_TRUE(eventually(
      [&] {
        used = 0;
        size_t rows = 0;
        for (const auto& ledger : ledgers) {
          auto r = read_ledger_rows(ledger);
          if (!r) return false;
          rows += r->size();
          for (const auto& row : *r) used += row.input + row.output;
        }
        return rows == 20;
      },
      5s));
  ASSERT_GT(used, 0);
  // Each request reserved prompt + max_tokens and was settled with its usage. Once the refunds
  // reached Redis (≤ 100 ms) and the workers gave back their unused leases (after a second
  // idle), the fleet's level is the usage, less what drained meanwhile.
  std::optional<std::string> level;
  double seconds = 0;
  ASSERT_TRUE(eventually(
      [&] {
        level = redis.command({"HGET", prefix + "rate:fleet:tpm", "level"});
        seconds = std::chrono::duration<double>(Clock::now() - begin).count();
        return level && !level->empty() && std::stod(*level) <= static_cast<double>(used) + 1;
      },
      5s))
      << "level " << (level ? *level : "?") << ", used " << used;
  EXPECT_GE(std::stod(*level), static_cast<double>(used) - 100 * seconds - 1)
      << "the bucket lost usage: used " << used << " in " << seconds << " s";
}

TEST_F(FleetTest, AConcurrencyCapHoldsAcrossSidecars) {
  start(2, limits("{concurrent: 2}"));
  ASSERT_TRUE(mock.control("slow:2000", 2));
  std::optional<HttpResponse> slow[2];
  std::thread a([&] { slow[0] = chat(*sidecars[0]); });
  std::thread b([&] { slow[1] = chat(*sidecars[1]); });
  ASSERT_TRUE(eventually(
      [&] {
        auto stats = mock.stats();
        return stats && (*stats)["requests_total"].as_int() >= 2;
      },
      5s));
  // Two in flight across the fleet: a third, on either sidecar, is refused.
  auto third = chat(*sidecars[0]);
  EXPECT_TRUE(is_openai_error(third, 429, "rate_limit_exceeded"));
  auto fourth = chat(*sidecars[1]);
  EXPECT_TRUE(is_openai_error(fourth, 429, "rate_limit_exceeded"));
  a.join();
  b.join();
  EXPECT_EQ(slow[0]->status, 200);
  EXPECT_EQ(slow[1]->status, 200);
  // Their slots went back to the fleet.
  EXPECT_TRUE(eventually([&] { return chat(*sidecars[1])->status == 200; }, 5s));
}

}  // namespace
}  // namespace sluice::test
