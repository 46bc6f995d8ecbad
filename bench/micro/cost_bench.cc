// The cost filter's per-request work: the price lookup of the model that answered (exact name,
// a dated name resolved through the longest-key rule, a miss), the cost formula, and the whole
// filter as the chain runs it — create (arena) → on_request (budget reservation at the
// dearest target) → on_complete (price the usage, settle) — for an agent with a budget and one
// without. Compiled-in default prices, the real UTC clock.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/cost/price.h"
#include "core/cost/price_file.h"
#include "core/filter/filter.h"
#include "core/filter/request_context.h"
#include "core/state/process_state.h"
#include "filters/cost/cost_filter.h"

namespace sluice::bench {
namespace {

void BM_PriceLookup(benchmark::State& state, const char* model) {
  const cost::PriceTable& table = cost::default_prices();
  for (auto _ : state) {
    const cost::Price* price = table.lookup(model);
    benchmark::DoNotOptimize(price);
  }
}
BENCHMARK_CAPTURE(BM_PriceLookup, exact, "gpt-4o");
BENCHMARK_CAPTURE(BM_PriceLookup, dated, "claude-sonnet-4-5-20250929");
BENCHMARK_CAPTURE(BM_PriceLookup, prefixed_dated, "openai/gpt-4o-mini-2024-07-18");
BENCHMARK_CAPTURE(BM_PriceLookup, miss, "my-fine-tuned-model-v2-2025-01-01");

void BM_CostUsd(benchmark::State& state) {
  const cost::Price price{3, 15, 0.3, 3.75};
  usage::Usage u;
  u.source = usage::Usage::Source::Reported;
  u.input_tokens = 5100;
  u.cached_input_tokens = 3000;
  u.cache_write_tokens = 2000;
  u.output_tokens = 50;
  for (auto _ : state) {
    benchmark::DoNotOptimize(u);
    benchmark::DoNotOptimize(cost::cost_usd(price, u));
  }
}
BENCHMARK(BM_CostUsd);

struct CostFixture {
  CostFixture() : states(nullptr) {
    config::Provider openai;
    openai.name = "openai";
    openai.type = "openai";
    openai.url.host = "api.openai.com";
    config.providers.emplace("openai", openai);
    config.default_provider = "openai";
    config::ModelGroup quality;
    quality.name = "quality";
    quality.targets = {{"openai", "gpt-4o-mini", 1}, {"openai", "gpt-4o", 1}};
    config.models.emplace("quality", quality);
    config::Agent budgeted;
    budgeted.name = "budgeted";
    budgeted.budget = config::Budget{1e9, "day"};  // never refuses
    config.agents.emplace("budgeted", budgeted);
    config::Agent free;
    free.name = "free";
    config.agents.emplace("free", free);
    filters::cost::CostSettings settings;
    settings.prices = cost::default_prices();
    factory = filters::cost::make_cost_factory(config, std::move(settings), states);
  }

  state::ProcessState states;
  config::Config config;
  std::unique_ptr<filter::FilterFactory> factory;
};

void BM_CostFilterRequest(benchmark::State& state, const char* agent) {
  CostFixture fx;
  const config::Agent* who = &fx.config.agents.at(agent);
  const config::ModelGroup* group = &fx.config.models.at("quality");
  const config::Provider* provider = &fx.config.providers.at("openai");
  filter::RequestContext ctx;
  for (auto _ : state) {
    ctx.reset();
    ctx.endpoint = filter::Endpoint::ChatCompletions;
    ctx.agent = who;
    ctx.model_group = group;
    ctx.prompt_tokens_estimate = 1200;
    ctx.fields.max_tokens = 500;
    filter::Filter* f = fx.factory->create(ctx);
    benchmark::DoNotOptimize(f->on_request(ctx));
    ctx.attempts = 1;
    ctx.last_candidate.provider = provider;
    ctx.last_candidate.physical_model = "gpt-4o-2024-08-06";
    ctx.usage.source = usage::Usage::Source::Reported;
    ctx.usage.input_tokens = 1200;
    ctx.usage.cached_input_tokens = 200;
    ctx.usage.output_tokens = 300;
    f->on_complete(ctx);
    benchmark::DoNotOptimize(ctx.cost_usd);
  }
}
BENCHMARK_CAPTURE(BM_CostFilterRequest, with_budget, "budgeted");
BENCHMARK_CAPTURE(BM_CostFilterRequest, without_budget, "free");

}  // namespace
}  // namespace sluice::bench
