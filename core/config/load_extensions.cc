// filters (the chain), plugins.* and tools.*. The loader only checks the shape of a filter
// entry; the filter's own factory validates its config when the chain is built (FilterRegistry),
// with the FilterSpec's position and key path so its errors read like the loader's.
#include <string>

#include "core/config/load_steps.h"

namespace sluice::config::load {
namespace {

bool is_filter_type(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

constexpr const char* kFilterShape =
    "each filter is a mapping with one key, its type, e.g. \"- auth: {modes: [api_key]}\" or "
    "\"- model_alias: {}\"";

FilterSpec read_filter(const YAML::Node& item, size_t index, const std::string& file) {
  const std::string path = "filters[" + std::to_string(index) + "]";
  const SourceMark item_mark = mark_of_node(item, file);
  if (item.IsScalar()) {
    throw ConfigError(item_mark, path,
                      std::string(kFilterShape) + "; got \"" + item.Scalar() +
                          "\" (did you mean \"- " + item.Scalar() + ": {}\"?)");
  }
  if (!item.IsMap() || item.size() != 1) {
    throw ConfigError(item_mark, path,
                      std::string(kFilterShape) +
                          (item.IsMap() ? "; this entry has " + std::to_string(item.size()) +
                                              " keys (is a \"- \" missing?)"
                                        : ""));
  }
  auto entry = item.begin();
  const YAML::Node key = entry->first;
  const SourceMark key_mark =
      mark_of_node(key, file).line > 0 ? mark_of_node(key, file) : item_mark;
  if (!key.IsScalar() || !is_filter_type(key.Scalar())) {
    throw ConfigError(key_mark, path,
                      "a filter type is a lower-case name like auth or model_alias");
  }
  FilterSpec spec;
  spec.type = key.Scalar();
  spec.config = entry->second;
  spec.mark = key_mark;
  spec.key_path = path + "." + spec.type;
  return spec;
}

ToolSpec read_tool(const std::string& name, NodeReader& reader) {
  ToolSpec tool;
  tool.name = name;
  auto type = reader.one_of("type", {"http", "lua", "plugin", "mcp"});
  tool.description = reader.string("description").value_or("");
  auto url = reader.string("url");
  if (auto method = reader.one_of("method", {"GET", "POST", "PUT", "PATCH", "DELETE"})) {
    tool.method = *method;
  }
  if (auto v = positive_duration(reader, "timeout")) tool.timeout = *v;
  tool.input_schema = reader.raw("input_schema");
  reader.finish();
  if (!type) reader.fail("type", "required: http, lua, plugin or mcp");
  tool.type = *type;
  if (tool.input_schema.IsDefined() && !tool.input_schema.IsNull() && !tool.input_schema.IsMap()) {
    reader.fail("input_schema",
                "expected a JSON Schema object, e.g. {type: object, properties: {}}");
  }
  if (tool.type == "http" || tool.type == "mcp") {
    if (!url || url->empty()) reader.fail("url", "required for type " + tool.type);
    std::string error;
    if (!parse_url(*url, error)) reader.fail("url", error);
  }
  tool.url = url.value_or("");
  return tool;
}

}  // namespace

void read_filters(NodeReader& root, Config& config) {
  const YAML::Node list = root.raw("filters");
  if (!list.IsDefined() || list.IsNull()) return;  // no filters: an empty chain
  if (!list.IsSequence()) {
    root.fail("filters", "expected a list, e.g. [{auth: {modes: [api_key]}}, {model_alias: {}}]");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    config.filters.push_back(read_filter(list[i], i, root.file()));
  }
}

void check_budgets_have_cost_filter(const NodeReader& root, const Config& config) {
  for (const FilterSpec& spec : config.filters) {
    if (spec.type == "cost") return;
  }
  // A budget nothing enforces would look like protection and be none.
  const YAML::Node agents = root.node()["agents"];
  for (const auto& [name, agent] : config.agents) {
    if (!agent.budget) continue;
    const YAML::Node budget = agents.IsMap() ? agents[name]["budget"] : YAML::Node();
    throw ConfigError(mark_of_node(budget, root.file()), "agents." + name + ".budget",
                      "needs the cost filter in filters: add \"- cost: {}\" (after model_alias), "
                      "or remove the budget");
  }
}

void read_plugins(NodeReader& root, Config& config) {
  for (auto& [name, reader] : named_entries(root, "plugins", NameRule::Identifier)) {
    auto file = reader.string("file");
    YAML::Node plugin_config = reader.raw("config");
    PluginSpec spec;
    // The bounds of a `lua` filter entry's (filters/lua/lua_settings.cc).
    if (auto n = reader.integer("max_instructions", 1000, 1'000'000'000)) {
      spec.max_instructions = static_cast<uint64_t>(*n);
    }
    if (auto bytes = reader.size("max_memory")) {
      if (*bytes < (uint64_t{1} << 20)) reader.fail("max_memory", "must be at least 1MiB");
      spec.max_memory = *bytes;
    }
    reader.finish();
    if (!file || file->empty()) reader.fail("file", "required: the plugin's .so or .lua file");
    if ((spec.max_instructions || spec.max_memory) && !file->ends_with(".lua")) {
      reader.fail(spec.max_instructions ? "max_instructions" : "max_memory",
                  "applies to Lua plugins only (a .lua file)");
    }
    // Whether the file exists and is a plugin is checked when plugins are loaded, right after
    // (core/plugin/plugin_set.h, filters/lua/lua_provider_source.h), with these marks.
    spec.name = name;
    spec.file = resolve_path(config, *file);
    spec.config = plugin_config;
    spec.mark = reader.mark();
    spec.file_mark = reader.mark_of("file");
    spec.config_mark = reader.mark_of("config");
    config.plugins.emplace(name, std::move(spec));
  }
}

void read_tools(NodeReader& root, Config& config) {
  for (auto& [name, reader] : named_entries(root, "tools", NameRule::Identifier)) {
    config.tools.emplace(name, read_tool(name, reader));
  }
}

}  // namespace sluice::config::load
