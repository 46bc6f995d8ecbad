// The budget protocol's share of a request (issue 6, DESIGN §4 agents.*.budget): SpendAccount
// reserve + settle as the cost filter runs them for an agent with a budget, on one thread and
// on two threads charging the same agent (its mutex contended, as two workers serving one
// agent), charge() for an agent without one, and view() — what the cost filter calls to set
// sluice_budget_remaining_usd after each reserve and settle (bench/profile.sh: ~390
// instructions per request). The whole filter is in cost_bench.cc.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>

#include "core/state/spend_account.h"

namespace sluice::bench {
namespace {

// A budget no run reaches, however many iterations it makes.
constexpr state::BudgetLimit kLimit{1e12, state::BudgetPeriod::Day};

// A fresh account for each run, made by thread 0 and shared by the run's threads.
std::unique_ptr<state::SpendAccount> g_account;

state::SpendAccount* shared_account(benchmark::State& state) {
  if (state.thread_index() == 0) g_account = std::make_unique<state::SpendAccount>();
  return nullptr;  // the caller reads g_account after the start barrier of the timed loop
}

void BM_Spend_ReserveSettle(benchmark::State& state) {
  state::SpendAccount* account = shared_account(state);
  for (auto _ : state) {
    if (account == nullptr) account = g_account.get();
    const state::WallTime now = std::chrono::system_clock::now();
    state::SpendAccount::Reservation r;
    if (account->reserve(kLimit, 0.01, now, &r) != state::SpendAccount::Admission::Admitted) {
      state.SkipWithError("refused");
      break;
    }
    account->settle(r, 0.0004, now);
  }
}

void BM_Spend_Charge(benchmark::State& state) {
  state::SpendAccount* account = shared_account(state);
  for (auto _ : state) {
    if (account == nullptr) account = g_account.get();
    account->charge(0.0004, std::chrono::system_clock::now());
  }
}

void BM_Spend_View(benchmark::State& state) {
  state::SpendAccount* account = shared_account(state);
  for (auto _ : state) {
    if (account == nullptr) account = g_account.get();
    state::SpendAccount::View v = account->view(kLimit, std::chrono::system_clock::now());
    benchmark::DoNotOptimize(v);
  }
}

}  // namespace

BENCHMARK(BM_Spend_ReserveSettle);
BENCHMARK(BM_Spend_ReserveSettle)->Threads(2);
BENCHMARK(BM_Spend_Charge);
BENCHMARK(BM_Spend_View);

}  // namespace sluice::bench
