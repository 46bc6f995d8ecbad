#include "filters/cost/model_pricer.h"

#include <algorithm>

#include "filters/cost/local_provider.h"

namespace sluice::filters::cost {

ModelPricer::ModelPricer(const config::Config& config, sluice::cost::PriceTable prices)
    : prices_(std::move(prices)) {
  for (const auto& [name, provider] : config.providers) {
    local_.emplace_back(&provider, is_local_provider(provider));
  }
  std::sort(local_.begin(), local_.end());
}

bool ModelPricer::is_local(const config::Provider* provider) const {
  if (provider == nullptr) return false;
  auto it = std::lower_bound(
      local_.begin(), local_.end(), provider,
      [](const auto& entry, const config::Provider* p) { return entry.first < p; });
  if (it != local_.end() && it->first == provider) return it->second;
  return is_local_provider(*provider);
}

PriceQuote ModelPricer::quote(const config::Provider* provider, std::string_view model) const {
  if (const sluice::cost::Price* price = prices_.lookup(model)) {
    return {PriceQuote::Kind::Priced, price};
  }
  return {is_local(provider) ? PriceQuote::Kind::Local : PriceQuote::Kind::Unpriced, nullptr};
}

}  // namespace sluice::filters::cost
