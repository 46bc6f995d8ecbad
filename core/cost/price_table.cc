#include "core/cost/price_table.h"

namespace sluice::cost {

void PriceTable::set(std::string model, const Price& price) {
  prices_.insert_or_assign(std::move(model), price);
}

void PriceTable::override_with(const PriceTable& other) {
  for (const auto& [model, price] : other.prices_) prices_.insert_or_assign(model, price);
}

const Price* PriceTable::exact(std::string_view model) const {
  auto it = prices_.find(model);
  return it == prices_.end() ? nullptr : &it->second;
}

const Price* PriceTable::lookup(std::string_view model) const {
  if (const Price* p = exact(model)) return p;
  std::string_view name = model;
  if (size_t slash = name.find('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
    if (const Price* p = exact(name)) return p;
  }
  // From the last '-' to the first: the first hit is the longest key that is a whole prefix.
  for (size_t dash = name.rfind('-'); dash != std::string_view::npos && dash > 0;
       dash = name.rfind('-', dash - 1)) {
    if (const Price* p = exact(name.substr(0, dash))) return p;
  }
  return nullptr;
}

}  // namespace sluice::cost
