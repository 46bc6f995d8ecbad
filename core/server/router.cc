#include "core/server/router.h"

#include <algorithm>

namespace sluice::server {
namespace {

void add_group(const filter::ConfigSnapshot& snapshot, const config::ModelGroup& group,
               std::vector<const config::ModelGroup*>& visited,
               std::vector<filter::Candidate>& out) {
  if (std::find(visited.begin(), visited.end(), &group) != visited.end()) return;
  visited.push_back(&group);
  for (const auto& target : group.targets) {
    const auto& providers = snapshot.config().providers;
    auto it = providers.find(target.provider);
    if (it == providers.end()) continue;  // the loader rejects this; be safe anyway
    out.push_back(filter::Candidate{&group, &target, &it->second, target.model,
                                    snapshot.provider_state(it->second)});
  }
}

}  // namespace

void RoutePlan::init(const filter::RequestContext& ctx, const filter::ConfigSnapshot& snapshot) {
  candidates_.clear();
  next_index_ = 0;
  const config::Config& config = snapshot.config();
  if (ctx.model_group == nullptr) {
    if (const config::Provider* p = snapshot.default_provider()) {
      candidates_.push_back(
          filter::Candidate{nullptr, nullptr, p, ctx.fields.model, snapshot.provider_state(*p)});
    }
    return;
  }
  // Groups are visited breadth-first in declaration order: the group itself, then its
  // fallbacks in order, then theirs. `visited` keeps a cycle (a → b → a) from looping.
  std::vector<const config::ModelGroup*>& visited = visited_;
  std::vector<const config::ModelGroup*>& queue = queue_;
  visited.clear();
  queue.assign(1, ctx.model_group);
  for (size_t i = 0; i < queue.size(); ++i) {
    add_group(snapshot, *queue[i], visited, candidates_);
    for (const auto& name : queue[i]->fallbacks) {
      auto it = config.models.find(name);
      if (it != config.models.end() &&
          std::find(queue.begin(), queue.end(), &it->second) == queue.end()) {
        queue.push_back(&it->second);
      }
    }
  }
}

const filter::Candidate* RoutePlan::next() {
  if (next_index_ >= candidates_.size()) return nullptr;
  return &candidates_[next_index_++];
}

}  // namespace sluice::server
