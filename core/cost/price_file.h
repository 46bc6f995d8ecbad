// Prices as written in YAML — conf/prices.yaml, a file named by `cost: {prices: FILE}`, or the
// inline map `cost: {prices: {MODEL: {...}}}` — all the same shape:
//
//   gpt-4o:            {input: 2.50, output: 10.00, cached_input: 1.25}
//   claude-sonnet-4-5: {input: 3.00, output: 15.00, cached_input: 0.30, cache_write: 3.75}
//
// keyed by physical model (what a target's `model:` names), in USD per 1M tokens. input and
// output are required; cached_input and cache_write default to input. Every price is a number
// from 0 to 1e6. Errors are config::ConfigError naming file:line:column and the key path
// (e.g. "prices.yaml:12:25: gpt-4o.cached_input: must be from 0 to 1000000, got -1").
// Config load only: these throw, and never run per request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/config/node_reader.h"
#include "core/cost/price_table.h"

namespace sluice::cost {

// The most a price may be, USD per 1M tokens (anything above is a typo).
inline constexpr double kMaxPrice = 1e6;

// Reads a map of prices (the reader is over the map itself); finishes it.
PriceTable read_price_map(config::NodeReader& map);

// Reads and parses a prices file. A file that cannot be read: nullopt, with `error` set to the
// reason (the caller names the key that points at the file). Content that is not valid YAML
// or not valid prices: ConfigError naming the file and the line.
std::optional<PriceTable> load_prices_file(const std::string& path, std::string& error);

// Parses the text of a prices file; `file` is the name errors give.
PriceTable parse_prices_text(const std::string& text, const std::string& file);

// The prices compiled into sluice (conf/prices.yaml at build time), parsed on first use and
// kept for the life of the process. Throws ConfigError only if the embedded file is broken
// (a build-time mistake that the unit tests catch).
const PriceTable& default_prices();

// The embedded text (generated from conf/prices.yaml by CMake: default_prices.cc.in).
std::string_view default_prices_yaml();

}  // namespace sluice::cost
