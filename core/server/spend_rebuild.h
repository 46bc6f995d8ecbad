// Start-up rebuild of budget spend (DESIGN §3): before the first request is served, every
// configured agent's SpendAccount is seeded with what the ledger says it spent in the current
// UTC day, month and in all, so a restart (SIGTERM or kill -9) does not hand out a fresh
// budget. Reloads need none of this: spend lives in ProcessState, keyed by agent name. Every
// row's cost counts, whatever its kind: a tool call's row costs 0, so it adds nothing; a
// ledger of an older schema version (before the writer migrates it) reads the same.
//
// A ledger that cannot be read never stops sluice from starting: the problem is logged as a
// warning and spend starts at 0 (budgets are then enforced on this process's requests only).
// No ledger file yet (a first start) is simply no spend.
//
// It also sets sluice_budget_remaining_usd{agent} for every agent with a budget, so the gauge
// shows the rebuilt figure before the first request (the cost filter keeps it current after).
#pragma once

#include <cstddef>
#include <string>

#include "core/config/config.h"
#include "core/state/process_state.h"
#include "core/state/spend_account.h"

namespace sluice::server {

struct SpendRebuild {
  enum class Source : uint8_t {
    Off,         // state.ledger is "": nothing to read, spend starts at 0
    NoFileYet,   // the ledger does not exist yet (first start): spend starts at 0
    Ledger,      // read: `agents_seeded` agents got their spend
    Unreadable,  // the file is there but could not be read: spend starts at 0, `warning` says why
  };
  Source source = Source::Off;
  size_t agents_seeded = 0;  // configured agents with spend in the ledger
  std::string warning;       // Unreadable: the reader's error
};

// Call on the main thread after the first snapshot is built and before the workers start
// (and before the ledger writer opens the file, though WAL would allow it alongside). Reads
// `config.state.ledger`; logs what it did.
SpendRebuild rebuild_spend_from_ledger(const config::Config& config, state::ProcessState& states,
                                       state::WallTime now);

}  // namespace sluice::server
