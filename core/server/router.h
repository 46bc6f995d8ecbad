// RoutePlan: the ordered candidates one request may try — the targets of its model group in
// the group's strategy order, then each fallback group's, each group visited once. Without a
// resolved group (no model_alias in the chain) the only candidate is default_provider with the
// model unchanged. Strategies other than `priority` are ordered like priority until the
// policy issue gives them their own order; the interface already walks a sequence so retry
// and fallback only have to call next().
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "core/filter/request_context.h"
#include "core/filter/snapshot.h"

namespace sluice::server {

class RoutePlan {
 public:
  // Prepares the sequence for ctx (its model_group, or the snapshot's default provider).
  void init(const filter::RequestContext& ctx, const filter::ConfigSnapshot& snapshot);
  // The next candidate, or nullptr when every target of every group was offered.
  const filter::Candidate* next();
  // How many candidates were offered so far.
  size_t offered() const { return next_index_; }
  // True while next() would still return a candidate.
  bool has_next() const { return next_index_ < candidates_.size(); }
  // Every candidate of the plan (offered or not), in plan order.
  std::span<const filter::Candidate> candidates() const { return candidates_; }

 private:
  std::vector<filter::Candidate> candidates_;  // capacity reused across requests
  std::vector<const config::ModelGroup*> visited_, queue_;  // scratch for init()
  size_t next_index_ = 0;
};

}  // namespace sluice::server
