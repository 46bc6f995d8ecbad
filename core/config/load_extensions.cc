// filters (the chain), plugins.* and tools.*. The loader only checks the shape of a filter
// entry; the filter's own factory validates its config when the chain is built (FilterRegistry),
// with the FilterSpec's position and key path so its errors read like the loader's.
#include <string>

#include "core/config/load_steps.h"
#include "core/config/yaml_json.h"

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

// One tools: entry. Which keys a type takes is checked here (a key another type takes is an
// error naming the types it belongs to); the schema itself, the Lua file and the plugin's tool
// are checked when the snapshot builds its ToolSet (core/tools), with these marks.
ToolSpec read_tool(const std::string& name, NodeReader& reader, const Config& config) {
  ToolSpec tool;
  tool.name = name;
  tool.mark = reader.mark();
  auto type = reader.one_of("type", {"http", "lua", "plugin", "mcp"});
  tool.description = reader.string("description").value_or("");
  auto url = reader.string("url");
  auto method = reader.one_of("method", {"GET", "POST", "PUT", "PATCH", "DELETE"});
  if (auto v = positive_duration(reader, "timeout")) tool.timeout = *v;
  auto max_response = reader.size("max_response");
  auto file = reader.string("file");
  auto plugin = reader.string("plugin");
  const bool has_headers = reader.node()["headers"].IsDefined();
  if (has_headers) tool.headers = read_headers(reader);
  YAML::Node schema = reader.raw("input_schema");
  tool.input_schema_mark = reader.mark_of("input_schema");
  YAML::Node tool_config = reader.raw("config");
  // The bounds of a `lua` filter entry's (filters/lua/lua_settings.cc).
  if (auto n = reader.integer("max_instructions", 1000, 1'000'000'000)) {
    tool.max_instructions = static_cast<uint64_t>(*n);
  }
  if (auto bytes = reader.size("max_memory")) {
    if (*bytes < (uint64_t{1} << 20)) reader.fail("max_memory", "must be at least 1MiB");
    tool.max_memory = *bytes;
  }
  reader.finish();
  if (!type) reader.fail("type", "required: http, lua, plugin or mcp");
  tool.type = *type;

  // A key that only some types take, on an entry of another type: say which types take it.
  auto only_for = [&](bool present, const char* key, std::initializer_list<const char*> types) {
    if (!present) return;
    for (const char* t : types) {
      if (tool.type == t) return;
    }
    std::string which;
    for (const char* t : types) which.append(which.empty() ? "" : " and ").append(t);
    reader.fail(key, std::string("applies to type ") + which + " only, not " + tool.type);
  };
  only_for(url.has_value(), "url", {"http", "mcp"});
  only_for(method.has_value(), "method", {"http"});
  only_for(has_headers, "headers", {"http", "mcp"});
  only_for(max_response.has_value(), "max_response", {"http", "mcp"});
  only_for(file.has_value(), "file", {"lua"});
  only_for(plugin.has_value(), "plugin", {"plugin"});
  only_for(tool_config.IsDefined() && !tool_config.IsNull(), "config", {"lua", "plugin"});
  only_for(tool.max_instructions.has_value(), "max_instructions", {"lua"});
  only_for(tool.max_memory.has_value(), "max_memory", {"lua"});
  // An mcp entry's tools come with their own descriptions and schemas.
  only_for(schema.IsDefined() && !schema.IsNull(), "input_schema", {"http", "lua", "plugin"});
  only_for(!tool.description.empty(), "description", {"http", "lua", "plugin"});

  if (method) tool.method = *method;
  if (max_response) {
    if (*max_response == 0) reader.fail("max_response", "must be at least 1 byte");
    if (*max_response > (uint64_t{64} << 20)) reader.fail("max_response", "at most 64MiB");
    tool.max_response = *max_response;
  }
  if (schema.IsDefined() && !schema.IsNull()) {
    if (!schema.IsMap()) {
      reader.fail("input_schema",
                  "expected a JSON Schema object, e.g. {type: object, properties: {}}");
    }
    tool.input_schema_json = yaml_to_json(schema);
  }
  if (tool_config.IsDefined() && !tool_config.IsNull())
    tool.config_json = yaml_to_json(tool_config);
  if (tool.type == "http" || tool.type == "mcp") {
    if (!url || url->empty()) reader.fail("url", "required for type " + tool.type);
    std::string error;
    if (!parse_url(*url, error)) reader.fail("url", error);
    tool.url = *url;
    tool.file_mark = reader.mark_of("url");
  } else if (tool.type == "lua") {
    if (!file || file->empty()) reader.fail("file", "required for type lua: the tool's .lua file");
    tool.file = resolve_path(config, *file);
    tool.file_mark = reader.mark_of("file");
  } else {  // plugin
    // Without `plugin:`, a tool named memory.query comes from the plugin named memory.
    std::string owner = plugin.value_or(name.substr(0, name.find('.')));
    if (owner.empty()) reader.fail("plugin", "required for type plugin: the plugin's name");
    tool.plugin = owner;
    tool.file_mark = reader.mark_of("plugin");
  }
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
    // Without `file`, a plugin shipped with sluice is found by its name (libsluice_<name>.so),
    // so `memory: {config: {...}}` configures the shipped memory plugin; core/plugin says where
    // it looked when there is none.
    if (file && file->empty()) reader.fail("file", "the plugin's .so or .lua file, or omit it");
    if ((spec.max_instructions || spec.max_memory) && !(file && file->ends_with(".lua"))) {
      reader.fail(spec.max_instructions ? "max_instructions" : "max_memory",
                  "applies to Lua plugins only (a .lua file)");
    }
    // Whether the file exists and is a plugin is checked when plugins are loaded, right after
    // (core/plugin/plugin_set.h, filters/lua/lua_provider_source.h), with these marks.
    spec.name = name;
    if (file) spec.file = resolve_path(config, *file);
    spec.config = plugin_config;
    spec.mark = reader.mark();
    spec.file_mark = reader.mark_of("file");
    spec.config_mark = reader.mark_of("config");
    config.plugins.emplace(name, std::move(spec));
  }
}

void read_tools(NodeReader& root, Config& config) {
  for (auto& [name, reader] : named_entries(root, "tools", NameRule::Identifier)) {
    config.tools.emplace(name, read_tool(name, reader, config));
  }
}

}  // namespace sluice::config::load
