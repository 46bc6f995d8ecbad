#include "filters/lua/lua_config.h"

extern "C" {
#include <lauxlib.h>
}

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/config/node_reader.h"
#include "filters/lua/lua_json.h"

namespace sluice::filters::lua {
namespace {

// Everything here runs outside a protected call, on tables the plugin made: only raw reads
// (raw_field, lua_rawgeti, lua_next) and no call into Lua, so no metamethod or global of the
// plugin can raise — LuaJIT would abort the process.

// One field description of a schema, read from its Lua table.
struct FieldSpec {
  std::string type = "any";
  std::string of;  // arrays: the elements' type ("" = any)
  bool required = false;
  std::optional<double> min, max;
  bool has_one_of = false;
};

class ConfigBuilder {
 public:
  ConfigBuilder(lua_State* L, const LuaPluginSettings& settings) : L_(L), settings_(settings) {}

  // Pushes the config table.
  void build(int schema_ref) {
    const YAML::Node& config = settings_.config;
    if (schema_ref == LUA_NOREF) {
      push_free_form(config, settings_.config_path);
      return;
    }
    lua_rawgeti(L_, LUA_REGISTRYINDEX, schema_ref);
    const int schema = lua_gettop(L_);
    std::vector<std::string> known;
    lua_pushnil(L_);
    while (lua_next(L_, schema) != 0) {
      if (lua_type(L_, -2) != LUA_TSTRING || !lua_istable(L_, -1)) {
        schema_error("each schema entry is key = {type = ...}");
      }
      known.emplace_back(lua_tostring(L_, -2));
      lua_pop(L_, 1);
    }
    for (auto it = config.begin(); it != config.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      bool ok = false;
      for (const std::string& k : known) ok = ok || k == key;
      if (ok) continue;
      std::string message = "unknown key \"" + key + "\" for plugin \"" + plugin_name() + "\"";
      if (auto guess = config::did_you_mean(key, known)) {
        message += " (did you mean \"" + *guess + "\"?)";
      }
      fail(it->first, settings_.config_path + "." + key, message);
    }
    lua_newtable(L_);
    const int out = lua_gettop(L_);
    for (const std::string& key : known) {
      raw_field(L_, schema, key.c_str());
      const int field = lua_gettop(L_);
      FieldSpec spec = read_spec(field, key);
      const std::string path = settings_.config_path + "." + key;
      const YAML::Node value = config[key];
      if (!value.IsDefined() || value.IsNull()) {
        raw_field(L_, field, "default");
        if (!lua_isnil(L_, -1)) {
          lua_setfield(L_, out, key.c_str());
        } else {
          lua_pop(L_, 1);
          if (spec.required) {
            fail(config, settings_.config_path,
                 "missing required key \"" + key + "\" (plugin \"" + plugin_name() + "\")");
          }
        }
      } else {
        push_typed(value, spec.type, spec.of, path);
        check_value(field, spec, value, path);
        lua_setfield(L_, out, key.c_str());
      }
      lua_pop(L_, 1);  // the field spec
    }
    lua_remove(L_, schema);
  }

 private:
  std::string plugin_name() const { return LuaState::from(L_)->plugin_name(); }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& path,
                         const std::string& message) const {
    config::SourceMark mark = config::mark_of_node(node, settings_.source_file);
    if (mark.line == 0) mark = settings_.config_mark;
    throw config::ConfigError(mark, path, message);
  }

  [[noreturn]] void schema_error(const std::string& message) const {
    throw PluginLoadError("Lua plugin " + settings_.file + ": its schema is malformed: " + message);
  }

  FieldSpec read_spec(int field, const std::string& key) {
    FieldSpec spec;
    raw_field(L_, field, "type");
    if (lua_type(L_, -1) == LUA_TSTRING) spec.type = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    static const char* const kTypes[] = {"string", "number", "integer", "boolean",
                                         "array",  "table",  "any"};
    bool known = false;
    for (const char* t : kTypes) known = known || spec.type == t;
    if (!known) schema_error("\"" + key + "\" has unknown type \"" + spec.type + "\"");
    raw_field(L_, field, "of");
    if (lua_type(L_, -1) == LUA_TSTRING) spec.of = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    raw_field(L_, field, "required");
    spec.required = lua_toboolean(L_, -1) != 0;
    lua_pop(L_, 1);
    raw_field(L_, field, "min");
    if (lua_type(L_, -1) == LUA_TNUMBER) spec.min = lua_tonumber(L_, -1);
    lua_pop(L_, 1);
    raw_field(L_, field, "max");
    if (lua_type(L_, -1) == LUA_TNUMBER) spec.max = lua_tonumber(L_, -1);
    lua_pop(L_, 1);
    raw_field(L_, field, "one_of");
    spec.has_one_of = lua_istable(L_, -1);
    lua_pop(L_, 1);
    return spec;
  }

  // Is the scalar's text a YAML 1.2 core-schema number / boolean / null?
  static bool plain(const YAML::Node& n) { return n.Tag() != "!"; }
  static std::optional<double> as_number(const YAML::Node& n) {
    if (!plain(n)) return std::nullopt;
    const std::string& s = n.Scalar();
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  }
  static std::optional<bool> as_bool(const YAML::Node& n) {
    if (!plain(n)) return std::nullopt;
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    return std::nullopt;
  }

  static const char* kind_of(const YAML::Node& n) {
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    return "a scalar";
  }

  // Pushes `node` converted to the Lua value of `type` (or fails naming the key).
  void push_typed(const YAML::Node& node, const std::string& type, const std::string& of,
                  const std::string& path) {
    if (!lua_checkstack(L_, 8)) fail(node, path, "nested too deeply");
    if (type == "any" || type.empty()) {
      push_free_form(node, path);
      return;
    }
    if (type == "table") {
      if (!node.IsMap()) fail(node, path, std::string("expected a mapping, got ") + kind_of(node));
      push_free_form(node, path);
      return;
    }
    if (type == "array") {
      if (!node.IsSequence())
        fail(node, path, std::string("expected a list, got ") + kind_of(node));
      lua_createtable(L_, static_cast<int>(node.size()), 0);
      for (size_t i = 0; i < node.size(); ++i) {
        push_typed(node[i], of, "", path + "[" + std::to_string(i) + "]");
        lua_rawseti(L_, -2, static_cast<int>(i + 1));
      }
      push_array_marker(L_);
      lua_setmetatable(L_, -2);
      return;
    }
    if (!node.IsScalar()) fail(node, path, "expected a " + type + ", got " + kind_of(node));
    if (type == "string") {
      lua_pushlstring(L_, node.Scalar().data(), node.Scalar().size());
    } else if (type == "boolean") {
      auto b = as_bool(node);
      if (!b) fail(node, path, "expected true or false, got \"" + node.Scalar() + "\"");
      lua_pushboolean(L_, *b ? 1 : 0);
    } else {
      auto v = as_number(node);
      if (!v) fail(node, path, "expected a number, got \"" + node.Scalar() + "\"");
      if (type == "integer" && *v != std::floor(*v)) {
        fail(node, path, "expected an integer, got " + node.Scalar());
      }
      lua_pushnumber(L_, *v);
    }
  }

  // YAML → Lua by the YAML 1.2 core schema: lists become arrays, plain scalars numbers /
  // booleans where they read as such, null is left out, everything else a string.
  void push_free_form(const YAML::Node& node, const std::string& path) {
    if (!lua_checkstack(L_, 8)) fail(node, path, "nested too deeply");
    if (node.IsMap()) {
      lua_createtable(L_, 0, static_cast<int>(node.size()));
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->second.IsNull()) continue;
        const std::string key = it->first.as<std::string>();
        std::string key_path = path;
        key_path.append(".").append(key);
        push_free_form(it->second, key_path);
        lua_setfield(L_, -2, key.c_str());
      }
    } else if (node.IsSequence()) {
      lua_createtable(L_, static_cast<int>(node.size()), 0);
      for (size_t i = 0; i < node.size(); ++i) {
        push_free_form(node[i], path + "[" + std::to_string(i) + "]");
        lua_rawseti(L_, -2, static_cast<int>(i + 1));
      }
      push_array_marker(L_);
      lua_setmetatable(L_, -2);
    } else if (node.IsNull() || !node.IsDefined()) {
      lua_pushlightuserdata(L_, nullptr);
    } else if (auto b = as_bool(node)) {
      lua_pushboolean(L_, *b ? 1 : 0);
    } else if (auto v = as_number(node)) {
      lua_pushnumber(L_, *v);
    } else {
      lua_pushlstring(L_, node.Scalar().data(), node.Scalar().size());
    }
  }

  // Bounds and one_of of the value on top of the stack.
  void check_value(int field, const FieldSpec& spec, const YAML::Node& node,
                   const std::string& path) {
    const int value = lua_gettop(L_);
    auto check_one = [&](int index, const YAML::Node& at) {
      if (lua_type(L_, index) == LUA_TNUMBER) {
        const double v = lua_tonumber(L_, index);
        if (spec.min && v < *spec.min) {
          fail(at, path, "must be at least " + format_number(*spec.min));
        }
        if (spec.max && v > *spec.max) {
          fail(at, path, "must be at most " + format_number(*spec.max));
        }
      }
      if (!spec.has_one_of) return;
      raw_field(L_, field, "one_of");
      const int allowed = lua_gettop(L_);
      bool found = false;
      std::string listed;
      for (int i = 1;; ++i) {
        lua_rawgeti(L_, allowed, i);
        if (lua_isnil(L_, -1)) {
          lua_pop(L_, 1);
          break;
        }
        found = found || lua_rawequal(L_, -1, index) != 0;
        listed += (listed.empty() ? "" : ", ") + describe(lua_gettop(L_));
        lua_pop(L_, 1);
      }
      lua_pop(L_, 1);
      if (!found) fail(at, path, "must be one of: " + listed);
    };
    if (spec.type == "array") {
      for (size_t i = 0; i < node.size(); ++i) {
        lua_rawgeti(L_, value, static_cast<int>(i + 1));
        check_one(lua_gettop(L_), node[i]);
        lua_pop(L_, 1);
      }
    } else {
      check_one(value, node);
    }
  }

  // A one_of value as the error lists it. Not the plugin's tostring: no plugin code runs
  // here, outside a protected call.
  std::string describe(int index) const {
    switch (lua_type(L_, index)) {
      case LUA_TSTRING:
        return lua_tostring(L_, index);
      case LUA_TNUMBER:
        return format_number(lua_tonumber(L_, index));
      case LUA_TBOOLEAN:
        return lua_toboolean(L_, index) ? "true" : "false";
      default:
        return luaL_typename(L_, index);
    }
  }

  static std::string format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

  lua_State* L_;
  const LuaPluginSettings& settings_;
};

}  // namespace

int build_config(LuaState& state, const LuaPluginSettings& settings) {
  lua_State* L = state.L();
  ConfigBuilder(L, settings).build(state.schema_ref());
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

void load_config(LuaState& state, const LuaPluginSettings& settings) {
  state.set_config_ref(build_config(state, settings));
}

}  // namespace sluice::filters::lua
