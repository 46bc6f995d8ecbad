#include "filters/lua/lua_globals.h"

extern "C" {
#include <lauxlib.h>
}

#include <cctype>
#include <chrono>

#include "core/http/request.h"
#include "core/log/log.h"
#include "core/plugin/shared_dict.h"
#include "filters/lua/lua_json.h"

namespace sluice::filters::lua {
namespace {

// Longest timeout sluice.http accepts: a hook waits at most this long for one call.
constexpr lua_Number kMaxHttpTimeoutMs = 300'000;

// Longest message a plugin logs in one line (the rest is cut, its size said).
constexpr size_t kMaxLogBytes = size_t{16} * 1024;

// Upvalue 1: the base library's tostring, taken before the plugin ran (a plugin that drops
// or replaces the global still logs).
int sluice_log(lua_State* L) {
  const char* level = luaL_checkstring(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_call(L, 1, 1);
  size_t len = 0;
  const char* msg = lua_tolstring(L, -1, &len);
  if (msg == nullptr) msg = "";
  LuaState* state = LuaState::from(L);
  std::string line = "lua plugin \"" + state->plugin_name() +
                     "\": " + bounded_text(std::string_view(msg, len), kMaxLogBytes);
  const std::string_view lv(level);
  if (lv == "error") {
    log::error(line);
  } else if (lv == "warn" || lv == "warning") {
    log::warn(line);
  } else if (lv == "info" || lv == "notice") {
    log::info(line);
  } else if (lv == "debug") {
    log::debug(line);
  } else {
    return luaL_error(L, "sluice.log: unknown level \"%s\" (debug, info, warn or error)", level);
  }
  return 0;
}

int sluice_now(lua_State* L) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double>(now).count());
  return 1;
}

// ---- sluice.shared (called with a colon: sluice.shared:get(k), so the key is argument 2) ----

std::string_view check_key(lua_State* L) {
  size_t len = 0;
  const char* k = luaL_checklstring(L, 2, &len);
  return {k, len};
}

std::optional<double> optional_ttl(lua_State* L, int index) {
  if (lua_isnoneornil(L, index)) return std::nullopt;
  return static_cast<double>(luaL_checknumber(L, index));
}

void push_shared_value(lua_State* L, const plugin::SharedValue& v) {
  if (const double* d = std::get_if<double>(&v)) {
    lua_pushnumber(L, *d);
  } else if (const bool* b = std::get_if<bool>(&v)) {
    lua_pushboolean(L, *b ? 1 : 0);
  } else {
    const std::string& s = std::get<std::string>(v);
    lua_pushlstring(L, s.data(), s.size());
  }
}

int shared_get(lua_State* L) {
  std::string_view key = check_key(L);
  std::optional<plugin::SharedValue> v = plugin::SharedDict::process().get(key);
  if (!v) {
    lua_pushnil(L);
  } else {
    push_shared_value(L, *v);
  }
  return 1;
}

int shared_set(lua_State* L) {
  std::string_view key = check_key(L);
  plugin::SharedValue value;
  switch (lua_type(L, 3)) {
    case LUA_TNUMBER:
      value = static_cast<double>(lua_tonumber(L, 3));
      break;
    case LUA_TBOOLEAN:
      value = lua_toboolean(L, 3) != 0;
      break;
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, 3, &len);
      value = std::string(s, len);
      break;
    }
    case LUA_TNIL:
      plugin::SharedDict::process().remove(key);
      lua_pushboolean(L, 1);
      return 1;
    default:
      return luaL_error(L, "sluice.shared:set: a value is a string, number or boolean, not a %s",
                        luaL_typename(L, 3));
  }
  std::string error;
  if (!plugin::SharedDict::process().set(key, std::move(value), optional_ttl(L, 4), &error)) {
    lua_pushnil(L);
    lua_pushlstring(L, error.data(), error.size());
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

int shared_incr(lua_State* L) {
  std::string_view key = check_key(L);
  const double by = lua_isnoneornil(L, 3) ? 1.0 : static_cast<double>(luaL_checknumber(L, 3));
  std::string error;
  std::optional<double> v = plugin::SharedDict::process().incr(key, by, optional_ttl(L, 4), &error);
  if (!v) {
    lua_pushnil(L);
    lua_pushlstring(L, error.data(), error.size());
    return 2;
  }
  lua_pushnumber(L, *v);
  return 1;
}

int shared_delete(lua_State* L) {
  lua_pushboolean(L, plugin::SharedDict::process().remove(check_key(L)) ? 1 : 0);
  return 1;
}

// ---- sluice.http -------------------------------------------------------------------------

std::string field_string(lua_State* L, const char* name, bool required) {
  lua_getfield(L, 1, name);
  std::string out;
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    out.assign(s, len);
  } else if (!lua_isnil(L, -1) || required) {
    lua_pop(L, 1);
    luaL_error(L, "sluice.http: %s must be a string", name);
  }
  lua_pop(L, 1);
  return out;
}

int sluice_http(lua_State* L) {
  LuaState* state = LuaState::from(L);
  HookHost* host = state->running_host();
  if (host == nullptr || state->running_thread() != L) {
    return luaL_error(L,
                      "sluice.http must be called by the hook itself (not at load time, and "
                      "not from a coroutine the plugin created)");
  }
  if (is_provider_hook(host->phase())) {
    return luaL_error(L,
                      "sluice.http is not available in a provider's hooks (called in %s): a "
                      "provider translates, sluice makes the upstream call",
                      to_string(host->phase()));
  }
  if (host->phase() != Hook::OnRequest && host->phase() != Hook::Call) {
    return luaL_error(L,
                      "sluice.http is available in on_request and in a tool's call only "
                      "(called in %s)",
                      to_string(host->phase()));
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  plugin::HttpCallRequest request;
  request.url = field_string(L, "url", true);
  request.method = field_string(L, "method", false);
  if (request.method.empty()) request.method = "GET";
  request.body = field_string(L, "body", false);
  lua_getfield(L, 1, "timeout");
  const lua_Number timeout = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
  // Written so that NaN fails too (its cast to an integer would be undefined).
  if (!(timeout >= 1 && timeout <= kMaxHttpTimeoutMs)) {
    return luaL_error(L, "sluice.http: timeout (milliseconds) is required, between 1 and %d",
                      static_cast<int>(kMaxHttpTimeoutMs));
  }
  request.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout));
  lua_pop(L, 1);
  lua_getfield(L, 1, "headers");
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1)) {
        return luaL_error(L, "sluice.http: headers is a table of name = value strings");
      }
      // With their lengths (a NUL is refused by the caller, not cut), and a copy of a number
      // value: lua_tolstring would change it in place under lua_next.
      lua_pushvalue(L, -1);
      size_t name_len = 0, value_len = 0;
      const char* name = lua_tolstring(L, -3, &name_len);
      const char* value = lua_tolstring(L, -1, &value_len);
      request.headers.emplace_back(std::string(name, name_len), std::string(value, value_len));
      lua_pop(L, 2);
    }
  } else if (!lua_isnil(L, -1)) {
    return luaL_error(L, "sluice.http: headers must be a table");
  }
  lua_pop(L, 1);
  std::string error;
  if (!host->start_http(L, std::move(request), &error)) {
    lua_pushnil(L);
    lua_pushlstring(L, error.data(), error.size());
    return 2;
  }
  state->note_http_yield();
  return lua_yield(L, 0);
}

void set_function(lua_State* L, const char* name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

}  // namespace

int push_http_result(lua_State* thread, const plugin::HttpCallResult& result) {
  if (!result.error.empty()) {
    lua_pushnil(thread);
    lua_pushlstring(thread, result.error.data(), result.error.size());
    return 2;
  }
  lua_createtable(thread, 0, 3);
  lua_pushinteger(thread, result.status);
  lua_setfield(thread, -2, "status");
  lua_pushlstring(thread, result.body.data(), result.body.size());
  lua_setfield(thread, -2, "body");
  lua_createtable(thread, 0, static_cast<int>(result.headers.size()));
  for (const auto& [name, value] : result.headers) {
    // Lower-cased: header names are case-insensitive, a table lookup is not.
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    lua_pushlstring(thread, value.data(), value.size());
    lua_setfield(thread, -2, lower.c_str());
  }
  lua_setfield(thread, -2, "headers");
  return 1;
}

void install_globals(lua_State* L) {
  lua_createtable(L, 0, 6);
  lua_getglobal(L, "tostring");
  lua_pushcclosure(L, &sluice_log, 1);
  lua_setfield(L, -2, "log");
  set_function(L, "now", &sluice_now);
  set_function(L, "http", &sluice_http);
  push_json_library(L);
  lua_setfield(L, -2, "json");
  lua_createtable(L, 0, 4);
  set_function(L, "get", &shared_get);
  set_function(L, "set", &shared_set);
  set_function(L, "incr", &shared_incr);
  set_function(L, "delete", &shared_delete);
  lua_setfield(L, -2, "shared");
  lua_setglobal(L, "sluice");
}

}  // namespace sluice::filters::lua
