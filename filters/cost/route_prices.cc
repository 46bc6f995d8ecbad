#include "filters/cost/route_prices.h"

#include <algorithm>
#include <set>
#include <string>

namespace sluice::filters::cost {

namespace {

// Appends the prices of `group`'s targets and then of its fallbacks' (depth first, each group
// once: the loader refuses cycles, `visited` makes sure regardless).
void collect(const config::Config& config, const ModelPricer& pricer,
             const config::ModelGroup& group, std::set<const config::ModelGroup*>& visited,
             std::vector<sluice::cost::Price>& out) {
  if (!visited.insert(&group).second) return;
  for (const config::Target& target : group.targets) {
    auto provider = config.providers.find(target.provider);
    const PriceQuote quote = pricer.quote(
        provider == config.providers.end() ? nullptr : &provider->second, target.model);
    if (quote.kind == PriceQuote::Kind::Priced &&
        std::find(out.begin(), out.end(), *quote.price) == out.end()) {
      out.push_back(*quote.price);
    }
  }
  for (const std::string& name : group.fallbacks) {
    auto next = config.models.find(name);
    if (next != config.models.end()) collect(config, pricer, next->second, visited, out);
  }
}

}  // namespace

RoutePrices::RoutePrices(const config::Config& config, const ModelPricer& pricer) {
  for (const auto& [name, group] : config.models) {
    std::set<const config::ModelGroup*> visited;
    collect(config, pricer, group, visited, groups_[&group]);
  }
}

const std::vector<sluice::cost::Price>* RoutePrices::of(const config::ModelGroup* group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second;
}

double RoutePrices::max_worst_case(std::span<const sluice::cost::Price> prices,
                                   uint64_t prompt_tokens, uint64_t max_output_tokens) {
  double worst = 0;
  for (const sluice::cost::Price& price : prices) {
    worst = std::max(worst, sluice::cost::worst_case_usd(price, prompt_tokens, max_output_tokens));
  }
  return worst;
}

}  // namespace sluice::filters::cost
