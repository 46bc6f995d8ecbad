// RoutePlan: the ordered candidates one request may try — the targets of its model group in
// the group's strategy order, then each fallback group's (breadth-first, each group once; see
// GroupRoute::plan). Without a resolved group (no model_alias in the chain) the only candidate
// is default_provider with the model unchanged.
//
// Strategies (models.*.strategy; the state read is process-wide, shared by every worker):
//   priority   — targets in listed order.
//   weighted   — smooth weighted round robin (nginx's): the group cursor indexes the group's
//                precomputed SWRR sequence; the picked target first, then the others in
//                listed order (what a retry or fallback tries next).
//   least_busy — fewest attempts in flight first (ProviderState::in_flight). Ties keep listed
//                order, rotated by the group cursor so equal targets share the load.
//   latency    — lowest EWMA time to first byte first (ProviderState::ewma_ttfb_ms); a target
//                never measured counts as 0, i.e. goes first so it gets measured. Ties rotate
//                like least_busy. Every kExploreEvery-th request of the group (by its cursor)
//                explores: a target other than the best goes first — the one measured longest
//                ago if that was more than kStaleAfter ago, otherwise the others take turns —
//                so a target that was slow (or down) and recovered is measured again.
// least_busy and latency order health-Down targets last. Nothing is dropped from the plan:
// the session skips Down providers itself (with a note) and the circuit_breaker filter
// vetoes open circuits, so a plan that reaches them says why they were not used.
//
// Cost: init() copies every candidate of the plan (GroupRoute has them ready) and orders the
// request's own group — one atomic fetch_add on the group cursor (not for priority) and, for
// least_busy/latency, a relaxed load per target and an insertion sort of the (few) targets.
// A fallback group is ordered in place only when next() reaches it, with the state of that
// moment (and its cursor advances only then). No locks; no allocation once the vectors have
// grown to the largest plan seen (a RoutePlan lives as long as its connection).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/filter/group_route.h"
#include "core/filter/request_context.h"
#include "core/filter/snapshot.h"
#include "core/state/provider_state.h"

namespace sluice::server {

// latency: one request in this many explores (5%).
inline constexpr uint64_t kExploreEvery = 20;
// latency: an exploring request prefers a target whose last measurement is older than this.
inline constexpr std::chrono::seconds kStaleAfter{30};

class RoutePlan {
 public:
  // Prepares the sequence for ctx (its model_group, or the snapshot's default provider).
  void init(const filter::RequestContext& ctx, const filter::ConfigSnapshot& snapshot);
  // The same at a given time (for tests: what `latency` considers stale depends on it).
  void init(const filter::RequestContext& ctx, const filter::ConfigSnapshot& snapshot,
            state::SteadyTime now);
  // The next candidate, or nullptr when every target of every group was offered. Pointers
  // returned stay valid until the next init().
  const filter::Candidate* next();
  // How many candidates were offered so far.
  size_t offered() const { return next_index_; }
  // True while next() would still return a candidate.
  bool has_next() const { return next_index_ < candidates_.size(); }
  // Every candidate of the plan (offered or not). The groups next() has not reached yet are
  // still in listed order: each is put in its strategy's order when next() gets to it.
  std::span<const filter::Candidate> candidates() const { return candidates_; }
  // True when every candidate of the whole plan (fallback groups included) is health-Down;
  // the session then tries them anyway (panic mode). False for an empty plan.
  bool all_down() const;

 private:
  // One target's sort key for least_busy / latency: lower goes first.
  struct Ranked {
    uint64_t key;
    uint32_t index;  // into GroupRoute::targets
  };

  void start(const filter::RequestContext& ctx, const filter::ConfigSnapshot& snapshot);
  // Writes the targets of `group` in its strategy's order to out[0, group.targets.size()).
  void order_group(const filter::GroupRoute& group, filter::Candidate* out);
  void order_weighted(const filter::GroupRoute& group, filter::Candidate* out);
  void order_ranked(const filter::GroupRoute& group, filter::Candidate* out);
  // latency: moves an exploration target to the front of ranked_[0, routable).
  void explore(const filter::GroupRoute& group, uint64_t turn, size_t routable);
  state::SteadyTime now();

  std::vector<filter::Candidate> candidates_;  // capacity reused across requests
  std::vector<Ranked> ranked_;                 // scratch for order_ranked()
  const filter::GroupRoute* route_ = nullptr;  // the request's group; null: default provider
  size_t groups_ordered_ = 0;                  // route_->plan[0, groups_ordered_) are ordered
  size_t unordered_from_ = 0;                  // where the first group not ordered yet begins
  size_t next_index_ = 0;
  state::SteadyTime now_{};  // epoch: not read yet for this request (read at most once)
};

}  // namespace sluice::server
