// RoutePrices: for each model group of a config, the prices of every physical model the router
// could send its requests to — the group's targets, then its fallback groups' targets,
// transitively — so a budget reservation can take the worst case without walking the config per
// request. Models with no price are left out (they cost 0); local ones count as 0.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/config/config.h"
#include "core/cost/price.h"
#include "filters/cost/model_pricer.h"

namespace sluice::filters::cost {

class RoutePrices {
 public:
  RoutePrices(const config::Config& config, const ModelPricer& pricer);

  // The prices `group` may be charged at; null for a group not of this config.
  const std::vector<sluice::cost::Price>* of(const config::ModelGroup* group) const;

  // The largest worst_case_usd over `prices` (0 when empty).
  static double max_worst_case(std::span<const sluice::cost::Price> prices, uint64_t prompt_tokens,
                               uint64_t max_output_tokens);

 private:
  std::unordered_map<const config::ModelGroup*, std::vector<sluice::cost::Price>> groups_;
};

}  // namespace sluice::filters::cost
