// The cost filter as agents and operators meet it, on a fake UTC clock and a private
// ProcessState: what each request is charged (ctx.cost_usd) and at which price (overrides,
// local providers, unpriced models, estimated usage), budgets — the worst case reserved at
// admission, the 429 budget_exceeded refusal and its retry-after, the settle at completion,
// day / month / total periods — and a reload that keeps the spend.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/config/loader.h"
#include "core/config/node_reader.h"
#include "core/cost/price_file.h"
#include "core/filter/registry.h"
#include "core/filter/request_context.h"
#include "core/metrics/metrics.h"
#include "core/state/budget_gauges.h"
#include "core/state/process_state.h"
#include "filters/cost/cost_filter.h"
#include "filters/cost/local_provider.h"

namespace sluice::filters::cost {
namespace {

using namespace std::chrono;
using filter::Endpoint;
using filter::RequestContext;
using filter::RequestStatus;
using ::testing::HasSubstr;
using Source = usage::Usage::Source;

// A UTC time of day on a date.
state::WallTime utc(int y, unsigned m, unsigned d, int h = 0, int min = 0, int s = 0, int ms = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours{h} + minutes{min} + seconds{s} +
         milliseconds{ms};
}

state::WallTime g_now = utc(2026, 11, 21, 12);
state::WallTime fake_now() {
  return g_now;
}

config::Provider provider(std::string name, std::string type, std::string host) {
  config::Provider p;
  p.name = std::move(name);
  p.type = std::move(type);
  p.url.host = std::move(host);
  return p;
}

config::Agent agent(std::string name, std::optional<config::Budget> budget) {
  config::Agent a;
  a.name = std::move(name);
  a.budget = std::move(budget);
  return a;
}

config::ModelGroup group(std::string name, std::vector<config::Target> targets,
                         std::vector<std::string> fallbacks = {}) {
  config::ModelGroup g;
  g.name = std::move(name);
  g.targets = std::move(targets);
  g.fallbacks = std::move(fallbacks);
  return g;
}

config::Config test_config() {
  config::Config c;
  c.source_path = "/etc/sluice/sluice.yaml";
  c.base_dir = "/etc/sluice";
  c.providers.emplace("openai", provider("openai", "openai", "api.openai.com"));
  c.providers.emplace("ollama", provider("ollama", "openai", "127.0.0.1"));
  c.providers.emplace("demo", provider("demo", "mock", ""));
  c.default_provider = "openai";
  // Prices (inline, below): big $10/$30, small $1/$2 per 1M; llama is not listed.
  c.models.emplace("big", group("big", {{"openai", "test-big", 1}}));
  c.models.emplace("small", group("small", {{"openai", "test-small", 1}}));
  c.models.emplace("small-then-big",
                   group("small-then-big", {{"openai", "test-small", 1}}, {"small", "big"}));
  c.models.emplace("local", group("local", {{"ollama", "llama", 1}}));
  c.agents.emplace("sofia", agent("sofia", config::Budget{1.00, "day"}));
  c.agents.emplace("mona", agent("mona", config::Budget{1.00, "month"}));
  c.agents.emplace("tara", agent("tara", config::Budget{1.00, "total"}));
  c.agents.emplace("free", agent("free", std::nullopt));
  return c;
}

constexpr const char* kSettings =
    "{prices: {test-big: {input: 10, output: 30}, test-small: {input: 1, output: 2, "
    "cached_input: 0.5}}, default_max_tokens: 1000}";

CostSettings settings_of(const std::string& yaml, const config::Config& c) {
  config::NodeReader reader(YAML::Load(yaml), "filters[4].cost", c.source_path);
  return read_cost_settings(reader, c);
}

std::string settings_error(const std::string& yaml, const config::Config& c) {
  try {
    settings_of(yaml, c);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

struct Call {
  std::unique_ptr<RequestContext> ctx = std::make_unique<RequestContext>();
  filter::Filter* filter = nullptr;
  RequestStatus status = RequestStatus::Continue;

  std::string header(std::string_view name) const {
    std::string_view all = ctx->extra_response_headers();
    std::string key = std::string(name) + ": ";
    for (size_t at = 0; at < all.size();) {
      size_t end = all.find("\r\n", at);
      std::string_view line = all.substr(at, end - at);
      if (line.substr(0, key.size()) == key) return std::string(line.substr(key.size()));
      at = end + 2;
    }
    return "";
  }
  bool refused() const { return status == RequestStatus::Respond; }
  const filter::LocalReply& reply() const { return ctx->local_reply(); }
};

class CostFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_now = utc(2026, 11, 21, 12);
    factory = make(config);
  }

  std::unique_ptr<filter::FilterFactory> make(const config::Config& c,
                                              const std::string& yaml = kSettings) {
    return make_cost_factory(c, settings_of(yaml, c), states, &fake_now);
  }

  const config::Agent* who(const std::string& name) const { return &config.agents.at(name); }
  state::AgentState& account(const std::string& name) { return *states.agent(name); }
  double spent_today(const std::string& name) {
    return account(name).spend().spent(state::BudgetPeriod::Day, g_now);
  }

  // on_request of a chat completion naming `group_name` ("" = no model_alias: default_provider
  // gets `model`), with a prompt of `prompt` tokens and max_tokens (nullopt: not set).
  Call request(const config::Agent* agent, const std::string& group_name, uint64_t prompt = 1000,
               std::optional<int64_t> max_tokens = 1000, const std::string& model = "",
               const filter::FilterFactory* f = nullptr) {
    Call call;
    RequestContext& ctx = *call.ctx;
    ctx.endpoint = Endpoint::ChatCompletions;
    ctx.agent = agent;
    ctx.fields.has_model = true;
    ctx.fields.model = model.empty() ? group_name : model;
    ctx.fields.max_tokens = max_tokens;
    ctx.prompt_tokens_estimate = prompt;
    if (!group_name.empty()) ctx.model_group = &config.models.at(group_name);
    call.filter = (f != nullptr ? f : factory.get())->create(ctx);
    call.status = call.filter->on_request(ctx);
    return call;
  }

  // The request ends, answered by `model` on `provider_name` with this usage.
  void complete(Call& call, const std::string& provider_name, std::string_view model,
                uint64_t input, uint64_t output, Source source = Source::Reported,
                uint64_t cached = 0) {
    RequestContext& ctx = *call.ctx;
    ctx.attempts = 1;
    ctx.last_candidate.provider = &config.providers.at(provider_name);
    ctx.last_candidate.physical_model = model;
    ctx.usage.source = source;
    ctx.usage.input_tokens = input;
    ctx.usage.output_tokens = output;
    ctx.usage.cached_input_tokens = cached;
    call.filter->on_complete(ctx);
  }

  // Ends a request that never reached a provider (refused later in the chain).
  static void complete_unsent(Call& call) { call.filter->on_complete(*call.ctx); }

  metrics::Metrics metrics;
  state::ProcessState states{&metrics};
  config::Config config = test_config();
  std::unique_ptr<filter::FilterFactory> factory;
};

// ---- what a request costs ----------------------------------------------------------------------

TEST_F(CostFilterTest, ChargesTheUsageAtThePriceOfTheModelThatAnswered) {
  Call call = request(who("free"), "small-then-big");
  ASSERT_FALSE(call.refused());
  // The fallback answered: priced as test-big, 2000 × $10 + 500 × $30 per 1M.
  complete(call, "openai", "test-big", 2000, 500);
  EXPECT_DOUBLE_EQ(call.ctx->cost_usd, 0.035);
  EXPECT_FALSE(call.ctx->unpriced);
  // An agent without a budget has its spend tracked all the same.
  EXPECT_DOUBLE_EQ(spent_today("free"), 0.035);
  EXPECT_DOUBLE_EQ(account("free").spend().spent(state::BudgetPeriod::Total, g_now), 0.035);
}

TEST_F(CostFilterTest, CachedTokensAtTheCachedPrice) {
  Call call = request(nullptr, "small");  // anonymous: priced, no account
  // 1200 prompt of which 200 cached: 1000 × $1 + 200 × $0.5 + 300 × $2 per 1M.
  complete(call, "openai", "test-small", 1200, 300, Source::Reported, 200);
  EXPECT_DOUBLE_EQ(call.ctx->cost_usd, 0.0017);
}

TEST_F(CostFilterTest, InlinePricesOverrideOneDefaultAndKeepTheOthers) {
  const CostSettings s = settings_of("{prices: {gpt-4o: {input: 1, output: 2}}}", config);
  EXPECT_EQ(*s.prices.lookup("gpt-4o"), (sluice::cost::Price{1, 2, 1, 1}));
  EXPECT_EQ(*s.prices.lookup("gpt-4o-2024-08-06"), (sluice::cost::Price{1, 2, 1, 1}));
  EXPECT_EQ(*s.prices.lookup("gpt-4o-mini"), *sluice::cost::default_prices().exact("gpt-4o-mini"));
  EXPECT_EQ(s.prices.size(), sluice::cost::default_prices().size());
  EXPECT_TRUE(s.estimate_missing_usage);
  EXPECT_EQ(s.default_max_tokens, 4096u);
}

TEST_F(CostFilterTest, PricesFileIsRelativeToTheConfigFile) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "sluice_cost_filter_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "my-prices.yaml");
    out << "test-big: {input: 20, output: 60}\nclaude-sonnet-4-5: {input: 1, output: 2}\n";
  }
  config::Config c = test_config();
  c.base_dir = dir.string();
  c.source_path = (dir / "sluice.yaml").string();
  const CostSettings s = settings_of("{prices: my-prices.yaml}", c);
  EXPECT_EQ(*s.prices.lookup("test-big"), (sluice::cost::Price{20, 60, 20, 20}));
  EXPECT_EQ(*s.prices.lookup("claude-sonnet-4-5"), (sluice::cost::Price{1, 2, 1, 1}));
  EXPECT_NE(s.prices.lookup("gpt-4o"), nullptr);  // the defaults stay under the file

  {
    std::ofstream out(dir / "my-prices.yaml");
    out << "test-big: {input: 20, output: 60}\nx: {input: 1}\n";
  }
  EXPECT_EQ(settings_error("{prices: my-prices.yaml}", c),
            (dir / "my-prices.yaml").string() +
                ":2:4: x: a price needs input and output (USD per 1M tokens), e.g. {input: 2.5, "
                "output: 10, cached_input: 1.25}");
  std::filesystem::remove_all(dir);
  EXPECT_THAT(settings_error("{prices: my-prices.yaml}", c),
              HasSubstr("filters[4].cost.prices: cannot read the prices file " +
                        (dir / "my-prices.yaml").string() + ": No such file or directory"));
}

TEST_F(CostFilterTest, SettingsErrorsNameTheKey) {
  EXPECT_THAT(settings_error("{price: prices.yaml}", config), HasSubstr("did you mean \"prices\""));
  EXPECT_THAT(settings_error("{prices: [a, b]}", config), HasSubstr("filters[4].cost.prices:"));
  EXPECT_THAT(settings_error("{prices: {gpt-4o: {input: -1, output: 1}}}", config),
              HasSubstr("filters[4].cost.prices.gpt-4o.input: must be from 0 to 1000000"));
  EXPECT_THAT(settings_error("{prices: {gpt-4o: {input: 1, output: 1, cahced_input: 1}}}", config),
              HasSubstr("did you mean \"cached_input\""));
  EXPECT_THAT(settings_error("{estimate_missing_usage: maybe}", config),
              HasSubstr("filters[4].cost.estimate_missing_usage"));
  EXPECT_THAT(settings_error("{default_max_tokens: -1}", config),
              HasSubstr("filters[4].cost.default_max_tokens"));
}

TEST_F(CostFilterTest, LocalProvidersCostNothingAndAreNotUnpriced) {
  ::testing::internal::CaptureStderr();
  Call call = request(who("free"), "local");
  complete(call, "ollama", "llama", 5000, 5000);
  Call mock = request(who("free"), "", 10, 10, "mock-fast");
  complete(mock, "demo", "mock-fast", 5000, 5000);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(call.ctx->cost_usd, 0);
  EXPECT_FALSE(call.ctx->unpriced);
  EXPECT_EQ(mock.ctx->cost_usd, 0);
  EXPECT_FALSE(mock.ctx->unpriced);
  EXPECT_EQ(err, "");
  // A model the table does list is charged its price even on a local provider.
  Call listed = request(who("free"), "local");
  complete(listed, "ollama", "test-small", 1000, 0);
  EXPECT_DOUBLE_EQ(listed.ctx->cost_usd, 0.001);
}

TEST(LocalProvider, LoopbackHostsAndMock) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost", "0:0:0:0:0:0:0:1"}) {
    EXPECT_TRUE(is_local_provider(provider("p", "openai", host))) << host;
  }
  for (const char* host : {"api.openai.com", "128.0.0.1", "10.0.0.1", "127.example.com", "::2",
                           "localhost.evil.com"}) {
    EXPECT_FALSE(is_local_provider(provider("p", "openai", host))) << host;
  }
  EXPECT_TRUE(is_local_provider(provider("p", "mock", "")));
  // A plugin's provider type is not assumed local even on loopback: its price is unknown.
  EXPECT_FALSE(is_local_provider(provider("p", "anthropic", "127.0.0.1")));
}

TEST_F(CostFilterTest, UnpricedModelCostsZeroIsFlaggedAndWarnedOnce) {
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) {
    Call call = request(who("free"), "", 10, 10, "mystery-model-7");
    complete(call, "openai", "mystery-model-7", 1000, 1000);
    EXPECT_EQ(call.ctx->cost_usd, 0);
    EXPECT_TRUE(call.ctx->unpriced);
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  const std::string warning =
      "no price for model \"mystery-model-7\" (provider openai): charged 0; add it to prices";
  EXPECT_THAT(err, HasSubstr(warning));
  EXPECT_EQ(err.find(warning), err.rfind(warning));
  EXPECT_EQ(spent_today("free"), 0);
}

TEST_F(CostFilterTest, EstimatedUsageIsChargedUnlessTurnedOff) {
  Call call = request(who("free"), "big");
  complete(call, "openai", "test-big", 1000, 100, Source::Estimated);
  EXPECT_DOUBLE_EQ(call.ctx->cost_usd, 0.013);  // 1000 × $10 + 100 × $30 per 1M

  auto off = make(config,
                  "{prices: {test-big: {input: 10, output: 30}}, "
                  "estimate_missing_usage: false}");
  Call uncharged = request(who("free"), "big", 1000, 1000, "", off.get());
  complete(uncharged, "openai", "test-big", 1000, 100, Source::Estimated);
  EXPECT_EQ(uncharged.ctx->cost_usd, 0);
  Call reported = request(who("free"), "big", 1000, 1000, "", off.get());
  complete(reported, "openai", "test-big", 1000, 100, Source::Reported);
  EXPECT_DOUBLE_EQ(reported.ctx->cost_usd, 0.013);
  EXPECT_DOUBLE_EQ(spent_today("free"), 0.026);
}

TEST_F(CostFilterTest, NoUpstreamAnswerCostsNothing) {
  Call call = request(who("free"), "big");
  complete_unsent(call);
  EXPECT_EQ(call.ctx->cost_usd, 0);
  EXPECT_FALSE(call.ctx->unpriced);
}

// ---- budgets -----------------------------------------------------------------------------------

TEST_F(CostFilterTest, ReservesTheWorstCaseAndSettlesToTheActualCost) {
  Call call = request(who("sofia"), "big", 1000, 1000);
  ASSERT_FALSE(call.refused());
  // 1000 × $10 + 1000 × $30 per 1M.
  EXPECT_DOUBLE_EQ(account("sofia").spend().reserved(), 0.04);
  EXPECT_EQ(spent_today("sofia"), 0);
  complete(call, "openai", "test-big", 800, 100);
  EXPECT_DOUBLE_EQ(call.ctx->cost_usd, 0.011);
  EXPECT_EQ(account("sofia").spend().reserved(), 0);
  EXPECT_DOUBLE_EQ(spent_today("sofia"), 0.011);
  // The gauge shows what is left once /metrics refreshes it (every scrape).
  ASSERT_NE(account("sofia").budget_remaining_gauge(), nullptr);
  state::refresh_budget_gauges(config, states, g_now);
  EXPECT_DOUBLE_EQ(account("sofia").budget_remaining_gauge()->Value(), 1.0 - 0.011);
}

TEST_F(CostFilterTest, WorstCaseIsTheDearestModelTheRouterCouldPick) {
  // test-small first, big among the fallbacks: reserved at test-big's price.
  Call call = request(who("sofia"), "small-then-big", 1000, 1000);
  EXPECT_DOUBLE_EQ(account("sofia").spend().reserved(), 0.04);
  complete_unsent(call);
  // Only small: at its price. No max_tokens: default_max_tokens (1000).
  Call small = request(who("sofia"), "small", 1000, std::nullopt);
  EXPECT_DOUBLE_EQ(account("sofia").spend().reserved(), 0.003);
  complete_unsent(small);
  // No model_alias: the requested model on default_provider.
  Call direct = request(who("sofia"), "", 1000, 2000, "test-big");
  EXPECT_DOUBLE_EQ(account("sofia").spend().reserved(), 0.07);
  complete_unsent(direct);
  // Embeddings reserve the prompt only.
  Call embed;
  embed.ctx->endpoint = Endpoint::Embeddings;
  embed.ctx->agent = who("sofia");
  embed.ctx->model_group = &config.models.at("big");
  embed.ctx->prompt_tokens_estimate = 1000;
  embed.filter = factory->create(*embed.ctx);
  ASSERT_EQ(embed.filter->on_request(*embed.ctx), RequestStatus::Continue);
  EXPECT_DOUBLE_EQ(account("sofia").spend().reserved(), 0.01);
  complete_unsent(embed);
  EXPECT_EQ(account("sofia").spend().reserved(), 0);
}

TEST_F(CostFilterTest, RequestRefusedLaterInTheChainReleasesItsReservation) {
  Call call = request(who("sofia"), "big");
  ASSERT_GT(account("sofia").spend().reserved(), 0);
  complete_unsent(call);  // e.g. the circuit breaker or the router answered 503
  EXPECT_EQ(account("sofia").spend().reserved(), 0);
  EXPECT_EQ(spent_today("sofia"), 0);
}

TEST_F(CostFilterTest, OverBudgetIsRefusedWith429AndRetryAfterToMidnightUtc) {
  g_now = utc(2026, 11, 21, 22, 0, 0, 500);
  account("sofia").spend().charge(0.97, g_now);
  Call call = request(who("sofia"), "big", 1000, 1000);  // $0.04 more would pass $1.00
  ASSERT_TRUE(call.refused());
  EXPECT_EQ(call.reply().status, 429);
  EXPECT_EQ(call.reply().type, "rate_limit_error");
  EXPECT_EQ(call.reply().code, "budget_exceeded");
  EXPECT_EQ(call.reply().message,
            "Budget exceeded for agent \"sofia\": spent $0.97 of $1.00 per day; this request may "
            "cost up to $0.04. The budget resets at 2026-11-22T00:00:00Z.");
  // 1h59m59.5s to midnight: whole seconds rounded up, and the milliseconds.
  EXPECT_EQ(call.header("retry-after"), "7200");
  EXPECT_EQ(call.header("retry-after-ms"), "7199500");
  EXPECT_EQ(account("sofia").spend().reserved(), 0);
  EXPECT_DOUBLE_EQ(account("sofia").rate_limited().budget->Value(), 1);
  EXPECT_NEAR(account("sofia").budget_remaining_gauge()->Value(), 0.03, 1e-12);
  complete_unsent(call);
  EXPECT_EQ(call.ctx->cost_usd, 0);
  EXPECT_DOUBLE_EQ(spent_today("sofia"), 0.97);

  // A smaller request still fits: 1000 × $1 + 1000 × $2 per 1M at test-small.
  Call small = request(who("sofia"), "small", 1000, 1000);
  EXPECT_FALSE(small.refused());
  complete_unsent(small);
}

TEST_F(CostFilterTest, RefusalCountsWhatRequestsInFlightHold) {
  account("sofia").spend().charge(0.90, g_now);
  Call first = request(who("sofia"), "big", 1000, 1000);  // holds $0.04: 0.94
  ASSERT_FALSE(first.refused());
  Call second = request(who("sofia"), "big", 1000, 1000);  // 0.98
  ASSERT_FALSE(second.refused());
  Call third = request(who("sofia"), "big", 1000, 1000);  // 1.02 > 1.00
  ASSERT_TRUE(third.refused());
  EXPECT_THAT(third.reply().message,
              HasSubstr("spent $0.90 of $1.00 per day ($0.08 more reserved by requests in "
                        "flight); this request may cost up to $0.04."));
  complete(first, "openai", "test-big", 100, 0);  // cost $0.001: releases $0.04
  Call fourth = request(who("sofia"), "big", 1000, 1000);
  EXPECT_FALSE(fourth.refused());
  complete_unsent(second);
  complete_unsent(fourth);
  EXPECT_DOUBLE_EQ(spent_today("sofia"), 0.901);
}

TEST_F(CostFilterTest, DayBudgetResetsAtMidnightUtc) {
  g_now = utc(2026, 11, 21, 23, 59, 59);
  account("sofia").spend().charge(1.00, g_now);
  EXPECT_TRUE(request(who("sofia"), "small").refused());
  g_now = utc(2026, 11, 22, 0, 0, 0);
  Call next_day = request(who("sofia"), "small");
  EXPECT_FALSE(next_day.refused());
  complete(next_day, "openai", "test-small", 1000, 0);
  EXPECT_DOUBLE_EQ(spent_today("sofia"), 0.001);
}

TEST_F(CostFilterTest, MonthBudgetResetsOnTheFirst) {
  g_now = utc(2026, 11, 10, 9);
  account("mona").spend().charge(1.00, g_now);
  g_now = utc(2026, 11, 30, 23, 59, 59);  // days pass, the month does not
  Call refused = request(who("mona"), "small");
  ASSERT_TRUE(refused.refused());
  EXPECT_THAT(refused.reply().message,
              HasSubstr("of $1.00 per month; this request may cost up to $0.003. The budget "
                        "resets at 2026-12-01T00:00:00Z."));
  EXPECT_EQ(refused.header("retry-after"), "1");
  g_now = utc(2026, 12, 1);
  EXPECT_FALSE(request(who("mona"), "small").refused());
}

TEST_F(CostFilterTest, TotalBudgetNeverResetsAndSaysSo) {
  g_now = utc(2026, 1, 1);
  account("tara").spend().charge(1.00, g_now);
  g_now = utc(2027, 6, 1);
  Call call = request(who("tara"), "small");
  ASSERT_TRUE(call.refused());
  EXPECT_EQ(call.reply().message,
            "Budget exceeded for agent \"tara\": spent $1.00 of $1.00 in total; this request may "
            "cost up to $0.003. A total budget never resets: raise agents.tara.budget.usd to "
            "admit more.");
  EXPECT_EQ(call.header("retry-after"), "");
  EXPECT_EQ(call.header("retry-after-ms"), "");
}

TEST_F(CostFilterTest, AReloadKeepsTheSpend) {
  Call call = request(who("sofia"), "big");
  complete(call, "openai", "test-big", 30000, 20000);  // $0.30 + $0.60
  EXPECT_DOUBLE_EQ(spent_today("sofia"), 0.9);
  // The new snapshot: its own config objects, the same process state.
  config::Config reloaded = test_config();
  auto next = make(reloaded);
  Call after;
  after.ctx->endpoint = Endpoint::ChatCompletions;
  after.ctx->agent = &reloaded.agents.at("sofia");
  after.ctx->model_group = &reloaded.models.at("big");
  after.ctx->prompt_tokens_estimate = 1000;
  after.ctx->fields.max_tokens = 10000;  // $0.01 + $0.30 > $0.10 left
  after.filter = next->create(*after.ctx);
  ASSERT_EQ(after.filter->on_request(*after.ctx), RequestStatus::Respond);
  EXPECT_THAT(after.ctx->local_reply().message, HasSubstr("spent $0.90 of $1.00 per day"));
  // A reload that raises the budget admits it, on the same spend.
  reloaded.agents.at("sofia").budget->usd = 2.00;
  auto raised = make(reloaded);
  after.ctx->reset();
  after.ctx->endpoint = Endpoint::ChatCompletions;
  after.ctx->agent = &reloaded.agents.at("sofia");
  after.ctx->model_group = &reloaded.models.at("big");
  after.ctx->prompt_tokens_estimate = 1000;
  after.ctx->fields.max_tokens = 10000;
  after.filter = raised->create(*after.ctx);
  EXPECT_EQ(after.filter->on_request(*after.ctx), RequestStatus::Continue);
  state::refresh_budget_gauges(reloaded, states, g_now);
  EXPECT_DOUBLE_EQ(account("sofia").budget_remaining_gauge()->Value(), 2.0 - 0.9 - 0.31);
  after.filter->on_complete(*after.ctx);
}

TEST_F(CostFilterTest, RequestsThatDoNotGoToAProviderAreNotReserved) {
  account("sofia").spend().charge(1.00, g_now);
  Call call;
  call.ctx->endpoint = Endpoint::Models;
  call.ctx->agent = who("sofia");
  call.filter = factory->create(*call.ctx);
  EXPECT_EQ(call.filter->on_request(*call.ctx), RequestStatus::Continue);
  call.filter->on_complete(*call.ctx);
}

TEST(CostFilterRegistry, RegisteredAsCost) {
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("cost");
  ASSERT_NE(builder, nullptr);
  config::Config c = test_config();
  config::NodeReader reader(YAML::Load("{}"), "filters[0].cost", "sluice.yaml");
  EXPECT_EQ((*builder)(reader, c)->name(), "cost");
}

TEST(CostFilterRegistry, WarnsWhenBudgetsCannotWorkInThisChainOrder) {
  config::Config c = test_config();
  for (const char* type : {"cost", "model_alias", "auth"}) {
    config::FilterSpec spec;
    spec.type = type;
    spec.key_path = "filters[" + std::to_string(c.filters.size()) + "]." + type;
    c.filters.push_back(spec);
  }
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("cost");
  ASSERT_NE(builder, nullptr);
  config::NodeReader reader(YAML::Load("{}"), "filters[0].cost", "sluice.yaml");
  ::testing::internal::CaptureStderr();
  (*builder)(reader, c);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("sluice.yaml:1:1: filters[0].cost: no auth filter before cost"));
  EXPECT_THAT(err, HasSubstr("filters[0].cost: model_alias comes after cost"));

  // auth, model_alias, cost: nothing to say.
  std::swap(c.filters[0].type, c.filters[2].type);
  c.filters[0].key_path = "filters[0].auth";
  c.filters[2].key_path = "filters[2].cost";
  config::NodeReader good(YAML::Load("{}"), "filters[2].cost", "sluice.yaml");
  ::testing::internal::CaptureStderr();
  (*builder)(good, c);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

// ---- config: a budget needs the cost filter ----------------------------------------------------

std::string load_error(const std::string& yaml) {
  try {
    config::load_config_text(yaml, "sluice.yaml");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(BudgetConfig, ABudgetWithoutTheCostFilterFailsTheLoad) {
  const std::string base =
      "listen: 127.0.0.1:8080\n"
      "providers: {demo: {type: mock}}\n"
      "agents:\n"
      "  sofia:\n"
      "    keys: []\n"
      "    budget: {usd: 5, per: day}\n";
  EXPECT_EQ(load_error(base + "filters:\n  - model_alias: {}\n"),
            "sluice.yaml:6:13: agents.sofia.budget: needs the cost filter in filters: add \"- "
            "cost: {}\" (after model_alias), or remove the budget");
  EXPECT_THAT(load_error(base), HasSubstr("agents.sofia.budget: needs the cost filter"));
  EXPECT_EQ(load_error(base + "filters:\n  - model_alias: {}\n  - cost: {}\n"), "<no error>");
}

}  // namespace
}  // namespace sluice::filters::cost
