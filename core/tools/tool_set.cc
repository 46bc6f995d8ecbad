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

// By name, then by source: std::unique after it keeps the first source's tool of a name.
template <typename Ranked>
void sort_and_dedupe(std::vector<Ranked>& tools) {
  std::sort(tools.begin(), tools.end(), [](const Ranked& a, const Ranked& b) {
    if (const int c = a.entry->name.compare(b.entry->name); c != 0) return c < 0;
    return a.source < b.source;
  });
  tools.erase(
      std::unique(tools.begin(), tools.end(),
                  [](const Ranked& a, const Ranked& b) { return a.entry->name == b.entry->name; }),
      tools.end());
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
  // The fixed sources' lists, read once, and their tools' names: a call finds its tool in the
  // index instead of scanning every source, a list filters them once per agent.
  auto fixed = std::make_shared<std::vector<std::shared_ptr<const ToolList>>>();
  for (size_t i = 0; i < set->sources_.size(); ++i) {
    const ToolSource& source = *set->sources_[i];
    if (!source.fixed()) {
      fixed->push_back(nullptr);
      set->dynamic_.push_back(i);
      continue;
    }
    fixed->push_back(source.tools());
    for (const ToolEntry& entry : *fixed->back()) {
      // The first tool of a name (or function name) wins, as a scan in source order finds it.
      set->fixed_by_name_.emplace(entry.name, FixedHit{i, &entry});
      set->fixed_by_name_.emplace(entry.function_name, FixedHit{i, &entry});
    }
  }
  set->fixed_lists_ = std::move(fixed);
  for (const auto& [name, agent] : config.agents) {
    auto view = std::make_unique<AgentView>();
    view->patterns = agent.tools;
    set->agents_.emplace(name, std::move(view));
  }
  return set;
}

std::vector<ToolSet::Ranked> ToolSet::fixed_visible_to(const config::Agent* agent) const {
  std::vector<Ranked> out;
  for (size_t i = 0; i < fixed_lists_->size(); ++i) {
    const std::shared_ptr<const ToolList>& list = (*fixed_lists_)[i];
    if (!list) continue;
    for (const ToolEntry& entry : *list) {
      if (allowed(agent, entry.name)) out.push_back(Ranked{&entry, i});
    }
  }
  sort_and_dedupe(out);
  return out;
}

VisibleTools ToolSet::visible_to(const config::Agent* agent) const {
  VisibleTools out;
  if (agent != nullptr && agent->tools.empty()) return out;
  // The fixed sources' part: remembered per agent of the config this set was built from (an
  // agent whose allow-list is not that one's, e.g. of another config, is worked out afresh).
  AgentView* view = nullptr;
  if (agent == nullptr) {
    view = anonymous_.get();
  } else if (auto it = agents_.find(agent->name);
             it != agents_.end() && it->second->patterns == agent->tools) {
    view = it->second.get();
  }
  std::vector<Ranked> own;
  const std::vector<Ranked>* fixed = &own;
  if (view != nullptr) {
    std::call_once(view->once, [&] { view->fixed = fixed_visible_to(agent); });
    fixed = &view->fixed;
  } else {
    own = fixed_visible_to(agent);
  }
  out.held_fixed = fixed_lists_;
  if (dynamic_.empty()) {
    out.entries.reserve(fixed->size());
    for (const Ranked& r : *fixed) out.entries.push_back(r.entry);
    return out;
  }
  // Upstream MCP servers' lists change: read on every request, merged by name.
  std::vector<Ranked> all(*fixed);
  for (size_t i : dynamic_) {
    std::shared_ptr<const ToolList> list = sources_[i]->tools();
    bool any = false;
    for (const ToolEntry& entry : *list) {
      if (!allowed(agent, entry.name)) continue;
      all.push_back(Ranked{&entry, i});
      any = true;
    }
    if (any) out.held.push_back(std::move(list));
  }
  // An upstream MCP server may offer a name another source has: the first source wins.
  sort_and_dedupe(all);
  out.entries.reserve(all.size());
  for (const Ranked& r : all) out.entries.push_back(r.entry);
  return out;
}

FoundTool ToolSet::find(const config::Agent* agent, std::string_view name) const {
  FoundTool found;
  if (agent != nullptr && agent->tools.empty()) return found;
  // The first source (in config order) with a tool of that name or function name: the fixed
  // ones' from the index, a dynamic one before it by scanning its current list.
  size_t first_fixed = sources_.size();
  const ToolEntry* fixed_entry = nullptr;
  if (auto it = fixed_by_name_.find(name); it != fixed_by_name_.end()) {
    first_fixed = it->second.source;
    fixed_entry = it->second.entry;
  }
  for (size_t i : dynamic_) {
    if (i > first_fixed) break;
    std::shared_ptr<const ToolList> list = sources_[i]->tools();
    for (const ToolEntry& entry : *list) {
      if (entry.name != name && entry.function_name != name) continue;
      if (!allowed(agent, entry.name)) return found;
      found.entry = &entry;
      found.held = std::move(list);
      return found;
    }
  }
  if (fixed_entry == nullptr || !allowed(agent, fixed_entry->name)) return found;
  found.entry = fixed_entry;
  found.held = (*fixed_lists_)[first_fixed];
  return found;
}

}  // namespace sluice::tools
