// ModelPricer: the price of a physical model on a provider, for one config snapshot — the price
// table's answer (price_table.h lookup rules) and, for a model the table does not list, whether
// its provider is local (then it costs 0 and is not "unpriced").
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "core/config/config.h"
#include "core/cost/price_table.h"

namespace sluice::filters::cost {

struct PriceQuote {
  enum class Kind : uint8_t {
    Priced,    // `price` is the table's entry for the model
    Local,     // not in the table, served by a local provider: costs 0
    Unpriced,  // not in the table, remote provider: costs 0, counted and warned about
  };
  Kind kind = Kind::Unpriced;
  const sluice::cost::Price* price = nullptr;  // set for Priced only
};

class ModelPricer {
 public:
  // Decides once which providers of `config` are local.
  ModelPricer(const config::Config& config, sluice::cost::PriceTable prices);

  // Per request: no allocation. A provider not of this config is checked on the spot.
  PriceQuote quote(const config::Provider* provider, std::string_view model) const;
  const sluice::cost::PriceTable& table() const { return prices_; }

 private:
  bool is_local(const config::Provider* provider) const;

  sluice::cost::PriceTable prices_;
  std::vector<std::pair<const config::Provider*, bool>> local_;  // sorted by pointer
};

}  // namespace sluice::filters::cost
