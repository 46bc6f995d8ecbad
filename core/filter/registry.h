// FilterRegistry: filter type name → builder. Built-in filters (filters/*) and plugins
// register here the same way; core/ never names a filter. A builder parses the filter's YAML
// with a NodeReader (call reader.finish() to reject unknown keys) and may consult the whole
// config (agents, models) to precompute indexes. Builders throw config::ConfigError.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/config/node_reader.h"
#include "core/filter/filter.h"

namespace sluice::filter {

using FilterBuilder = std::function<std::unique_ptr<FilterFactory>(config::NodeReader& reader,
                                                                   const config::Config& config)>;

class FilterRegistry {
 public:
  static FilterRegistry& global();
  void add(std::string name, FilterBuilder builder);
  const FilterBuilder* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::vector<std::pair<std::string, FilterBuilder>> builders_;
};

// `static FilterRegistrar kReg{"auth", &build_auth};` in a filter's .cc registers it at start-up.
struct FilterRegistrar {
  FilterRegistrar(const char* name, FilterBuilder builder) {
    FilterRegistry::global().add(name, std::move(builder));
  }
};

}  // namespace sluice::filter
