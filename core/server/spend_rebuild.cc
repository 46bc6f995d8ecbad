#include "core/server/spend_rebuild.h"

#include <chrono>

#include "core/ledger/ledger_reader.h"
#include "core/log/log.h"
#include "core/state/budget_gauges.h"

namespace sluice::server {
namespace {

int64_t unix_ms(state::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

SpendRebuild rebuild_spend_from_ledger(const config::Config& config, state::ProcessState& states,
                                       state::WallTime now) {
  SpendRebuild result;
  const std::string& path = config.state.ledger;
  if (path.empty()) {
    result.source = SpendRebuild::Source::Off;
  } else if (!ledger::ledger_exists(path)) {
    result.source = SpendRebuild::Source::NoFileYet;
  } else {
    std::string error;
    std::optional<std::map<std::string, ledger::PeriodSpend>> spent;
    if (auto reader = ledger::LedgerReader::open(path, &error)) {
      spent = reader->spend_by_agent_periods(
          unix_ms(state::period_start(state::BudgetPeriod::Day, now)),
          unix_ms(state::period_start(state::BudgetPeriod::Month, now)), &error);
    }
    if (!spent) {
      result.source = SpendRebuild::Source::Unreadable;
      result.warning = error;
    } else {
      result.source = SpendRebuild::Source::Ledger;
      // Only configured agents are seeded: an agent the ledger remembers but the config no
      // longer has would otherwise get state (and metric series) for nothing. Anonymous rows
      // ("") belong to no budget.
      for (const auto& [name, agent] : config.agents) {
        auto it = spent->find(name);
        if (it == spent->end()) continue;
        states.agent(name)->spend().seed(it->second.day_usd, it->second.month_usd,
                                         it->second.total_usd, now);
        ++result.agents_seeded;
      }
    }
  }
  state::refresh_budget_gauges(config, states, now);

  switch (result.source) {
    case SpendRebuild::Source::Off:
      break;  // open_ledger says "ledger off"
    case SpendRebuild::Source::NoFileYet:
      log::info("budgets: no ledger at " + path + " yet: spend starts at 0");
      break;
    case SpendRebuild::Source::Ledger:
      log::info("budgets: spend of " + std::to_string(result.agents_seeded) +
                " agent(s) rebuilt from " + path);
      break;
    case SpendRebuild::Source::Unreadable:
      log::warn("budgets: cannot read spend from the ledger (" + result.warning +
                "): spend starts at 0 for this process");
      break;
  }
  return result;
}

}  // namespace sluice::server
