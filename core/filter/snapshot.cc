#include "core/filter/snapshot.h"

#include "core/config/node_reader.h"
#include "core/filter/registry.h"

namespace sluice::filter {

std::shared_ptr<const ConfigSnapshot> ConfigSnapshot::build(
    std::shared_ptr<const config::Config> config, uint64_t generation) {
  auto snapshot = std::shared_ptr<ConfigSnapshot>(new ConfigSnapshot());
  snapshot->config_ = config;
  snapshot->generation_ = generation;
  const auto& registry = FilterRegistry::global();

  for (const auto& spec : config->filters) {
    const FilterBuilder* builder = registry.find(spec.type);
    if (builder == nullptr) {
      std::string message = "unknown filter type \"" + spec.type + "\"";
      if (auto guess = config::did_you_mean(spec.type, registry.names())) {
        message += " (did you mean \"" + *guess + "\"?)";
      }
      throw config::ConfigError(spec.mark, spec.key_path, message);
    }
    config::NodeReader reader(spec.config, spec.key_path, config->source_path);
    std::unique_ptr<FilterFactory> factory = (*builder)(reader, *config);
    reader.finish();
    snapshot->filters_.push_back(std::move(factory));
  }

  if (!config->default_provider.empty()) {
    auto it = config->providers.find(config->default_provider);
    if (it != config->providers.end()) snapshot->default_provider_ = &it->second;
  }
  // Without model_alias every request goes to default_provider unchanged (DESIGN §4), so a
  // config that has neither can never route anything: refuse it at load, not per request.
  if (!snapshot->has_filter("model_alias") && snapshot->default_provider_ == nullptr) {
    throw config::ConfigError(config::SourceMark{config->source_path, 1, 1}, "default_provider",
                              "no model_alias filter in the chain and no default_provider: "
                              "set default_provider, or add `- model_alias: {}` to filters");
  }
  return snapshot;
}

bool ConfigSnapshot::has_filter(std::string_view name) const {
  for (const auto& f : filters_) {
    if (f->name() == name) return true;
  }
  return false;
}

}  // namespace sluice::filter
