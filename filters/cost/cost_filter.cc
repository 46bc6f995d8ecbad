// The cost filter (see cost_filter.h for what it does and when).
//
// Per request it holds at most one open reservation, and settles it exactly once, in
// on_complete — whatever happened in between (admitted and answered, refused later in the
// chain, failed upstream, client gone). The reservation and the settle are made at the clock's
// time of each call: a request admitted before midnight and finished after it is released from
// the in-flight sum and its cost lands in the new day (SpendAccount's rule).
#include "filters/cost/cost_filter.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/cost/price_file.h"
#include "core/filter/registry.h"
#include "core/filter/worker_context.h"
#include "core/fleet/fleet_worker.h"
#include "core/log/log.h"
#include "core/usage/usage.h"
#include "filters/cost/budget_refusal.h"
#include "filters/cost/model_pricer.h"
#include "filters/cost/route_prices.h"
#include "filters/cost/unpriced_warning.h"

namespace sluice::filters::cost {

namespace {

using filter::Endpoint;
using filter::RequestContext;
using filter::RequestStatus;
using sluice::cost::Price;

// One agent of the snapshot: its process-wide account and this snapshot's budget.
struct AgentAccount {
  const config::Agent* agent = nullptr;
  state::AgentState* state = nullptr;       // never null; outlives every snapshot
  std::optional<state::BudgetLimit> limit;  // nullopt: no budget (spend is still tracked)
  prometheus::Gauge* gauge = nullptr;       // sluice_budget_remaining_usd{agent}; may be null
};

std::optional<state::BudgetLimit> limit_of(const config::Agent& agent) {
  if (!agent.budget) return std::nullopt;
  // The loader accepts only day | month | total, which budget_period_of knows.
  const auto per = state::budget_period_of(agent.budget->per);
  return state::BudgetLimit{agent.budget->usd, per.value_or(state::BudgetPeriod::Day)};
}

struct Shared {
  Shared(const config::Config& config, CostSettings s, state::ProcessState& st, state::WallClock c)
      : pricer(config, std::move(s.prices)),
        routes(config, pricer),
        estimate_missing_usage(s.estimate_missing_usage),
        default_max_tokens(s.default_max_tokens),
        states(st),
        clock(c) {
    auto found = config.providers.find(config.default_provider);
    if (found != config.providers.end()) default_provider = &found->second;
    const state::WallTime now = clock();
    for (const auto& [name, agent] : config.agents) {
      AgentAccount account{&agent, states.agent(name), limit_of(agent), nullptr};
      if (account.limit) {
        account.gauge = states.budget_gauge(*account.state);
        if (account.gauge != nullptr) {
          account.gauge->Set(account.state->spend().view(*account.limit, now).remaining_usd);
        }
      }
      accounts.push_back(account);
    }
    std::sort(accounts.begin(), accounts.end(),
              [](const AgentAccount& a, const AgentAccount& b) { return a.agent < b.agent; });
  }

  const AgentAccount* find(const config::Agent* agent) const {
    auto it = std::lower_bound(
        accounts.begin(), accounts.end(), agent,
        [](const AgentAccount& a, const config::Agent* key) { return a.agent < key; });
    return it != accounts.end() && it->agent == agent ? &*it : nullptr;
  }

  ModelPricer pricer;
  RoutePrices routes;
  bool estimate_missing_usage;
  uint64_t default_max_tokens;
  state::ProcessState& states;
  state::WallClock clock;
  const config::Provider* default_provider = nullptr;
  std::vector<AgentAccount> accounts;  // sorted by agent pointer
};

// With state.redis (ctx.worker->fleet) a budget is the fleet's: the reservation and the settle
// go through fleet::FleetBudget (same rules; a reservation its worker's share cannot cover
// waits for one Redis call — see fleet_budget.h), which is why the filter can be a waiter.
class CostFilter final : public filter::Filter, public fleet::FleetWaiter {
 public:
  explicit CostFilter(const Shared& shared) : shared_(shared) {}

  RequestStatus on_request(RequestContext& ctx) override {
    if (ctx.agent == nullptr || !filter::goes_to_provider(ctx.endpoint)) {
      return RequestStatus::Continue;
    }
    const AgentAccount* account = resolve(ctx.agent);
    if (!account->limit) return RequestStatus::Continue;  // charged at completion, no cap

    const double worst = worst_case_usd(ctx);
    if (ctx.worker != nullptr && ctx.worker->fleet != nullptr) {
      ctx_ = &ctx;
      fleet_ = ctx.worker->fleet;
      fleet_budget_ = &fleet_->agent(account->agent->name, account->state).budget;
      fleet_worst_ = worst;
      return reserve_in_fleet();
    }
    const state::WallTime now = shared_.clock();
    state::SpendAccount& spend = account->state->spend();
    if (spend.reserve(*account->limit, worst, now, &reservation_) ==
        state::SpendAccount::Admission::Admitted) {
      reservation_open_ = true;
      // sluice_budget_remaining_usd is not set here nor at completion: /metrics refreshes it
      // at every scrape (state::refresh_budget_gauges), which is exact at the moment it is
      // read and costs the request path nothing (~450 instructions a request otherwise).
      return RequestStatus::Continue;
    }
    if (prometheus::Counter* refused = account->state->rate_limited().budget) {
      refused->Increment();
    }
    BudgetRefusal refusal{account->agent->name, *account->limit, spend.view(*account->limit, now),
                          worst, now};
    if (account->gauge != nullptr) account->gauge->Set(refusal.view.remaining_usd);
    respond_over_budget(ctx, refusal);
    return RequestStatus::Respond;
  }

  void on_fleet_answer() override {
    waiting_ = false;
    if (reserve_in_fleet() != RequestStatus::Stop) ctx_->resume_chain();
  }

  void on_complete(RequestContext& ctx) override {
    if (waiting_) {  // the client left while the reservation waited for Redis
      waiting_ = false;
      fleet_budget_->cancel(this);
    }
    const double usd = price_usage(ctx);
    ctx.cost_usd = usd;
    if (fleet_budget_ != nullptr && fleet_reservation_.where != fleet::Where::Nowhere) {
      fleet_budget_->settle(fleet_reservation_, usd);
      fleet_reservation_.where = fleet::Where::Nowhere;  // settled once
      return;
    }
    const bool settle = reservation_open_;
    reservation_open_ = false;  // settled once, whatever happens below
    if (!settle && (usd <= 0 || ctx.agent == nullptr)) return;
    const AgentAccount* account = account_ != nullptr ? account_ : resolve(ctx.agent);
    const state::WallTime now = shared_.clock();
    if (settle) {
      account->state->spend().settle(reservation_, usd, now);
    } else {
      account->state->spend().charge(usd, now);
    }
  }

 private:
  RequestStatus reserve_in_fleet() {
    const AgentAccount* account = account_;
    switch (fleet_budget_->reserve(*account->limit, fleet_worst_, this, &fleet_reservation_)) {
      case fleet::FleetStep::Admitted:
      case fleet::FleetStep::AdmittedLocally:
        return RequestStatus::Continue;
      case fleet::FleetStep::Wait:
        waiting_ = true;
        return RequestStatus::Stop;
      case fleet::FleetStep::Refused:
        break;
      case fleet::FleetStep::Unavailable:
        ctx_->respond(503, "api_error", "fleet_state_unavailable",
                      "The budget of agent \"" + account->agent->name +
                          "\" is shared by the fleet through Redis, which cannot answer (" +
                          fleet_->failure_reason() +
                          "); state.redis.on_failure is deny, so its requests are refused "
                          "until Redis answers again. Try again in 1s.");
        return RequestStatus::Respond;
    }
    if (prometheus::Counter* refused = account->state->rate_limited().budget) {
      refused->Increment();
    }
    const state::WallTime now = shared_.clock();
    state::SpendAccount::View view = account->state->spend().view(*account->limit, now);
    if (fleet_->shared()) {  // the fleet's figures, not this sidecar's
      const fleet::FleetBudget::View fleet_view = fleet_budget_->view(*account->limit);
      view.spent_usd = fleet_view.spent_usd;
      view.reserved_usd = fleet_view.reserved_usd;
      view.remaining_usd = fleet_view.remaining_usd;
    }
    respond_over_budget(
        *ctx_, BudgetRefusal{account->agent->name, *account->limit, view, fleet_worst_, now});
    return RequestStatus::Respond;
  }

  // The snapshot's entry of `agent`, or (an agent not of this snapshot's config, which auth
  // should never produce) one resolved through the registry, which locks.
  const AgentAccount* resolve(const config::Agent* agent) {
    if (account_ != nullptr) return account_;
    account_ = shared_.find(agent);
    if (account_ == nullptr) {
      fallback_ = AgentAccount{agent, shared_.states.agent(agent->name), limit_of(*agent), nullptr};
      if (fallback_.limit) fallback_.gauge = fallback_.state->budget_remaining_gauge();
      account_ = &fallback_;
    }
    return account_;
  }

  // What the request can cost at most: its prompt estimate and its completion limit at the
  // dearest model it may be routed to.
  double worst_case_usd(const RequestContext& ctx) const {
    uint64_t prompt = ctx.prompt_tokens_estimate;
    if (prompt == 0 && ctx.request != nullptr) {  // the session did not estimate (yet)
      prompt = usage::estimate_tokens_from_bytes(ctx.request->body.size());
    }
    uint64_t completion = 0;
    if (ctx.endpoint != Endpoint::Embeddings) {
      completion = ctx.fields.max_tokens
                       ? static_cast<uint64_t>(std::max<int64_t>(0, *ctx.fields.max_tokens))
                       : shared_.default_max_tokens;
    }
    if (ctx.model_group != nullptr) {
      if (const std::vector<Price>* prices = shared_.routes.of(ctx.model_group)) {
        return RoutePrices::max_worst_case(*prices, prompt, completion);
      }
      return worst_of_targets(*ctx.model_group, prompt, completion);
    }
    const PriceQuote quote = shared_.pricer.quote(shared_.default_provider, ctx.fields.model);
    if (quote.kind != PriceQuote::Kind::Priced) return 0;
    return sluice::cost::worst_case_usd(*quote.price, prompt, completion);
  }

  // A group not of this snapshot (should not happen: model_alias resolves from the same
  // config): its own targets, looked up on the spot.
  double worst_of_targets(const config::ModelGroup& group, uint64_t prompt,
                          uint64_t completion) const {
    double worst = 0;
    for (const config::Target& target : group.targets) {
      const PriceQuote quote = shared_.pricer.quote(nullptr, target.model);
      if (quote.kind == PriceQuote::Kind::Priced) {
        worst = std::max(worst, sluice::cost::worst_case_usd(*quote.price, prompt, completion));
      }
    }
    return worst;
  }

  // ctx.usage at the price of the model that answered; sets ctx.unpriced.
  double price_usage(RequestContext& ctx) const {
    ctx.unpriced = false;
    const usage::Usage& used = ctx.usage;
    if (used.source == usage::Usage::Source::None) return 0;  // no upstream answer
    if (used.source == usage::Usage::Source::Estimated && !shared_.estimate_missing_usage) {
      return 0;
    }
    const filter::Candidate& answered = ctx.last_candidate;
    const PriceQuote quote = shared_.pricer.quote(answered.provider, answered.physical_model);
    switch (quote.kind) {
      case PriceQuote::Kind::Priced:
        return sluice::cost::cost_usd(*quote.price, used);
      case PriceQuote::Kind::Local:
        return 0;
      case PriceQuote::Kind::Unpriced:
        ctx.unpriced = true;
        warn_unpriced_once(answered.physical_model, answered.provider != nullptr
                                                        ? std::string_view(answered.provider->name)
                                                        : std::string_view("?"));
        return 0;
    }
    return 0;
  }

  const Shared& shared_;
  const AgentAccount* account_ = nullptr;  // resolved on first need
  AgentAccount fallback_;                  // account_ points here on the registry path
  state::SpendAccount::Reservation reservation_;
  bool reservation_open_ = false;  // reservation_ awaits its settle
  // The fleet path (state.redis): null/Nowhere without it.
  RequestContext* ctx_ = nullptr;
  fleet::FleetWorker* fleet_ = nullptr;
  fleet::FleetBudget* fleet_budget_ = nullptr;
  fleet::FleetBudget::Reservation fleet_reservation_;  // where != Nowhere: awaits its settle
  double fleet_worst_ = 0;
  bool waiting_ = false;  // the reservation waits for a Redis call (on_fleet_answer follows)
};

class CostFactory final : public filter::FilterFactory {
 public:
  CostFactory(const config::Config& config, CostSettings settings, state::ProcessState& states,
              state::WallClock clock)
      : shared_(config, std::move(settings), states, clock) {}

  std::string_view name() const override { return "cost"; }
  filter::Filter* create(RequestContext& ctx) const override {
    return ctx.arena_make<CostFilter>(shared_);
  }

 private:
  Shared shared_;
};

std::string resolve_path(const config::Config& config, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || config.base_dir.empty()) return p.lexically_normal().string();
  return (std::filesystem::path(config.base_dir) / p).lexically_normal().string();
}

// Budgets key off the agent auth identified, and the worst case off the group model_alias
// resolved: a cost filter before auth sees no agent (budgets are not applied), one before
// model_alias prices the logical name on default_provider (usually unpriced: reserves 0).
// Warnings, not errors: a plugin filter may identify agents or route too.
void warn_about_chain_order(const config::NodeReader& reader, const config::Config& config) {
  bool any_budget = false;
  for (const auto& [name, agent] : config.agents) any_budget |= agent.budget.has_value();
  if (!any_budget) return;
  bool auth_before = false, alias_after = false, seen_self = false;
  for (const config::FilterSpec& spec : config.filters) {
    if (spec.key_path == reader.path()) {
      seen_self = true;
    } else if (spec.type == "auth" && !seen_self) {
      auth_before = true;
    } else if (spec.type == "model_alias" && seen_self) {
      alias_after = true;
    }
  }
  std::string where;
  const config::SourceMark mark = reader.mark();
  if (!mark.file.empty()) {
    where += mark.file;
    if (mark.line > 0) where += ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
    where += ": ";
  }
  where += reader.path() + ": ";
  if (!auth_before) {
    log::warn(where +
              "no auth filter before cost in the chain, so requests reach it without an agent "
              "and agents.*.budget are not applied: put `- auth: {...}` first");
  }
  if (alias_after) {
    log::warn(where +
              "model_alias comes after cost in the chain, so a budget's worst case is priced "
              "on the logical model name: put cost after model_alias");
  }
}

std::unique_ptr<filter::FilterFactory> build_cost(config::NodeReader& reader,
                                                  const config::Config& config) {
  CostSettings settings = read_cost_settings(reader, config);
  warn_about_chain_order(reader, config);
  return make_cost_factory(config, std::move(settings), state::ProcessState::process());
}

const filter::FilterRegistrar kRegisterCost{"cost", &build_cost};

}  // namespace

CostSettings read_cost_settings(config::NodeReader& reader, const config::Config& config) {
  CostSettings settings;
  settings.prices = sluice::cost::default_prices();
  // raw() first: it marks "prices" as a known key even when absent (for did-you-mean).
  const YAML::Node prices = reader.raw("prices");
  if (prices.IsDefined() && !prices.IsNull()) {
    if (prices.IsMap()) {
      config::NodeReader map = reader.child("prices");
      settings.prices.override_with(sluice::cost::read_price_map(map));
    } else if (prices.IsScalar()) {
      const std::string file = reader.string("prices").value_or("");
      if (file.empty()) reader.fail("prices", "expected a file name or a map of prices");
      const std::string path = resolve_path(config, file);
      std::string error;
      auto table = sluice::cost::load_prices_file(path, error);
      if (!table) reader.fail("prices", "cannot read the prices file " + path + ": " + error);
      settings.prices.override_with(*table);
    } else {
      reader.fail("prices",
                  "expected a file name (prices.yaml) or a map keyed by model: "
                  "{gpt-4o: {input: 2.5, output: 10}}");
    }
  }
  if (auto v = reader.boolean("estimate_missing_usage")) settings.estimate_missing_usage = *v;
  if (auto v = reader.integer("default_max_tokens", 0, 100'000'000)) {
    settings.default_max_tokens = static_cast<uint64_t>(*v);
  }
  reader.finish();
  return settings;
}

std::unique_ptr<filter::FilterFactory> make_cost_factory(const config::Config& config,
                                                         CostSettings settings,
                                                         state::ProcessState& states,
                                                         state::WallClock clock) {
  return std::make_unique<CostFactory>(config, std::move(settings), states, clock);
}

}  // namespace sluice::filters::cost
