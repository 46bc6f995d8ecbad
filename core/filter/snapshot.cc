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
  state::ProcessState& process_state = state::ProcessState::process();
  for (const auto& [name, provider] : config->providers) {
    snapshot->provider_states_.emplace_back(&provider, process_state.provider(name));
  }
  for (const auto& [name, group] : config->models) {
    snapshot->group_cursors_.emplace_back(&group, process_state.group_cursor(name));
  }

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

namespace sluice::filter {

state::ProviderState* ConfigSnapshot::provider_state(const config::Provider& provider) const {
  for (const auto& [p, state] : provider_states_) {
    if (p == &provider) return state;
  }
  return state::ProcessState::process().provider(provider.name);  // not of this config: slow path
}

std::atomic<uint64_t>* ConfigSnapshot::group_cursor(const config::ModelGroup& group) const {
  for (const auto& [g, cursor] : group_cursors_) {
    if (g == &group) return cursor;
  }
  return state::ProcessState::process().group_cursor(group.name);
}

}  // namespace sluice::filter
