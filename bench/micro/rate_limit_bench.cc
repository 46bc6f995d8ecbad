// The rate_limit filter's admission path as the default chain runs it on every request:
// create (arena) → on_request (gate, rpm bucket, tpm reservation, six x-ratelimit-* headers) →
// on_complete (leave, reconcile with the reported usage). One agent with the limits of
// DESIGN's example, on a clock that runs fast enough that they never refuse; on one thread,
// and on two threads hammering the same agent (the per-bucket mutexes and the gate's atomic
// are then contended, as two workers serving one agent are). Plus an agent without limits:
// the cost the filter adds for everyone else.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/filter/filter.h"
#include "core/filter/request_context.h"
#include "core/state/process_state.h"
#include "filters/rate_limit/rate_limit_filter.h"

namespace sluice::bench {
namespace {

// The steady clock running a million times faster (from the first read on): realistic limits
// (and so realistic header values) then never refuse, however many iterations run, and the
// clock stays one monotonic clock for every thread.
state::SteadyTime racing_clock() {
  static const state::SteadyTime start = std::chrono::steady_clock::now();
  return start + (std::chrono::steady_clock::now() - start) * 1'000'000;
}

struct RateLimitFixture {
  RateLimitFixture() : states(nullptr) {
    config::Agent limited;
    limited.name = "limited";
    limited.limits.rpm = 600;
    limited.limits.tpm = 200'000;
    limited.limits.concurrent = 64;
    config.agents.emplace("limited", limited);
    config::Agent free;
    free.name = "free";
    config.agents.emplace("free", free);
    factory = filters::rate_limit::make_rate_limit_factory(config, {}, states, &racing_clock);
  }

  state::ProcessState states;
  config::Config config;
  std::unique_ptr<filter::FilterFactory> factory;
};

// A fresh fixture (fresh buckets) for each run, made by thread 0 and shared by the run's
// threads.
std::unique_ptr<RateLimitFixture> g_fixture;

void run_admission(benchmark::State& state, const char* agent) {
  if (state.thread_index() == 0) g_fixture = std::make_unique<RateLimitFixture>();
  RateLimitFixture* fx = nullptr;  // read after the start barrier of the timed loop
  const config::Agent* who = nullptr;
  filter::RequestContext ctx;
  for (auto _ : state) {
    if (fx == nullptr) {
      fx = g_fixture.get();
      who = &fx->config.agents.at(agent);
    }
    ctx.endpoint = filter::Endpoint::ChatCompletions;
    ctx.agent = who;
    ctx.prompt_tokens_estimate = 120;
    ctx.fields.max_tokens = 256;
    filter::Filter* f = fx->factory->create(ctx);
    if (f->on_request(ctx) != filter::RequestStatus::Continue) {
      state.SkipWithError("the filter refused the request");
      break;
    }
    ctx.attempts = 1;
    ctx.usage.source = usage::Usage::Source::Reported;
    ctx.usage.input_tokens = 118;
    ctx.usage.output_tokens = 40;
    f->on_complete(ctx);
    benchmark::DoNotOptimize(ctx.extra_response_headers().data());
    ctx.reset();
    ctx.usage = usage::Usage{};
  }
}

void BM_RateLimit_LimitedAgent(benchmark::State& state) {
  run_admission(state, "limited");
}
void BM_RateLimit_UnlimitedAgent(benchmark::State& state) {
  run_admission(state, "free");
}

BENCHMARK(BM_RateLimit_LimitedAgent);
BENCHMARK(BM_RateLimit_LimitedAgent)->Threads(2);
BENCHMARK(BM_RateLimit_UnlimitedAgent);

}  // namespace
}  // namespace sluice::bench
