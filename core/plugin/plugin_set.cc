#include "core/plugin/plugin_set.h"

#include "core/filter/registry.h"

#include "core/config/node_reader.h"
#include "core/config/yaml_json.h"

namespace sluice::plugin {

bool is_shared_object_plugin(const config::PluginSpec& spec) {
  return !spec.file.ends_with(".lua");
}

std::shared_ptr<const PluginSet> PluginSet::load(const config::Config& config) {
  auto set = std::make_shared<PluginSet>();
  for (const auto& [name, spec] : config.plugins) {
    if (!is_shared_object_plugin(spec)) continue;
    PluginLibrary::Spec what{name, spec.file, config::yaml_to_json(spec.config)};
    std::string error;
    auto library = PluginLibrary::open(what, &error);
    if (!library) {
      const config::SourceMark& mark = spec.file_mark.line > 0 ? spec.file_mark : spec.mark;
      throw config::ConfigError(mark, "plugins." + name + ".file", error);
    }
    // One name, one filter: which of two plugins `- plugin: {name: X}` means must not depend
    // on the order of plugins:.
    for (const auto& f : library->filters()) {
      FoundFilter other = set->find_filter(f.name);
      if (other.library) {
        throw config::ConfigError(spec.mark, "plugins." + name,
                                  "plugin \"" + name + "\" registers filter \"" + f.name +
                                      "\", which plugin \"" + other.library->name() +
                                      "\" already registers: rename one of them");
      }
    }
    set->libraries_.push_back(std::move(library));
  }
  return set;
}

FoundFilter PluginSet::find_filter(std::string_view name) const {
  for (const auto& library : libraries_) {
    if (const FilterRegistration* f = library->find_filter(name)) return FoundFilter{library, f};
  }
  return FoundFilter{};
}

std::vector<std::string> PluginSet::filter_names() const {
  std::vector<std::string> names;
  for (const auto& library : libraries_) {
    for (const auto& f : library->filters()) names.push_back(f.name);
  }
  return names;
}

std::shared_ptr<const providers::ProviderCodec> PluginSet::provider_codec(
    const config::Provider&) const {
  return nullptr;
}

std::string PluginSet::default_base_url(std::string_view) const {
  return {};
}

std::shared_ptr<const providers::ClientApiCodec> PluginSet::client_api(filter::Endpoint) const {
  return nullptr;
}

void PluginSet::provider_types(std::vector<std::string>&) const {}

namespace {

// Every shared-object plugin of `plugins:` is opened when the config loads (a missing or broken
// one refuses the load, `sluice validate` included), not only when a `- plugin:` filter uses
// it. The plugin filter's builder finds the same libraries again through the loader's cache.
const filter::SnapshotExtensionRegistrar kLoadPluginsAtConfigLoad{
    [](const config::Config& config) -> std::shared_ptr<const providers::ProviderTypeSource> {
      return PluginSet::load(config);
    }};

}  // namespace

}  // namespace sluice::plugin
