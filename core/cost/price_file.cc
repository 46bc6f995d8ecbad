#include "core/cost/price_file.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sluice::cost {

namespace {

// The name the compiled-in prices go by in error messages.
constexpr const char* kEmbeddedName = "prices.yaml (compiled in)";

Price read_price(config::NodeReader& entry) {
  Price price;
  auto input = entry.number("input", 0, kMaxPrice);
  auto output = entry.number("output", 0, kMaxPrice);
  auto cached = entry.number("cached_input", 0, kMaxPrice);
  auto write = entry.number("cache_write", 0, kMaxPrice);
  entry.finish();
  if (!input || !output) {
    entry.fail_here(
        "a price needs input and output (USD per 1M tokens), e.g. "
        "{input: 2.5, output: 10, cached_input: 1.25}");
  }
  price.input = *input;
  price.output = *output;
  price.cached_input = cached.value_or(*input);
  price.cache_write = write.value_or(*input);
  return price;
}

}  // namespace

PriceTable read_price_map(config::NodeReader& map) {
  PriceTable table;
  for (auto it = map.node().begin(); it != map.node().end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) continue;  // finish() reports it
    if (key.Scalar().empty()) {
      throw config::ConfigError(config::mark_of_node(key, map.file()), map.path(),
                                "a model name must not be empty");
    }
    const std::string& model = key.Scalar();
    config::NodeReader entry = map.child(model);
    table.set(model, read_price(entry));
  }
  map.finish();  // duplicate and non-scalar keys
  return table;
}

PriceTable parse_prices_text(const std::string& text, const std::string& file) {
  YAML::Node document;
  try {
    document = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    config::SourceMark mark{file, e.mark.is_null() ? 0 : e.mark.line + 1,
                            e.mark.is_null() ? 0 : e.mark.column + 1};
    throw config::ConfigError(mark, "", "invalid YAML: " + e.msg);
  }
  if (document.IsDefined() && !document.IsNull() && !document.IsMap()) {
    throw config::ConfigError(
        config::mark_of_node(document, file), "",
        "a prices file is a mapping keyed by model, e.g. \"gpt-4o: {input: 2.5, output: 10}\"");
  }
  config::NodeReader map(document, "", file);
  return read_price_map(map);
}

std::optional<PriceTable> load_prices_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    error = "read error";
    return std::nullopt;
  }
  return parse_prices_text(text.str(), path);
}

const PriceTable& default_prices() {
  static const PriceTable table =
      parse_prices_text(std::string(default_prices_yaml()), kEmbeddedName);
  return table;
}

}  // namespace sluice::cost
