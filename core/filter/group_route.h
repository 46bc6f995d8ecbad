// GroupRoute: what the router needs about one model group, resolved once when a ConfigSnapshot
// is built so that RoutePlan::init (every request) does no name lookups and no allocation:
// the strategy as an enum, every target as a ready Candidate (provider and its process-wide
// state resolved), the breadth-first list of groups a request of this group may visit, and,
// for `weighted`, the smooth weighted round-robin sequence the group cursor walks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/filter/request_context.h"

namespace sluice::filter {

// models.*.strategy. How RoutePlan orders the targets of a group (see core/server/router.h).
enum class Strategy : uint8_t { Priority, Weighted, LeastBusy, Latency };
// "priority" | "weighted" | "least_busy" | "latency" → the enum; nullopt for anything else
// (the loader only lets these four through).
std::optional<Strategy> strategy_from_string(std::string_view name);
const char* to_string(Strategy s);

// The longest weighted sequence built. Weights are first divided by their gcd; if their sum
// is still larger, they are scaled to sum to about this (each kept >= 1), so the sequence of
// one group holds at most kMaxWeightedSequence + (number of targets) entries — a few KiB —
// and the shares stay within 1/kMaxWeightedSequence of the configured ratio.
inline constexpr size_t kMaxWeightedSequence = 4096;

// nginx's smooth weighted round robin, unrolled: the target index each of sum(weights) picks
// gets (after the gcd reduction / scaling above). Each pick adds every weight to that
// target's running score, takes the highest score (the first on a tie) and subtracts the
// total from it; after sum(weights) picks every score is back to 0, so the sequence repeats
// exactly. Weights 5,1,1 give 0,0,1,0,2,0,0: the heavy target is spread out, not bunched.
// Empty for no weights; a zero weight counts as 1.
std::vector<uint32_t> smooth_weighted_sequence(std::span<const uint32_t> weights);

struct GroupRoute {
  const config::ModelGroup* group = nullptr;
  Strategy strategy = Strategy::Priority;
  // The group's targets in listed order, ready to hand out (group, target, provider,
  // physical_model, state all set). A target whose provider is missing is left out (the
  // loader rejects such a config anyway).
  std::vector<Candidate> targets;
  // Weighted only: indices into `targets`, one full SWRR period; the request with cursor
  // value c picks weighted_sequence[c % size].
  std::vector<uint32_t> weighted_sequence;
  // The groups a request of this group may be routed to, in order: this group first, then
  // its `fallbacks`, then theirs (breadth-first, declaration order), each group once — so a
  // cycle a → b → a ends.
  std::vector<const GroupRoute*> plan;
  size_t plan_candidates = 0;  // sum of targets.size() over `plan`
  // The group's process-wide cursor (ProcessState::group_cursor): survives reloads, shared
  // by all workers; one fetch_add per request for every strategy but priority.
  std::atomic<uint64_t>* cursor = nullptr;
};

}  // namespace sluice::filter
