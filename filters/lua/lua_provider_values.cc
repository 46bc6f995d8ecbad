#include "filters/lua/lua_provider_values.h"

extern "C" {
#include <lauxlib.h>
}

#include <cmath>

#include "core/filter/request_context.h"
#include "core/http/request.h"
#include "filters/lua/lua_json.h"
#include "filters/lua/lua_provider_codec.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {
namespace {

[[noreturn]] void raise(lua_State* L, const std::string& message) {
  lua_pushlstring(L, message.data(), message.size());
  lua_error(L);
  __builtin_unreachable();
}

void set_string(lua_State* L, const char* key, std::string_view value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, key);
}

void set_boolean(lua_State* L, const char* key, bool value) {
  lua_pushboolean(L, value ? 1 : 0);
  lua_setfield(L, -2, key);
}

// Sets t.json to the decoded `text` when it is JSON; leaves it nil otherwise.
void set_json(lua_State* L, std::string_view text) {
  std::string error;
  if (text.empty() || !json_decode(L, text, &error)) return;
  lua_setfield(L, -2, "json");
}

// A body a hook returned at `index`: a table is sent as JSON, a string as it is.
std::string body_of(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L, index, &len);
    return std::string(s, len);
  }
  if (!lua_istable(L, index)) {
    raise(L, std::string("body must be a table (sent as JSON) or a string, not a ") +
                 luaL_typename(L, index));
  }
  std::string out;
  std::string error;
  if (!json_encode(L, index, out, &error)) raise(L, "body: " + error);
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

void read_headers(lua_State* L, int index, providers::TranslatedRequest& out) {
  if (lua_isnil(L, index)) return;
  if (!lua_istable(L, index)) raise(L, "headers must be a table of name = value strings");
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING ||
        (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)) {
      raise(L, "headers must be a table of name = value strings");
    }
    // A copy of the value: lua_tolstring would turn a number key's value into a string in
    // place, under lua_next.
    lua_pushvalue(L, -1);
    size_t name_len = 0, value_len = 0;
    const char* name = lua_tolstring(L, -3, &name_len);
    const char* value = lua_tolstring(L, -1, &value_len);
    const std::string_view n(name, name_len), v(value, value_len);
    if (!http::valid_header_name(n))
      raise(L, "headers: \"" + std::string(n) + "\" is not a header name");
    if (!http::valid_header_value(v)) {
      raise(L, "headers[\"" + std::string(n) + "\"]: a value cannot hold CR, LF or NUL");
    }
    const std::string lower = lowercase(n);
    if (lower == "host" || lower == "content-length" || lower == "transfer-encoding" ||
        lower == "connection") {
      raise(L, "headers: sluice sets " + std::string(n) + " itself");
    }
    out.headers.emplace_back(std::string(n), std::string(v));
    lua_pop(L, 2);
  }
}

bool is_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

// A usage count: a non-negative integer a double holds exactly.
bool read_count(lua_State* L, int index, uint64_t& out) {
  if (lua_isnil(L, index)) {
    out = 0;
    return true;
  }
  if (lua_type(L, index) != LUA_TNUMBER) return false;
  const double v = lua_tonumber(L, index);
  if (!(v >= 0 && v <= 9007199254740992.0) || v != std::floor(v)) return false;
  out = static_cast<uint64_t>(v);
  return true;
}

}  // namespace

bool push_request(lua_State* L, const providers::TranslateInput& in, const LuaProviderCodec& codec,
                  std::string* error) {
  lua_createtable(L, 0, 9);
  if (!json_decode(L, in.body, error)) {
    lua_pop(L, 1);
    return false;
  }
  lua_setfield(L, -2, "body");
  set_string(L, "endpoint", filter::to_string(in.endpoint));
  set_string(L, "model", in.model);
  set_boolean(L, "stream", in.stream);
  set_boolean(L, "stream_usage", in.stream_usage);
  set_string(L, "raw", in.body);
  set_string(L, "request_id", in.request_id);
  lua_createtable(L, 0, 3);
  set_string(L, "name", codec.provider_name());
  set_string(L, "base_url", codec.base_url());
  set_string(L, "api_key", codec.api_key());
  lua_setfield(L, -2, "provider");
  return true;
}

void push_response(lua_State* L, int status, std::string_view body) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
  set_string(L, "body", body);
  set_json(L, body);
}

void push_event(lua_State* L, std::string_view name, std::string_view data) {
  lua_createtable(L, 0, 3);
  set_string(L, "data", data);
  set_json(L, data);
  if (!name.empty()) set_string(L, "event", name);
}

void read_upstream_request(lua_State* L, int index, providers::TranslatedRequest& out) {
  if (!lua_istable(L, index)) {
    raise(L, std::string("returned a ") + luaL_typename(L, index) +
                 " (return {path = ..., headers = ..., body = ...}, or nil and a message)");
  }
  lua_getfield(L, index, "path");
  size_t len = 0;
  const char* path = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : nullptr;
  if (path == nullptr || !is_path(std::string_view(path, len))) {
    raise(L, "path must be a string starting with \"/\", without spaces (\"/api/chat\")");
  }
  out.path.assign(path, len);
  lua_getfield(L, index, "headers");
  read_headers(L, lua_gettop(L), out);
  lua_getfield(L, index, "body");
  if (lua_isnil(L, -1)) raise(L, "returned no body (a table, sent as JSON, or a string)");
  out.body = body_of(L, lua_gettop(L));
  lua_pop(L, 3);
}

void read_client_response(lua_State* L, int index, int& status, std::string& body,
                          usage::Usage& usage) {
  if (!lua_istable(L, index)) {
    raise(L, std::string("returned a ") + luaL_typename(L, index) +
                 " (return {status = ..., body = ..., usage = ...}, or nil and a message)");
  }
  lua_getfield(L, index, "status");
  if (!lua_isnil(L, -1)) {
    const double v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
    if (!(v >= 100 && v <= 599) || v != std::floor(v)) {
      raise(L, "status must be an HTTP status (an integer from 100 to 599)");
    }
    status = static_cast<int>(v);
  }
  lua_getfield(L, index, "body");
  if (lua_isnil(L, -1)) raise(L, "returned no body (a table, sent as JSON, or a string)");
  body = body_of(L, lua_gettop(L));
  lua_getfield(L, index, "usage");
  if (!lua_isnil(L, -1)) read_usage(L, lua_gettop(L), "usage", usage);
  lua_pop(L, 3);
}

void write_chunks(lua_State* L, int index, std::string& out, ChunkIds& ids) {
  if (lua_isnil(L, index) || lua_isnone(L, index)) return;
  if (!lua_istable(L, index)) {
    raise(L, std::string("returned a ") + luaL_typename(L, index) +
                 " (return a list of chunk tables, or nil)");
  }
  size_t keys = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      const std::string key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
      raise(L, "returned a table with the key \"" + key +
                   "\", not a list: return {chunk, ...} (a list of chunks), even for one");
    }
    ++keys;
  }
  const size_t n = lua_objlen(L, index);
  if (keys != n) raise(L, "returned a list with holes (nil in it)");
  std::string json;
  std::string error;
  for (size_t i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, static_cast<int>(i));
    const int chunk = lua_gettop(L);
    if (!lua_istable(L, chunk)) {
      raise(L, "chunk " + std::to_string(i) + " is a " + luaL_typename(L, chunk) +
                   ", not a table (each chunk is sent as data: <its JSON>)");
    }
    json.clear();
    if (!json_encode(L, chunk, json, &error)) {
      raise(L, "chunk " + std::to_string(i) + ": " + error);
    }
    out.append("data: ").append(json).append("\n\n");
    for (auto [key, field] : {std::pair{"id", &ids.id}, std::pair{"model", &ids.model},
                              std::pair{"object", &ids.object}}) {
      lua_getfield(L, chunk, key);
      if (lua_type(L, -1) == LUA_TSTRING) *field = lua_tostring(L, -1);
      lua_pop(L, 1);
    }
    lua_getfield(L, chunk, "created");
    if (lua_type(L, -1) == LUA_TNUMBER) ids.created = lua_tonumber(L, -1);
    lua_pop(L, 2);
  }
}

void read_usage(lua_State* L, int index, const char* what, usage::Usage& out) {
  if (!lua_istable(L, index)) {
    raise(L, std::string(what) + " must be a table like {input = 12, output = 30}, not a " +
                 luaL_typename(L, index));
  }
  usage::Usage u;
  for (auto [key, field] :
       {std::pair{"input", &u.input_tokens}, std::pair{"output", &u.output_tokens},
        std::pair{"cached", &u.cached_input_tokens},
        std::pair{"cache_write", &u.cache_write_tokens},
        std::pair{"reasoning", &u.reasoning_tokens}}) {
    lua_getfield(L, index, key);
    if (!read_count(L, -1, *field)) {
      raise(L, std::string(what) + "." + key + " must be a non-negative integer");
    }
    lua_pop(L, 1);
  }
  u.source = usage::Usage::Source::Reported;
  out = u;
}

void append_openai_usage(std::string& out, const usage::Usage& usage) {
  out.append("{\"prompt_tokens\":").append(std::to_string(usage.input_tokens));
  out.append(",\"completion_tokens\":").append(std::to_string(usage.output_tokens));
  out.append(",\"total_tokens\":").append(std::to_string(usage.total()));
  out.append(",\"prompt_tokens_details\":{\"cached_tokens\":");
  out.append(std::to_string(usage.cached_input_tokens)).append("}}");
}

}  // namespace sluice::filters::lua
