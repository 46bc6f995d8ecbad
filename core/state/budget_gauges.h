// sluice_budget_remaining_usd{agent}: what remains of each budget now. It is computed when it
// is read — at start-up (after the spend is rebuilt from the ledger) and each time /metrics is
// scraped — rather than after every request: exact at scrape time (a new period, a reloaded
// budget), and nothing on the request path. (A gauge set only by requests would also go stale:
// an agent refused at 23:59 would show 0 left all the next day.) The cost filter sets it only
// when it refuses a request.
#pragma once

#include "core/config/config.h"
#include "core/state/process_state.h"
#include "core/state/spend_account.h"

namespace sluice::state {

// The SpendAccount limit of a configured budget (an unknown `per`, which the loader rejects,
// reads as a day).
BudgetLimit budget_limit_of(const config::Budget& budget);

// Sets the gauge of every agent of `config` that has a budget to its remaining USD at `now`
// (creating the agent's state and gauge on first call). Agents without a budget get no gauge.
// A registry without metrics (unit tests) sets nothing. Off the request path: it takes the
// registry's mutex once per agent.
void refresh_budget_gauges(const config::Config& config, ProcessState& states, WallTime now);

}  // namespace sluice::state
