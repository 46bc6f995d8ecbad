// RoutePlan::init, which runs once per request, plus walking the whole plan with next() (what a
// request that fails over to the last fallback does). One group per strategy, each with three
// targets on three providers and a two-target fallback group, so the fallback walk is included.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "core/config/loader.h"
#include "core/filter/request_context.h"
#include "core/filter/snapshot.h"
#include "core/server/router.h"

namespace sluice::bench {
namespace {

std::string router_config_text() {
  return "listen: 127.0.0.1:0\n"
         "admin: 127.0.0.1:0\n"
         "workers: 1\n"
         "providers:\n"
         "  bench_router_a: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
         "  bench_router_b: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
         "  bench_router_c: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
         "models:\n"
         "  spare:\n"
         "    targets: [{provider: bench_router_b, model: s1}, {provider: bench_router_c, model: "
         "s2}]\n"
         "  by_priority:\n"
         "    strategy: priority\n"
         "    targets: [{provider: bench_router_a, model: m1}, {provider: bench_router_b, model: "
         "m2}, {provider: bench_router_c, model: m3}]\n"
         "    fallbacks: [spare]\n"
         "  by_weight:\n"
         "    strategy: weighted\n"
         "    targets: [{provider: bench_router_a, model: m1, weight: 5}, {provider: "
         "bench_router_b, model: m2}, {provider: bench_router_c, model: m3}]\n"
         "    fallbacks: [spare]\n"
         "  by_load:\n"
         "    strategy: least_busy\n"
         "    targets: [{provider: bench_router_a, model: m1}, {provider: bench_router_b, model: "
         "m2}, {provider: bench_router_c, model: m3}]\n"
         "    fallbacks: [spare]\n"
         "  by_latency:\n"
         "    strategy: latency\n"
         "    targets: [{provider: bench_router_a, model: m1}, {provider: bench_router_b, model: "
         "m2}, {provider: bench_router_c, model: m3}]\n"
         "    fallbacks: [spare]\n"
         "filters:\n"
         "  - model_alias: {}\n"
         "state: {ledger: \"\"}\n"
         "access_log: {path: \"\", format: json}\n";
}

struct RouterFixture {
  explicit RouterFixture(const std::string& group) {
    auto config = config::load_config_text(router_config_text(), "bench.yaml");
    snapshot = filter::ConfigSnapshot::build(config, 1);
    ctx.snapshot = snapshot.get();
    ctx.config = &snapshot->config();
    ctx.model_group = &snapshot->config().models.at(group);
  }
  std::shared_ptr<const filter::ConfigSnapshot> snapshot;
  filter::RequestContext ctx;
};

// init() and the first candidate: the common case (the first target answers).
void plan_first(benchmark::State& state, const std::string& group) {
  RouterFixture fx(group);
  server::RoutePlan plan;
  for (auto _ : state) {
    plan.init(fx.ctx, *fx.snapshot);
    benchmark::DoNotOptimize(plan.next());
  }
}

// init() and every candidate of the group and its fallback.
void plan_walk(benchmark::State& state, const std::string& group) {
  RouterFixture fx(group);
  server::RoutePlan plan;
  for (auto _ : state) {
    plan.init(fx.ctx, *fx.snapshot);
    while (const filter::Candidate* c = plan.next()) benchmark::DoNotOptimize(c);
  }
}

void BM_RoutePlan_Priority_First(benchmark::State& s) {
  plan_first(s, "by_priority");
}
void BM_RoutePlan_Weighted_First(benchmark::State& s) {
  plan_first(s, "by_weight");
}
void BM_RoutePlan_LeastBusy_First(benchmark::State& s) {
  plan_first(s, "by_load");
}
void BM_RoutePlan_Latency_First(benchmark::State& s) {
  plan_first(s, "by_latency");
}
void BM_RoutePlan_Priority_Walk(benchmark::State& s) {
  plan_walk(s, "by_priority");
}
void BM_RoutePlan_Weighted_Walk(benchmark::State& s) {
  plan_walk(s, "by_weight");
}

BENCHMARK(BM_RoutePlan_Priority_First);
BENCHMARK(BM_RoutePlan_Weighted_First);
BENCHMARK(BM_RoutePlan_LeastBusy_First);
BENCHMARK(BM_RoutePlan_Latency_First);
BENCHMARK(BM_RoutePlan_Priority_Walk);
BENCHMARK(BM_RoutePlan_Weighted_Walk);

}  // namespace
}  // namespace sluice::bench
