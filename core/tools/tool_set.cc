#include "core/tools/tool_set.h"

#include <algorithm>
#include <map>

#include "core/config/name_glob.h"
#include "core/filter/registry.h"
#include "core/providers/translation.h"

namespace sluice::tools {
namespace {

// OpenAI function names: ^[a-zA-Z0-9_-]{1,64}$. Tool names are identifiers (letters, digits,
// '_', '-', '.'), so only the length can be wrong once '.' became '_'.
constexpr size_t kMaxFunctionName = 64;

bool allowed(const config::Agent* agent, std::string_view name) {
  if (agent == nullptr) return true;
  for (const std::string& pattern : agent->tools) {
    if (config::glob_match(pattern, name)) return true;
  }
  return false;
}

std::shared_ptr<ToolSource> build_source(
    const config::ToolSpec& spec, const config::Config& config,
    std::span<const std::shared_ptr<const providers::ProviderTypeSource>> extensions) {
  if (spec.type == "plugin") {
    for (const auto& extension : extensions) {
      if (!extension) continue;
      if (auto source = extension->tool_source(spec)) return source;
    }
    throw config::ConfigError(spec.file_mark, "tools." + spec.name + ".plugin",
                              "no plugin named \"" + spec.plugin +
                                  "\" is loaded: add it under plugins: (plugins: {" + spec.plugin +
                                  ": {file: ...}}), or check the name");
  }
  const ToolSourceBuilder* builder = ToolTypeRegistry::global().find(spec.type);
  if (builder == nullptr) {
    throw config::ConfigError(spec.mark, "tools." + spec.name + ".type",
                              "tool type \"" + spec.type + "\" is not available in this build");
  }
  return (*builder)(ToolBuildInputs{spec, config});
}

std::shared_ptr<const ToolSet> build_tool_set(
    const config::Config& config,
    std::span<const std::shared_ptr<const providers::ProviderTypeSource>> extensions) {
  return ToolSet::build(config, extensions);
}

const filter::FilterRegistry& register_builder() {
  static const bool done = [] {
    filter::FilterRegistry::global().set_tool_set_builder(&build_tool_set);
    return true;
  }();
  (void)done;
  return filter::FilterRegistry::global();
}
// Registers the builder at start-up; tool_set.cc is always linked (the session uses ToolSet).
[[maybe_unused]] const filter::FilterRegistry& kRegistered = register_builder();

}  // namespace

std::shared_ptr<const ToolSet> ToolSet::build(
    const config::Config& config,
    std::span<const std::shared_ptr<const providers::ProviderTypeSource>> extensions) {
  auto set = std::make_shared<ToolSet>();
  // Two static tools may not share an OpenAI function name ("a.b" and "a_b"): GET /v1/tools
  // could not tell them apart. (An upstream MCP server's tools are checked as they arrive.)
  std::map<std::string, std::string> functions;
  for (const auto& [name, spec] : config.tools) {
    std::shared_ptr<ToolSource> source = build_source(spec, config, extensions);
    for (const ToolEntry& entry : *source->tools()) {
      if (entry.function_name.size() > kMaxFunctionName) {
        throw config::ConfigError(spec.mark, "tools." + name,
                                  "\"" + entry.name +
                                      "\" is too long for an OpenAI function "
                                      "name (at most 64 characters)");
      }
      auto [it, inserted] = functions.emplace(entry.function_name, entry.name);
      if (!inserted && it->second != entry.name) {
        throw config::ConfigError(spec.mark, "tools." + name,
                                  "\"" + entry.name + "\" and \"" + it->second +
                                      "\" are both the OpenAI function \"" + entry.function_name +
                                      "\" in GET /v1/tools: rename one");
      }
    }
    set->sources_.push_back(std::move(source));
  }
  return set;
}

VisibleTools ToolSet::visible_to(const config::Agent* agent) const {
  VisibleTools out;
  if (agent != nullptr && agent->tools.empty()) return out;
  for (const auto& source : sources_) {
    std::shared_ptr<const ToolList> list = source->tools();
    bool any = false;
    for (const ToolEntry& entry : *list) {
      if (!allowed(agent, entry.name)) continue;
      out.entries.push_back(&entry);
      any = true;
    }
    if (any) out.held.push_back(std::move(list));
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const ToolEntry* a, const ToolEntry* b) { return a->name < b->name; });
  // An upstream MCP server may offer a name a static tool has: the first one wins.
  out.entries.erase(
      std::unique(out.entries.begin(), out.entries.end(),
                  [](const ToolEntry* a, const ToolEntry* b) { return a->name == b->name; }),
      out.entries.end());
  return out;
}

FoundTool ToolSet::find(const config::Agent* agent, std::string_view name) const {
  FoundTool found;
  if (agent != nullptr && agent->tools.empty()) return found;
  for (const auto& source : sources_) {
    std::shared_ptr<const ToolList> list = source->tools();
    for (const ToolEntry& entry : *list) {
      if (entry.name != name && entry.function_name != name) continue;
      if (!allowed(agent, entry.name)) return found;
      found.entry = &entry;
      found.held = std::move(list);
      return found;
    }
  }
  return found;
}

}  // namespace sluice::tools
