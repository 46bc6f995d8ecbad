#include "core/server/router.h"

#include <algorithm>

namespace sluice::server {
namespace {

constexpr uint64_t kDownBit = uint64_t{1} << 63;  // ranks a health-Down target after the rest

bool is_down(const filter::Candidate& c) {
  return !c.state->routable();
}

uint64_t load_key(const filter::Candidate& c) {
  return (is_down(c) ? kDownBit : 0) | c.state->in_flight();
}

// EWMA in ns; a target never measured reads 0, so it sorts first.
uint64_t latency_key(const filter::Candidate& c) {
  return (is_down(c) ? kDownBit : 0) | static_cast<uint64_t>(c.state->ewma_ttfb_ms() * 1e6);
}

}  // namespace

void RoutePlan::init(const filter::RequestContext& ctx, const filter::ConfigSnapshot& snapshot) {
  now_ = state::SteadyTime{};
  start(ctx, snapshot);
}

void RoutePlan::init(const filter::RequestContext& ctx, const filter::ConfigSnapshot& snapshot,
                     state::SteadyTime now) {
  now_ = now;
  start(ctx, snapshot);
}

void RoutePlan::start(const filter::RequestContext& ctx, const filter::ConfigSnapshot& snapshot) {
  candidates_.clear();
  next_index_ = 0;
  groups_ordered_ = 0;
  unordered_from_ = 0;
  route_ = nullptr;
  if (ctx.model_group == nullptr) {
    if (const config::Provider* p = snapshot.default_provider()) {
      candidates_.push_back(
          filter::Candidate{nullptr, nullptr, p, ctx.fields.model, snapshot.provider_state(*p)});
    }
    return;
  }
  route_ = snapshot.group_route(*ctx.model_group);
  if (route_ == nullptr) return;  // a group of another snapshot: nothing to route to
  // Every candidate now, in listed order (candidates() shows the whole plan and nothing
  // moves after init); the request's own group is put in order at once, the others when
  // next() reaches them.
  for (const filter::GroupRoute* group : route_->plan) {
    candidates_.insert(candidates_.end(), group->targets.begin(), group->targets.end());
  }
  order_group(*route_, candidates_.data());
  groups_ordered_ = 1;
  unordered_from_ = route_->targets.size();
}

const filter::Candidate* RoutePlan::next() {
  if (next_index_ >= candidates_.size()) return nullptr;
  // Reaching the first candidate of a fallback group: order the group now (skipping any
  // group without targets).
  while (route_ != nullptr && next_index_ == unordered_from_ &&
         groups_ordered_ < route_->plan.size()) {
    const filter::GroupRoute& group = *route_->plan[groups_ordered_++];
    order_group(group, candidates_.data() + unordered_from_);
    unordered_from_ += group.targets.size();
  }
  return &candidates_[next_index_++];
}

bool RoutePlan::all_down() const {
  for (const filter::Candidate& c : candidates_) {
    if (!is_down(c)) return false;
  }
  return !candidates_.empty();
}

void RoutePlan::order_group(const filter::GroupRoute& group, filter::Candidate* out) {
  switch (group.strategy) {
    case filter::Strategy::Priority:
      std::copy(group.targets.begin(), group.targets.end(), out);
      return;
    case filter::Strategy::Weighted:
      order_weighted(group, out);
      return;
    case filter::Strategy::LeastBusy:
    case filter::Strategy::Latency:
      order_ranked(group, out);
      return;
  }
}

void RoutePlan::order_weighted(const filter::GroupRoute& group, filter::Candidate* out) {
  const auto& sequence = group.weighted_sequence;
  if (sequence.empty()) return;
  const uint64_t turn = group.cursor->fetch_add(1, std::memory_order_relaxed);
  const uint32_t picked = sequence[turn % sequence.size()];
  *out++ = group.targets[picked];
  for (uint32_t i = 0; i < group.targets.size(); ++i) {
    if (i != picked) *out++ = group.targets[i];
  }
}

void RoutePlan::order_ranked(const filter::GroupRoute& group, filter::Candidate* out) {
  const size_t n = group.targets.size();
  if (n == 0) return;
  const bool by_latency = group.strategy == filter::Strategy::Latency;
  const uint64_t turn = group.cursor->fetch_add(1, std::memory_order_relaxed);
  // A stable insertion sort of the listed order by key (each key read once, so a load that
  // changes meanwhile cannot confuse the sort) ...
  ranked_.clear();
  size_t routable = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const filter::Candidate& c = group.targets[i];
    const Ranked r{by_latency ? latency_key(c) : load_key(c), i};
    size_t j = ranked_.size();
    ranked_.push_back(r);
    for (; j > 0 && ranked_[j - 1].key > r.key; --j) ranked_[j] = ranked_[j - 1];
    ranked_[j] = r;
    if ((r.key & kDownBit) == 0) ++routable;
  }
  // ... then the targets tied for first take turns at the front, so equal targets share.
  size_t tied = 1;
  while (tied < n && ranked_[tied].key == ranked_[0].key) ++tied;
  if (tied > 1) {
    std::rotate(ranked_.begin(), ranked_.begin() + static_cast<std::ptrdiff_t>(turn % tied),
                ranked_.begin() + static_cast<std::ptrdiff_t>(tied));
  }
  // latency: a never-measured target first is already an exploration; otherwise every
  // kExploreEvery-th request explores.
  if (by_latency && turn % kExploreEvery == kExploreEvery - 1 && routable >= 2 &&
      ranked_[0].key != 0) {
    explore(group, turn, routable);
  }
  for (const Ranked& r : ranked_) *out++ = group.targets[r.index];
}

void RoutePlan::explore(const filter::GroupRoute& group, uint64_t turn, size_t routable) {
  // Which target of ranked_[1, routable) goes first: the one measured longest ago if that is
  // older than kStaleAfter (never measured counts as oldest), else the next in rotation.
  size_t stalest = 1;
  state::SteadyTime stalest_at = state::SteadyTime::max();
  for (size_t k = 1; k < routable; ++k) {
    const state::SteadyTime at = group.targets[ranked_[k].index].state->last_ttfb_at();
    if (at < stalest_at) {
      stalest_at = at;
      stalest = k;
    }
  }
  size_t chosen = 1 + (turn / kExploreEvery) % (routable - 1);
  if (now() - stalest_at > kStaleAfter) chosen = stalest;
  std::rotate(ranked_.begin(), ranked_.begin() + static_cast<std::ptrdiff_t>(chosen),
              ranked_.begin() + static_cast<std::ptrdiff_t>(chosen) + 1);
}

state::SteadyTime RoutePlan::now() {
  if (now_ == state::SteadyTime{}) now_ = std::chrono::steady_clock::now();
  return now_;
}

}  // namespace sluice::server
