// The router as an operator configures it: which target a request of a model group is sent to
// first, and what it tries next, for each `strategy` — priority, weighted (smooth weighted
// round robin), least_busy and latency (with exploration) — and the fallback groups after.
//
// Provider and group state is process-wide (ProcessState::process()), so every test names its
// own providers and groups and puts back what it changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config/loader.h"
#include "core/filter/group_route.h"
#include "core/filter/request_context.h"
#include "core/filter/snapshot.h"
#include "core/server/router.h"
#include "core/state/process_state.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

config::EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// A config with the given providers (type openai) and `models:` block, and the model_alias
// chain.
std::shared_ptr<const filter::ConfigSnapshot> snapshot_of(const std::vector<std::string>& providers,
                                                          const std::string& models,
                                                          uint64_t generation = 1) {
  std::string y = "listen: 127.0.0.1:0\nproviders:\n";
  for (const auto& p : providers) {
    y += "  " + p + ": {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n";
  }
  y += "models:\n" + models + "filters:\n  - model_alias: {}\n";
  return filter::ConfigSnapshot::build(config::load_config_text(y, "router.yaml", no_env()),
                                       generation);
}

// Routes requests for one group of a snapshot, as the session does.
class Router {
 public:
  Router(std::shared_ptr<const filter::ConfigSnapshot> snapshot, const std::string& group)
      : snapshot_(std::move(snapshot)) {
    ctx_.snapshot = snapshot_.get();
    ctx_.config = &snapshot_->config();
    ctx_.model_group = &snapshot_->config().models.at(group);
  }

  // "provider/model" of every candidate of one request, in order.
  std::vector<std::string> plan() {
    plan_.init(ctx_, *snapshot_);
    return walk();
  }
  std::vector<std::string> plan_at(state::SteadyTime now) {
    plan_.init(ctx_, *snapshot_, now);
    return walk();
  }
  // The provider the next request goes to first.
  std::string first() { return plan().at(0); }
  std::string first_at(state::SteadyTime now) { return plan_at(now).at(0); }

  const filter::ConfigSnapshot& snapshot() const { return *snapshot_; }
  server::RoutePlan& route_plan() { return plan_; }
  filter::RequestContext& ctx() { return ctx_; }

 private:
  std::vector<std::string> walk() {
    std::vector<std::string> out;
    while (const filter::Candidate* c = plan_.next()) {
      out.push_back(c->provider->name + "/" + std::string(c->physical_model));
    }
    return out;
  }

  std::shared_ptr<const filter::ConfigSnapshot> snapshot_;
  filter::RequestContext ctx_;
  server::RoutePlan plan_;
};

state::ProviderState& provider_state(const std::string& name) {
  return *state::ProcessState::process().provider(name);
}

// How often each "provider/model" came first over `n` requests.
std::map<std::string, int> first_counts(Router& router, int n) {
  std::map<std::string, int> counts;
  for (int i = 0; i < n; ++i) ++counts[router.first()];
  return counts;
}

// ---- priority and fallbacks ------------------------------------------------------------------

const char* const kDiamond =
    "  prio_a:\n"
    "    targets: [{provider: prio_p1, model: a1}, {provider: prio_p2, model: a2}]\n"
    "    fallbacks: [prio_b, prio_c]\n"
    "  prio_b:\n"
    "    targets: [{provider: prio_p3, model: b1}]\n"
    "    fallbacks: [prio_d]\n"
    "  prio_c:\n"
    "    targets: [{provider: prio_p1, model: c1}]\n"
    "    fallbacks: [prio_d, prio_b]\n"
    "  prio_d:\n"
    "    targets: [{provider: prio_p2, model: d1}]\n";

TEST(RouterPriority, TargetsInListedOrderThenFallbackGroupsBreadthFirstEachOnce) {
  // a → [b, c]; b → [d]; c → [d, b]: d and b are reachable twice but offered once, and d
  // (a fallback of a fallback) only after both of a's own fallbacks.
  auto snapshot = snapshot_of({"prio_p1", "prio_p2", "prio_p3"}, kDiamond);
  Router a(snapshot, "prio_a");
  for (int i = 0; i < 3; ++i) {  // the same order every time
    EXPECT_THAT(a.plan(),
                ElementsAre("prio_p1/a1", "prio_p2/a2", "prio_p3/b1", "prio_p1/c1", "prio_p2/d1"));
  }
  Router c(snapshot, "prio_c");
  EXPECT_THAT(c.plan(), ElementsAre("prio_p1/c1", "prio_p2/d1", "prio_p3/b1"));
}

TEST(RouterPriority, AFallbackCycleEndsAfterEachGroupOnce) {
  // The loader refuses cycles (config_test); the router must end on one anyway, e.g. in a
  // config built some other way. d → a closes a → b → d → a.
  auto loaded = config::load_config_text(
      "listen: 127.0.0.1:0\nproviders:\n"
      "  prio_p1: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
      "  prio_p2: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
      "  prio_p3: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
      "models:\n" +
          std::string(kDiamond) + "filters:\n  - model_alias: {}\n",
      "router.yaml", no_env());
  auto cyclic = std::make_shared<config::Config>(*loaded);
  cyclic->models.at("prio_d").fallbacks.push_back("prio_a");
  Router d(filter::ConfigSnapshot::build(cyclic, 1), "prio_d");
  EXPECT_THAT(d.plan(),
              ElementsAre("prio_p2/d1", "prio_p1/a1", "prio_p2/a2", "prio_p3/b1", "prio_p1/c1"));
}

TEST(RouterPriority, EveryCandidateCarriesItsGroupTargetAndProviderState) {
  auto snapshot = snapshot_of({"carry_p1", "carry_p2"},
                              "  carry_main:\n"
                              "    targets: [{provider: carry_p1, model: m1}]\n"
                              "    fallbacks: [carry_spare]\n"
                              "  carry_spare:\n"
                              "    targets: [{provider: carry_p2, model: m2}]\n");
  Router router(snapshot, "carry_main");
  server::RoutePlan& plan = router.route_plan();
  plan.init(router.ctx(), *snapshot);
  const filter::Candidate* first = plan.next();
  const filter::Candidate* second = plan.next();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(plan.next(), nullptr);
  EXPECT_EQ(plan.offered(), 2u);
  EXPECT_EQ(first->group->name, "carry_main");
  EXPECT_EQ(first->physical_model, "m1");
  EXPECT_EQ(first->state, &provider_state("carry_p1"));
  EXPECT_EQ(second->group->name, "carry_spare");
  EXPECT_EQ(second->target->model, "m2");
  EXPECT_EQ(second->state, &provider_state("carry_p2"));
}

TEST(RouterFallback, AFallbackGroupIsOrderedOnlyWhenReached) {
  auto snapshot = snapshot_of({"lazy_p1", "lazy_p2", "lazy_p3"},
                              "  lazy_main:\n"
                              "    targets: [{provider: lazy_p1, model: m}]\n"
                              "    fallbacks: [lazy_spare]\n"
                              "  lazy_spare:\n"
                              "    strategy: weighted\n"
                              "    targets: [{provider: lazy_p2, model: m}, {provider: lazy_p3, "
                              "model: m}]\n");
  Router router(snapshot, "lazy_main");
  std::atomic<uint64_t>& spare_cursor =
      *snapshot->group_cursor(snapshot->config().models.at("lazy_spare"));
  const uint64_t before = spare_cursor.load();
  server::RoutePlan& plan = router.route_plan();

  // A request the first target serves leaves the fallback's round robin alone ...
  plan.init(router.ctx(), *snapshot);
  EXPECT_EQ(plan.candidates().size(), 3u) << "the whole plan is visible from the start";
  ASSERT_NE(plan.next(), nullptr);
  EXPECT_TRUE(plan.has_next());
  EXPECT_EQ(spare_cursor.load(), before);

  // ... one that falls back takes the fallback's next weighted turn, so the fallback's own
  // traffic is still split 1:1.
  std::map<std::string, int> fallback_first;
  for (int i = 0; i < 10; ++i) {
    plan.init(router.ctx(), *snapshot);
    plan.next();
    const filter::Candidate* c = plan.next();
    ASSERT_NE(c, nullptr);
    ++fallback_first[c->provider->name];
    ASSERT_NE(plan.next(), nullptr);
    EXPECT_FALSE(plan.has_next());
    EXPECT_EQ(plan.next(), nullptr);
  }
  EXPECT_EQ(spare_cursor.load(), before + 10);
  EXPECT_EQ(fallback_first["lazy_p2"], 5);
  EXPECT_EQ(fallback_first["lazy_p3"], 5);
}

TEST(RouterFallback, AllDownOnlyWhenEveryCandidateOfEveryGroupIsDown) {
  auto snapshot = snapshot_of({"alldown_p1", "alldown_p2"},
                              "  alldown_main:\n"
                              "    targets: [{provider: alldown_p1, model: m}]\n"
                              "    fallbacks: [alldown_spare]\n"
                              "  alldown_spare:\n"
                              "    targets: [{provider: alldown_p2, model: m}]\n");
  Router router(snapshot, "alldown_main");
  server::RoutePlan& plan = router.route_plan();
  provider_state("alldown_p1").set_health(state::HealthStatus::Down);
  plan.init(router.ctx(), *snapshot);
  EXPECT_FALSE(plan.all_down()) << "the fallback is up";
  provider_state("alldown_p2").set_health(state::HealthStatus::Down);
  plan.init(router.ctx(), *snapshot);
  EXPECT_TRUE(plan.all_down());
  EXPECT_EQ(plan.candidates().size(), 2u) << "down targets stay in the plan";
  provider_state("alldown_p1").set_health(state::HealthStatus::Unknown);
  provider_state("alldown_p2").set_health(state::HealthStatus::Unknown);
}

TEST(RouterPriority, WithoutAGroupTheDefaultProviderGetsTheRequestedModel) {
  std::string y =
      "listen: 127.0.0.1:0\n"
      "providers:\n"
      "  nogroup_p: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
      "default_provider: nogroup_p\n"
      "filters: []\n";
  auto snapshot =
      filter::ConfigSnapshot::build(config::load_config_text(y, "router.yaml", no_env()), 1);
  filter::RequestContext ctx;
  ctx.fields.model = "whatever-model";
  server::RoutePlan plan;
  plan.init(ctx, *snapshot);
  const filter::Candidate* c = plan.next();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->provider->name, "nogroup_p");
  EXPECT_EQ(c->physical_model, "whatever-model");
  EXPECT_EQ(c->state, &provider_state("nogroup_p"));
  EXPECT_EQ(plan.next(), nullptr);
}

// ---- weighted --------------------------------------------------------------------------------

TEST(SmoothWeightedSequence, SpreadsTheHeavyTargetLikeNginx) {
  const uint32_t weights[] = {5, 1, 1};
  EXPECT_THAT(filter::smooth_weighted_sequence(weights), ElementsAre(0, 0, 1, 0, 2, 0, 0));
}

TEST(SmoothWeightedSequence, IsReducedByTheGcdAndBoundedForHugeWeights) {
  const uint32_t tens[] = {10, 30};
  EXPECT_THAT(filter::smooth_weighted_sequence(tens), ElementsAre(1, 0, 1, 1));

  const uint32_t huge[] = {1'000'000, 999'999, 1};
  auto sequence = filter::smooth_weighted_sequence(huge);
  EXPECT_LE(sequence.size(), filter::kMaxWeightedSequence + 3);
  std::map<uint32_t, size_t> counts;
  for (uint32_t i : sequence) ++counts[i];
  EXPECT_NEAR(static_cast<double>(counts[0]) / sequence.size(), 0.5, 0.001);
  EXPECT_NEAR(static_cast<double>(counts[1]) / sequence.size(), 0.5, 0.001);
  EXPECT_EQ(counts[2], 1u) << "a tiny weight is still picked, once per period";
}

TEST(RouterWeighted, OneToThreeSplitsTenThousandRequests25To75) {
  auto snapshot = snapshot_of({"w13_a", "w13_b"},
                              "  w13:\n"
                              "    strategy: weighted\n"
                              "    targets: [{provider: w13_a, model: m, weight: 1}, {provider: "
                              "w13_b, model: m, weight: 3}]\n");
  Router router(snapshot, "w13");
  auto counts = first_counts(router, 10'000);
  EXPECT_NEAR(counts["w13_a/m"], 2'500, 100);
  EXPECT_NEAR(counts["w13_b/m"], 7'500, 100);
}

TEST(RouterWeighted, PicksInSmoothOrderAndTheOthersFollowInListedOrder) {
  auto snapshot = snapshot_of({"w511_a", "w511_b", "w511_c"},
                              "  w511:\n"
                              "    strategy: weighted\n"
                              "    targets: [{provider: w511_a, model: m, weight: 5}, {provider: "
                              "w511_b, model: m}, {provider: w511_c, model: m}]\n");
  Router router(snapshot, "w511");
  const uint64_t start = router.snapshot().group_cursor(*router.ctx().model_group)->load();
  const std::vector<std::string> period = {"a", "a", "b", "a", "c", "a", "a"};
  for (uint64_t i = 0; i < 14; ++i) {
    auto plan = router.plan();
    const std::string picked = "w511_" + period[(start + i) % 7] + "/m";
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_EQ(plan[0], picked) << "request " << i;
    // The rest in listed order: what a retry or fallback tries next.
    std::vector<std::string> rest;
    for (const char* p : {"w511_a/m", "w511_b/m", "w511_c/m"})
      if (p != picked) rest.push_back(p);
    EXPECT_EQ(std::vector<std::string>(plan.begin() + 1, plan.end()), rest);
  }
}

TEST(RouterWeighted, TheCursorIsProcessWideAndSurvivesAReload) {
  const std::string models =
      "  wreload:\n"
      "    strategy: weighted\n"
      "    targets: [{provider: wreload_a, model: m}, {provider: wreload_b, model: m}]\n";
  Router before(snapshot_of({"wreload_a", "wreload_b"}, models, 1), "wreload");
  Router after(snapshot_of({"wreload_a", "wreload_b"}, models, 2), "wreload");
  // Alternating 1:1 — whichever snapshot serves the next request continues the sequence.
  const std::string first = before.first();
  const std::string second = after.first();
  const std::string third = before.first();
  EXPECT_NE(first, second);
  EXPECT_EQ(first, third);
}

// ---- least_busy ------------------------------------------------------------------------------

// Holds `n` attempts in flight on a provider for the life of the object.
class InFlight {
 public:
  InFlight(const std::string& provider, int n) : state_(provider_state(provider)), n_(n) {
    for (int i = 0; i < n_; ++i) state_.attempt_started();
  }
  ~InFlight() {
    for (int i = 0; i < n_; ++i) state_.attempt_finished();
  }

 private:
  state::ProviderState& state_;
  int n_;
};

TEST(RouterLeastBusy, TheTargetWithFewerAttemptsInFlightGoesFirst) {
  auto snapshot = snapshot_of({"lb_a", "lb_b"},
                              "  lb:\n"
                              "    strategy: least_busy\n"
                              "    targets: [{provider: lb_a, model: m}, {provider: lb_b, model: "
                              "m}]\n");
  Router router(snapshot, "lb");
  {
    InFlight busy_a("lb_a", 2);
    InFlight busy_b("lb_b", 1);
    for (int i = 0; i < 5; ++i) EXPECT_THAT(router.plan(), ElementsAre("lb_b/m", "lb_a/m"));
  }
  {
    InFlight busy_b("lb_b", 3);
    for (int i = 0; i < 5; ++i) EXPECT_THAT(router.plan(), ElementsAre("lb_a/m", "lb_b/m"));
  }
}

TEST(RouterLeastBusy, EqualTargetsTakeTurnsAtTheFront) {
  auto snapshot = snapshot_of({"lbtie_a", "lbtie_b", "lbtie_c"},
                              "  lbtie:\n"
                              "    strategy: least_busy\n"
                              "    targets: [{provider: lbtie_a, model: m}, {provider: lbtie_b, "
                              "model: m}, {provider: lbtie_c, model: m}]\n");
  Router router(snapshot, "lbtie");
  auto counts = first_counts(router, 300);
  EXPECT_EQ(counts["lbtie_a/m"], 100);
  EXPECT_EQ(counts["lbtie_b/m"], 100);
  EXPECT_EQ(counts["lbtie_c/m"], 100);
  // With one of them busy, the two idle ones share.
  InFlight busy("lbtie_b", 1);
  counts = first_counts(router, 300);
  EXPECT_EQ(counts["lbtie_a/m"], 150);
  EXPECT_EQ(counts["lbtie_c/m"], 150);
}

TEST(RouterLeastBusy, AHealthDownTargetIsOrderedLastButKept) {
  auto snapshot = snapshot_of({"lbdown_a", "lbdown_b"},
                              "  lbdown:\n"
                              "    strategy: least_busy\n"
                              "    targets: [{provider: lbdown_a, model: m}, {provider: lbdown_b, "
                              "model: m}]\n");
  Router router(snapshot, "lbdown");
  InFlight busy_b("lbdown_b", 5);
  provider_state("lbdown_a").set_health(state::HealthStatus::Down);
  for (int i = 0; i < 4; ++i) EXPECT_THAT(router.plan(), ElementsAre("lbdown_b/m", "lbdown_a/m"));
  provider_state("lbdown_a").set_health(state::HealthStatus::Unknown);
  EXPECT_THAT(router.plan(), ElementsAre("lbdown_a/m", "lbdown_b/m"));
}

// ---- latency ---------------------------------------------------------------------------------

void measure(const std::string& provider, std::chrono::milliseconds ttfb) {
  provider_state(provider).record_ttfb(ttfb);
}

// A `latency` group of n targets (model m) on providers <stem>_<run>_a, _b, ...: fresh names on
// every run, so the measurements of an earlier --gtest_repeat run cannot leak in.
struct LatencyGroup {
  LatencyGroup(const std::string& stem, int n) {
    static int run = 0;
    const std::string prefix = stem + "_" + std::to_string(++run) + "_";
    std::string models = "  " + prefix + "group:\n    strategy: latency\n    targets:\n";
    for (int i = 0; i < n; ++i) {
      providers.push_back(prefix + static_cast<char>('a' + i));
      models += "      - {provider: " + providers.back() + ", model: m}\n";
    }
    router = std::make_unique<Router>(snapshot_of(providers, models), prefix + "group");
  }
  // What Router reports for target i.
  std::string target(int i) const { return providers[i] + "/m"; }

  std::vector<std::string> providers;
  std::unique_ptr<Router> router;
};

TEST(RouterLatency, TheLowerEwmaGoesFirstExceptOnExplorationTurns) {
  LatencyGroup lat("lat", 2);
  measure(lat.providers[0], 80ms);
  measure(lat.providers[1], 5ms);
  auto counts = first_counts(*lat.router, 2'000);
  // Exactly every kExploreEvery-th request explores (5%); a tolerance keeps the test about
  // the share, not the constant.
  EXPECT_NEAR(counts[lat.target(1)], 1'900, 40);
  EXPECT_NEAR(counts[lat.target(0)], 100, 40);
  EXPECT_GT(counts[lat.target(0)], 0) << "the slower target is still measured now and then";
  // Both stay in the plan: the slower one is the next to try.
  EXPECT_EQ(lat.router->plan().size(), 2u);

  // The other way round: the order follows the measurements.
  measure(lat.providers[1], 500ms);  // EWMA 5 → 153.5 ms
  counts = first_counts(*lat.router, 200);
  EXPECT_NEAR(counts[lat.target(0)], 190, 5);
}

TEST(RouterLatency, ATargetNeverMeasuredGoesFirst) {
  LatencyGroup lat("latnew", 3);
  measure(lat.providers[0], 3ms);
  measure(lat.providers[1], 2ms);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(lat.router->first(), lat.target(2)) << "request " << i;
  }
  measure(lat.providers[2], 50ms);
  auto counts = first_counts(*lat.router, 100);
  EXPECT_NEAR(counts[lat.target(1)], 95, 3);
}

TEST(RouterLatency, ExplorationPrefersATargetNotMeasuredForThirtySeconds) {
  LatencyGroup lat("latstale", 3);
  // c is measured first, so it is the one measured longest ago.
  measure(lat.providers[2], 60ms);
  measure(lat.providers[1], 20ms);
  measure(lat.providers[0], 5ms);

  // Fresh measurements: exploring requests take turns between b and c.
  const auto now = std::chrono::steady_clock::now();
  std::map<std::string, int> fresh;
  for (int i = 0; i < 400; ++i) ++fresh[lat.router->first_at(now)];
  EXPECT_NEAR(fresh[lat.target(0)], 380, 5);
  EXPECT_NEAR(fresh[lat.target(1)], 10, 3);
  EXPECT_NEAR(fresh[lat.target(2)], 10, 3);

  // 31 s later nobody has been measured since; c's measurement is the oldest, so every
  // exploring request re-measures c.
  std::map<std::string, int> later;
  for (int i = 0; i < 400; ++i) ++later[lat.router->first_at(now + 31s)];
  EXPECT_NEAR(later[lat.target(0)], 380, 5);
  EXPECT_EQ(later[lat.target(1)], 0);
  EXPECT_NEAR(later[lat.target(2)], 20, 5);
}

TEST(RouterLatency, AHealthDownTargetIsLastAndNeverExplored) {
  LatencyGroup lat("latdown", 2);
  measure(lat.providers[0], 1ms);  // faster, but down
  measure(lat.providers[1], 90ms);
  provider_state(lat.providers[0]).set_health(state::HealthStatus::Down);
  for (int i = 0; i < 100; ++i) {
    EXPECT_THAT(lat.router->plan(), ElementsAre(lat.target(1), lat.target(0))) << "request " << i;
  }
  provider_state(lat.providers[0]).set_health(state::HealthStatus::Ok);
  auto counts = first_counts(*lat.router, 20);
  EXPECT_EQ(counts[lat.target(0)], 19);
  EXPECT_EQ(counts[lat.target(1)], 1);
}

}  // namespace
}  // namespace sluice
