#include "core/state/budget_gauges.h"

namespace sluice::state {

BudgetLimit budget_limit_of(const config::Budget& budget) {
  return BudgetLimit{budget.usd, budget_period_of(budget.per).value_or(BudgetPeriod::Day)};
}

void refresh_budget_gauges(const config::Config& config, ProcessState& states, WallTime now) {
  for (const auto& [name, agent] : config.agents) {
    if (!agent.budget) continue;
    AgentState* st = states.agent(name);
    prometheus::Gauge* gauge = states.budget_gauge(*st);
    if (gauge == nullptr) continue;
    gauge->Set(st->spend().view(budget_limit_of(*agent.budget), now).remaining_usd);
  }
}

}  // namespace sluice::state
