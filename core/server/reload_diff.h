// What a reload cannot change in a running process. Everything else in the file applies to new
// requests at once; these keys keep their start-up values until the process restarts, and a
// reload that changes them is still accepted (the rest applies) with a warning per key.
// (`listen` IS reloadable: Server opens new addresses before closing old ones.)
//
//   admin              — the admin listener likewise
//   workers            — the number of worker threads
//   limits.max_connections — split into per-worker shares at start-up
//   access_log         — the file is opened once (path, format, max_size, keep)
//   state.ledger, state.flush_interval — the ledger writer (its file and its thread's interval)
//                        is opened once; budgets' spend was rebuilt from that file at start-up
//   state.redis        — each worker's Redis connection and its fleet membership (core/fleet)
#pragma once

#include <string>
#include <vector>

#include "core/config/config.h"

namespace sluice::server {

// One line per restart-only key whose value differs, e.g.
// "workers: 4 -> 8 (applies on restart)". Empty when none differ.
std::vector<std::string> restart_only_changes(const config::Config& running,
                                              const config::Config& next);

}  // namespace sluice::server
