// filters: - cost: {prices: prices.yaml, estimate_missing_usage: true, default_max_tokens: 4096}
//
// Prices each request and holds agents to their budgets (DESIGN §4 agents.*.budget, §8):
//   on_request  (after model_alias) — for an agent with `budget: {usd, per}`, reserves the worst
//               case of the request in its SpendAccount: prompt estimate × input price +
//               (max_tokens, or default_max_tokens; embeddings: 0) × output price, at the most
//               expensive priced model the router could pick (the group's targets and its
//               fallback groups', transitively; without a group, the requested model on
//               default_provider). When spent + reserved + that worst case would pass the
//               budget: 429 rate_limit_error / budget_exceeded with retry-after(-ms) to the
//               next period (none for per: total); the provider is not called.
//   on_complete — ctx.cost_usd = the cost of ctx.usage at the price of the physical model that
//               answered (ctx.last_candidate); settles the reservation with it (also for
//               requests refused later in the chain or failed: with what they cost, maybe 0),
//               or charges it to agents without a budget (spend is tracked for every agent).
//               A model with no price costs 0, sets ctx.unpriced and is warned about once per
//               process — unless its provider is local (local_provider.h): then it is just 0.
//
// `prices:` is a file (relative to the config file) or an inline map keyed by physical model,
// {MODEL: {input, output, cached_input, cache_write}} in USD per 1M tokens; its entries replace
// the compiled-in defaults (conf/prices.yaml) entry by entry. estimate_missing_usage: false
// charges 0 for a response whose usage had to be estimated (the default charges the estimate).
//
// Registered as "cost" (process-wide state, the real UTC clock); make_cost_factory is the same
// factory with the state and clock chosen by the caller, for unit tests and benchmarks.
#pragma once

#include <cstdint>
#include <memory>

#include "core/config/config.h"
#include "core/config/node_reader.h"
#include "core/cost/price_table.h"
#include "core/filter/filter.h"
#include "core/state/process_state.h"
#include "core/state/spend_account.h"

namespace sluice::filters::cost {

struct CostSettings {
  sluice::cost::PriceTable prices;  // the compiled-in defaults with the config's overrides
  bool estimate_missing_usage = true;
  // Completion tokens a budget reservation counts when the request names no max_tokens.
  uint64_t default_max_tokens = 4096;
};

// Reads `- cost: {...}` (the reader is over that mapping; finishes it): the defaults, then the
// prices file or inline map over them. Throws config::ConfigError.
CostSettings read_cost_settings(config::NodeReader& reader, const config::Config& config);

std::unique_ptr<filter::FilterFactory> make_cost_factory(const config::Config& config,
                                                         CostSettings settings,
                                                         state::ProcessState& states,
                                                         state::WallClock clock = &state::wall_now);

}  // namespace sluice::filters::cost
