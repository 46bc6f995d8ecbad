#include "filters/lua/lua_tool_file.h"

extern "C" {
#include <lauxlib.h>
}

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/config/node_reader.h"
#include "filters/lua/lua_config.h"
#include "filters/lua/lua_json.h"

namespace sluice::filters::lua {
namespace {

// What an entry without an input_schema, whose file declares none, takes: any object.
constexpr const char* kAnyObjectSchema = R"({"type":"object"})";

// The entry's `config:` as written, with its marks: from the document the config was loaded
// from (const lookups: they never insert). A Config built without one (tests) has only the
// JSON text of it, parsed back (its errors then point at the entry).
YAML::Node config_node(const config::ToolSpec& spec, const config::Config& config) {
  const YAML::Node& raw = config.raw;
  if (raw.IsMap()) {
    const YAML::Node tools = raw["tools"];
    if (tools.IsMap()) {
      const YAML::Node entry = tools[spec.name];
      if (entry.IsMap()) return entry["config"];
    }
  }
  if (spec.config_json != "null") return YAML::Load(spec.config_json);
  return YAML::Node();
}

LuaPluginSettings settings_for(const config::ToolSpec& spec, const config::Config& config) {
  LuaPluginSettings s;
  s.file = spec.file;
  s.plugin_dir = std::filesystem::path(spec.file).parent_path().string();
  s.config_path = "tools." + spec.name + ".config";
  if (spec.max_instructions) s.max_instructions = *spec.max_instructions;
  if (spec.max_memory) s.max_memory = *spec.max_memory;
  s.source_file = spec.mark.file.empty() ? config.source_path : spec.mark.file;
  const YAML::Node node = config_node(spec, config);
  s.config_mark = config::mark_of_node(node, s.source_file);
  if (s.config_mark.line == 0) s.config_mark = spec.mark;
  if (!node.IsDefined() || node.IsNull()) {
    // reset(), not =: assigning to a yaml-cpp node writes into the node it refers to.
    s.config.reset(YAML::Node(YAML::NodeType::Map));
  } else if (!node.IsMap()) {
    throw config::ConfigError(s.config_mark, s.config_path,
                              "expected a mapping (the tool's settings), e.g. {url: ...}");
  } else {
    s.config.reset(node);
  }
  return s;
}

}  // namespace

LuaToolFile::LuaToolFile(const config::ToolSpec& spec, LuaPluginSettings settings)
    : tool_(spec.name), timeout_(spec.timeout), states_(std::move(settings)) {}

std::unique_ptr<LuaToolFile> LuaToolFile::load(const config::ToolSpec& spec,
                                               const config::Config& config) {
  const config::SourceMark& file_mark = spec.file_mark.line > 0 ? spec.file_mark : spec.mark;
  const std::string file_key = "tools." + spec.name + ".file";
  if (::access(spec.file.c_str(), R_OK) != 0) {
    throw config::ConfigError(file_mark, file_key,
                              "cannot read \"" + spec.file + "\": " + std::strerror(errno));
  }
  LuaPluginSettings settings = settings_for(spec, config);
  try {
    auto tool = std::make_unique<LuaToolFile>(spec, std::move(settings));
    tool->read_declarations(spec);
    // Also used later for a worker the load did not foresee: the object never moves.
    const LuaToolFile* self = tool.get();
    tool->states_.build(WorkerStates::workers_of(config),
                        [self](LuaState& state) { load_config(state, self->states_.settings()); });
    return tool;
  } catch (const PluginLoadError& e) {
    // The message names the Lua file (and line); the mark says which entry.
    throw config::ConfigError(file_mark, file_key, e.what());
  }
}

void LuaToolFile::read_declarations(const config::ToolSpec& spec) {
  LuaState& first = states_.first();
  const std::string& file = states_.settings().file;
  switch (first.kind()) {
    case PluginKind::Tool:
      break;
    case PluginKind::Filter:
      throw PluginLoadError("Lua plugin " + file +
                            " is a filter (it defines on_* hooks): a tool's file returns a table "
                            "with call = function(args, ctx) ... end; a filter goes in filters: "
                            "as - lua: {file: ...}");
    case PluginKind::Provider:
      throw PluginLoadError("Lua plugin " + file +
                            " is a provider (it defines transform_request): a tool's file "
                            "returns a table with call = function(args, ctx) ... end; a provider "
                            "goes under plugins:");
  }
  lua_State* L = first.L();
  auto fail = [&](const std::string& message) {
    lua_settop(L, 0);
    throw PluginLoadError("Lua plugin " + file + ": " + message);
  };
  // Raw reads only: this runs outside a protected call (see raw_field).
  lua_rawgeti(L, LUA_REGISTRYINDEX, first.plugin_ref());
  const int table = lua_gettop(L);

  raw_field(L, table, "description");
  if (lua_type(L, -1) == LUA_TSTRING) {
    description_ = lua_tostring(L, -1);
  } else if (!lua_isnil(L, -1)) {
    fail(std::string("description must be a string, not a ") + luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  if (!spec.description.empty()) description_ = spec.description;

  raw_field(L, table, "input_schema");
  if (lua_istable(L, -1)) {
    std::string json;
    std::string error;
    if (!json_encode(L, -1, json, &error)) fail("input_schema cannot be written as JSON: " + error);
    if (json.front() != '{') {
      fail(
          "input_schema must be a JSON Schema object, like {type = \"object\", properties = "
          "{text = {type = \"string\"}}, required = {\"text\"}}");
    }
    input_schema_json_ = std::move(json);
  } else if (!lua_isnil(L, -1)) {
    fail(std::string("input_schema must be a table (a JSON Schema object), not a ") +
         luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  if (!spec.input_schema_json.empty()) input_schema_json_ = spec.input_schema_json;
  if (input_schema_json_.empty()) input_schema_json_ = kAnyObjectSchema;
  lua_settop(L, table - 1);
}

}  // namespace sluice::filters::lua
