// filters: - cost: {prices: prices.yaml, estimate_missing_usage: true}   (not active yet)
// prices: a file name, or an inline map keyed by physical model:
//   {gpt-4o: {input: 2.5, output: 10, cached_input: 1.25}}   (USD per 1M tokens)
#include <yaml-cpp/yaml.h>

#include "core/filter/registry.h"
#include "filters/not_active/not_active.h"

namespace sluice::filters::not_active {
namespace {

constexpr double kMaxPrice = 1e6;  // USD per 1M tokens; anything above is a typo

void check_price_map(config::NodeReader& prices) {
  for (const auto& entry : prices.node()) {
    std::string model = entry.first.as<std::string>();
    config::NodeReader price = prices.child(model);
    if (!price.has("input") || !price.has("output")) {
      price.fail_here(
          "a price needs input and output (USD per 1M tokens), e.g. "
          "{input: 2.5, output: 10, cached_input: 1.25}");
    }
    price.number("input", 0, kMaxPrice);
    price.number("output", 0, kMaxPrice);
    price.number("cached_input", 0, kMaxPrice);
    price.finish();
  }
  prices.finish();
}

std::unique_ptr<filter::FilterFactory> build_cost(config::NodeReader& reader,
                                                  const config::Config&) {
  // raw() first: it marks "prices" as a known key even when absent (for did-you-mean).
  const YAML::Node prices = reader.raw("prices");
  if (prices.IsDefined() && !prices.IsNull()) {
    if (prices.IsMap()) {
      config::NodeReader map = reader.child("prices");
      check_price_map(map);
    } else if (prices.IsScalar()) {
      std::optional<std::string> file = reader.string("prices");
      if (!file || file->empty()) reader.fail("prices", "expected a file name or a map of prices");
    } else {
      reader.fail("prices",
                  "expected a file name (prices.yaml) or a map keyed by model: "
                  "{gpt-4o: {input: 2.5, output: 10}}");
    }
  }
  reader.boolean("estimate_missing_usage");
  reader.finish();
  return accept_inactive(reader, "cost");
}

const filter::FilterRegistrar kRegisterCost{"cost", &build_cost};

}  // namespace
}  // namespace sluice::filters::not_active
