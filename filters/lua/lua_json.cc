#include "filters/lua/lua_json.h"

extern "C" {
#include <lauxlib.h>
}

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/http/response_builder.h"

namespace sluice::filters::lua {
namespace {

// The registry key of the array marker metatable (its address is the key).
const char kArrayMarkerKey = 0;

// Pushes `e`; false (with what it pushed left on the stack) past kMaxJsonDepth, the depth the
// encoder writes, so whatever decodes can be encoded again.
bool push_element(lua_State* L, simdjson::dom::element e, int depth) {
  if (depth > kMaxJsonDepth) return false;
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array a = e.get_array().value_unsafe();
      lua_createtable(L, static_cast<int>(a.size()), 0);
      int i = 1;
      for (simdjson::dom::element item : a) {
        if (!push_element(L, item, depth + 1)) return false;
        lua_rawseti(L, -2, i++);
      }
      push_array_marker(L);
      lua_setmetatable(L, -2);
      return true;
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object o = e.get_object().value_unsafe();
      lua_createtable(L, 0, static_cast<int>(o.size()));
      for (simdjson::dom::key_value_pair kv : o) {
        lua_pushlstring(L, kv.key.data(), kv.key.size());
        if (!push_element(L, kv.value, depth + 1)) return false;
        lua_rawset(L, -3);
      }
      return true;
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view s = e.get_string().value_unsafe();
      lua_pushlstring(L, s.data(), s.size());
      return true;
    }
    case simdjson::dom::element_type::INT64:
      lua_pushnumber(L, static_cast<lua_Number>(e.get_int64().value_unsafe()));
      return true;
    case simdjson::dom::element_type::UINT64:
      lua_pushnumber(L, static_cast<lua_Number>(e.get_uint64().value_unsafe()));
      return true;
    case simdjson::dom::element_type::DOUBLE:
      lua_pushnumber(L, e.get_double().value_unsafe());
      return true;
    case simdjson::dom::element_type::BOOL:
      lua_pushboolean(L, e.get_bool().value_unsafe() ? 1 : 0);
      return true;
    case simdjson::dom::element_type::NULL_VALUE:
      lua_pushlightuserdata(L, nullptr);
      return true;
  }
  lua_pushnil(L);
  return true;
}

bool has_array_marker(lua_State* L, int index) {
  if (!lua_getmetatable(L, index)) return false;
  push_array_marker(L);
  const bool marked = lua_rawequal(L, -1, -2) != 0;
  lua_pop(L, 2);
  return marked;
}

// A table is written as an array when it is marked, or when its keys are exactly 1..n (n > 0).
bool is_array(lua_State* L, int index, size_t* length) {
  *length = lua_objlen(L, index);
  if (has_array_marker(L, index)) return true;
  if (*length == 0) return false;
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_pop(L, 1);
      return false;
    }
    ++count;
  }
  return count == *length;
}

bool encode_value(lua_State* L, int index, std::string& out, std::string* error, int depth);

// The keys of the objects being written, innermost last: (text, stack index of the value).
// One per thread, reused (no allocation per object); a nested object appends after its parent's
// keys and truncates back, and entries are reached by position (the vector may grow).
thread_local std::vector<std::pair<std::string_view, int>> t_keys;

// An object's keys are written sorted (bytewise), so one table always encodes to the same text
// — Lua's own order changes with the table's history and between runs. Each key, a copy of it
// turned into text and its value stay on the Lua stack (which anchors them) while the keys sort.
bool encode_object(lua_State* L, int index, std::string& out, std::string* error, int depth) {
  const int base = lua_gettop(L);
  const size_t first = t_keys.size();
  auto fail = [&](std::string message) {
    *error = std::move(message);
    lua_settop(L, base);
    t_keys.resize(first);
    return false;
  };
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    const int key_type = lua_type(L, -2);
    if (key_type != LUA_TSTRING && key_type != LUA_TNUMBER) {
      return fail(std::string("cannot encode a table key of type ") + luaL_typename(L, -2));
    }
    if (!lua_checkstack(L, 2)) return fail("out of Lua stack");
    // [key, value] -> [key, value, text, key]: lua_next goes on from the key on top; the text
    // is a copy (lua_tolstring turns a number into a string in place).
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -3);
    size_t len = 0;
    const char* k = lua_tolstring(L, -2, &len);
    t_keys.emplace_back(std::string_view(k, len), lua_gettop(L) - 2);
  }
  std::sort(t_keys.begin() + static_cast<std::ptrdiff_t>(first), t_keys.end());
  out.push_back('{');
  for (size_t i = first; i < t_keys.size(); ++i) {
    if (i > first) out.push_back(',');
    out.push_back('"');
    http::append_json_escaped(out, t_keys[i].first);
    out.append("\":");
    if (!encode_value(L, t_keys[i].second, out, error, depth + 1)) {
      lua_settop(L, base);
      t_keys.resize(first);
      return false;
    }
  }
  out.push_back('}');
  lua_settop(L, base);
  t_keys.resize(first);
  return true;
}

bool encode_value(lua_State* L, int index, std::string& out, std::string* error, int depth) {
  if (depth > kMaxJsonDepth) {
    *error = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels (a cycle?)";
    return false;
  }
  if (index < 0) index = lua_gettop(L) + index + 1;
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      out.append("null");
      return true;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == nullptr) {
        out.append("null");
        return true;
      }
      break;
    case LUA_TBOOLEAN:
      out.append(lua_toboolean(L, index) ? "true" : "false");
      return true;
    case LUA_TNUMBER: {
      const double v = lua_tonumber(L, index);
      if (!std::isfinite(v)) {
        *error = "cannot encode NaN or infinity";
        return false;
      }
      char buf[32];
      int n = (v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
                  ? std::snprintf(buf, sizeof buf, "%.0f", v)
                  : std::snprintf(buf, sizeof buf, "%.17g", v);
      out.append(buf, static_cast<size_t>(n));
      return true;
    }
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      out.push_back('"');
      http::append_json_escaped(out, std::string_view(s, len));
      out.push_back('"');
      return true;
    }
    case LUA_TTABLE: {
      if (!lua_checkstack(L, 4)) {
        *error = "nested too deeply";
        return false;
      }
      size_t length = 0;
      if (is_array(L, index, &length)) {
        out.push_back('[');
        for (size_t i = 1; i <= length; ++i) {
          if (i > 1) out.push_back(',');
          lua_rawgeti(L, index, static_cast<int>(i));
          const bool ok = encode_value(L, -1, out, error, depth + 1);
          lua_pop(L, 1);
          if (!ok) return false;
        }
        out.push_back(']');
        return true;
      }
      return encode_object(L, index, out, error, depth);
    }
    default:
      break;
  }
  *error = std::string("cannot encode a ") + luaL_typename(L, index) + " as JSON";
  return false;
}

int lua_encode(lua_State* L) {
  luaL_checkany(L, 1);
  std::string out;
  std::string error;
  if (!json_encode(L, 1, out, &error)) {
    lua_pushnil(L);
    lua_pushlstring(L, error.data(), error.size());
    return 2;
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int lua_decode(lua_State* L) {
  size_t len = 0;
  const char* text = luaL_checklstring(L, 1, &len);
  std::string error;
  if (!json_decode(L, std::string_view(text, len), &error)) {
    lua_pushnil(L);
    lua_pushlstring(L, error.data(), error.size());
    return 2;
  }
  return 1;
}

int lua_mark_array(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  push_array_marker(L);
  lua_setmetatable(L, -2);
  return 1;
}

}  // namespace

void push_array_marker(lua_State* L) {
  lua_pushlightuserdata(L, const_cast<char*>(&kArrayMarkerKey));
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__name");
    lua_pushlightuserdata(L, const_cast<char*>(&kArrayMarkerKey));
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
  }
}

bool json_decode(lua_State* L, std::string_view text, std::string* error) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto err = parser.parse(text.data(), text.size(), true).get(doc);
  if (err) {
    *error = std::string("invalid JSON: ") + simdjson::error_message(err);
    return false;
  }
  if (!lua_checkstack(L, kMaxJsonDepth + 8)) {
    *error = "out of Lua stack";
    return false;
  }
  const int top = lua_gettop(L);
  if (!push_element(L, doc, 0)) {
    lua_settop(L, top);
    *error = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return false;
  }
  return true;
}

bool json_encode(lua_State* L, int index, std::string& out, std::string* error) {
  t_keys.clear();  // what a Lua error (out of memory) unwinding an earlier encode left
  return encode_value(L, index, out, error, 0);
}

void push_json_library(lua_State* L) {
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, &lua_encode);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, &lua_decode);
  lua_setfield(L, -2, "decode");
  lua_pushcfunction(L, &lua_mark_array);
  lua_setfield(L, -2, "array");
  lua_pushlightuserdata(L, nullptr);
  lua_setfield(L, -2, "null");
}

}  // namespace sluice::filters::lua
