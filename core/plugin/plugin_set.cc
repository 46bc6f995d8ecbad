#include "core/plugin/plugin_set.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/config/node_reader.h"
#include "core/config/yaml_json.h"
#include "core/filter/registry.h"
#include "core/plugin/plugin_tool.h"
#include "core/plugin/plugin_translation.h"

namespace sluice::plugin {
namespace {

bool is_builtin_type(std::string_view type) {
  return type == "openai" || type == "mock";
}

// Where the plugins shipped with sluice are (DESIGN §9): $SLUICE_PLUGIN_PATH (a list of
// directories, ':'-separated), else plugins/ next to the sluice binary.
std::vector<std::filesystem::path> plugin_directories() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("SLUICE_PLUGIN_PATH"); env != nullptr && *env != '\0') {
    std::string_view rest(env);
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) dirs.emplace_back(dir);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
    return dirs;
  }
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path() / "plugins");
  return dirs;
}

// The shipped plugin of that name (libsluice_<name>.so), or "" when there is none.
std::string find_shipped(std::string_view name) {
  for (const auto& dir : plugin_directories()) {
    auto file = dir / ("libsluice_" + std::string(name) + ".so");
    std::error_code ec;
    if (std::filesystem::is_regular_file(file, ec)) return file.string();
  }
  return {};
}

// "dir1, dir2" for messages.
std::string directories_text() {
  std::string where;
  for (const auto& dir : plugin_directories()) {
    where.append(where.empty() ? "" : ", ").append(dir.string());
  }
  return where.empty() ? std::string("no directory") : where;
}

}  // namespace

bool is_shared_object_plugin(const config::PluginSpec& spec) {
  return !spec.file.ends_with(".lua");
}

std::shared_ptr<const PluginSet> PluginSet::load(const config::Config& config) {
  auto set = std::make_shared<PluginSet>();
  set->load_declared(config);
  set->load_shipped(config);
  return set;
}

void PluginSet::load_declared(const config::Config& config) {
  for (const auto& [name, spec] : config.plugins) {
    if (!is_shared_object_plugin(spec)) continue;
    std::string file = spec.file;
    if (file.empty()) {  // a shipped plugin, configured by name
      file = find_shipped(name);
      if (file.empty()) {
        throw config::ConfigError(spec.mark, "plugins." + name + ".file",
                                  "required: sluice ships no plugin named " + name +
                                      " (no libsluice_" + name + ".so in " + directories_text() +
                                      "); give the plugin's .so or .lua file");
      }
    }
    PluginLibrary::Spec what{name, file, config::yaml_to_json(spec.config), config.base_dir};
    std::string error;
    auto library = PluginLibrary::open(what, &error);
    if (!library) {
      const config::SourceMark& mark = spec.file_mark.line > 0 ? spec.file_mark : spec.mark;
      // A shipped plugin configured by name has no `file` to blame: the entry is at fault.
      throw config::ConfigError(mark, "plugins." + name + (spec.file.empty() ? "" : ".file"),
                                error);
    }
    // One name, one filter: which of two plugins `- plugin: {name: X}` means must not depend
    // on the order of plugins:.
    for (const auto& f : library->filters()) {
      FoundFilter other = find_filter(f.name);
      if (other.library) {
        throw config::ConfigError(spec.mark, "plugins." + name,
                                  "plugin \"" + name + "\" registers filter \"" + f.name +
                                      "\", which plugin \"" + other.library->name() +
                                      "\" already registers: rename one of them");
      }
    }
    for (const auto& p : library->providers()) {
      if (const PluginLibrary* other = provider_library(p.type)) {
        throw config::ConfigError(spec.mark, "plugins." + name,
                                  "plugin \"" + name + "\" registers provider type \"" + p.type +
                                      "\", which plugin \"" + other->name() +
                                      "\" already registers: declare only one of them");
      }
    }
    libraries_.push_back(std::move(library));
  }
}

void PluginSet::load_shipped(const config::Config& config) {
  // A provider type nobody declared is looked up among the shipped plugins by name, so
  // `type: anthropic` works without a plugins: entry. A Lua plugin's key is its type.
  auto declared_lua = [&](const std::string& type) {
    auto it = config.plugins.find(type);
    return it != config.plugins.end() && !is_shared_object_plugin(it->second);
  };
  std::vector<std::string> wanted;
  bool any_network_provider = false;
  for (const auto& [name, provider] : config.providers) {
    if (provider.type != "mock") any_network_provider = true;
    if (is_builtin_type(provider.type) || provider_library(provider.type) != nullptr ||
        declared_lua(provider.type) || config.plugins.count(provider.type) != 0) {
      continue;
    }
    if (std::find(wanted.begin(), wanted.end(), provider.type) == wanted.end()) {
      wanted.push_back(provider.type);
    }
  }
  // Anthropic's clients reach every other provider through the anthropic plugin's client API:
  // loaded when there is a provider to reach and no plugin of the config offers that API.
  const bool has_messages_api =
      std::any_of(libraries_.begin(), libraries_.end(),
                  [](const auto& l) { return !l->client_apis().empty(); });
  if (any_network_provider && !has_messages_api && config.plugins.count("anthropic") == 0 &&
      std::find(wanted.begin(), wanted.end(), "anthropic") == wanted.end()) {
    wanted.push_back("anthropic");
  }
  // A plugin tool whose plugin is not declared: a shipped one (`memory.query: {type: plugin}`
  // loads libsluice_memory.so), or an error that says where sluice looked.
  for (const auto& [name, tool] : config.tools) {
    if (tool.type != "plugin" || config.plugins.count(tool.plugin) != 0) continue;
    if (std::find(wanted.begin(), wanted.end(), tool.plugin) != wanted.end()) continue;
    if (find_shipped(tool.plugin).empty()) {
      throw config::ConfigError(tool.file_mark.line > 0 ? tool.file_mark : tool.mark,
                                "tools." + name + ".plugin",
                                "no plugin named \"" + tool.plugin +
                                    "\": it is not under plugins:, and sluice ships no "
                                    "libsluice_" +
                                    tool.plugin + ".so (looked in " + directories_text() +
                                    "; $SLUICE_PLUGIN_PATH sets where)");
    }
    wanted.push_back(tool.plugin);
  }
  for (const std::string& name : wanted) {
    const std::string file = find_shipped(name);
    if (file.empty()) continue;  // resolve_codecs reports an unknown type
    std::string error;
    auto library =
        PluginLibrary::open(PluginLibrary::Spec{name, file, "null", config.base_dir}, &error);
    if (!library) {
      throw config::ConfigError(config::SourceMark{config.source_path, 1, 1}, "plugins",
                                std::string("the shipped plugin ")
                                    .append(name)
                                    .append(" cannot be loaded: ")
                                    .append(error));
    }
    libraries_.push_back(std::move(library));
  }
}

const PluginLibrary* PluginSet::provider_library(std::string_view type) const {
  for (const auto& library : libraries_) {
    if (library->find_provider(type) != nullptr) return library.get();
  }
  return nullptr;
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
    const config::Provider& provider) const {
  for (const auto& library : libraries_) {
    if (const ProviderRegistration* type = library->find_provider(provider.type)) {
      return std::make_shared<PluginProviderCodec>(library, *type, provider);
    }
  }
  return nullptr;
}

std::string PluginSet::default_base_url(std::string_view type) const {
  for (const auto& library : libraries_) {
    if (const ProviderRegistration* p = library->find_provider(type)) return p->default_base_url;
  }
  return {};
}

std::shared_ptr<const providers::ClientApiCodec> PluginSet::client_api(
    filter::Endpoint endpoint) const {
  const sluice_endpoint bit = endpoint_bit(endpoint);
  for (const auto& library : libraries_) {
    for (const auto& api : library->client_apis()) {
      if (api.vtable.endpoint == bit) {
        return std::make_shared<PluginClientApiCodec>(library, api);
      }
    }
  }
  return nullptr;
}

std::shared_ptr<tools::ToolSource> PluginSet::tool_source(const config::ToolSpec& spec) const {
  if (spec.type != "plugin") return nullptr;
  for (const auto& library : libraries_) {
    if (library->name() != spec.plugin) continue;
    const ToolRegistration* tool = library->find_tool(spec.name);
    if (tool == nullptr) {
      std::string names;
      for (const auto& t : library->tools()) names.append(names.empty() ? "" : ", ").append(t.name);
      throw config::ConfigError(spec.mark, "tools." + spec.name,
                                "plugin " + spec.plugin + " (" + library->file() +
                                    ") registers no tool \"" + spec.name + "\"; it registers " +
                                    (names.empty() ? std::string("no tools") : names));
    }
    return make_plugin_tool_source(library, *tool, spec);
  }
  return nullptr;
}

void PluginSet::provider_types(std::vector<std::string>& out) const {
  for (const auto& library : libraries_) {
    for (const auto& p : library->providers()) out.push_back(p.type);
  }
}

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
