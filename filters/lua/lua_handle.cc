#include "filters/lua/lua_handle.h"

extern "C" {
#include <lauxlib.h>
}

#include <chrono>
#include <cstring>
#include <string>

#include "core/http/request.h"
#include "filters/lua/lua_json.h"
#include "filters/lua/lua_request.h"

namespace sluice::filters::lua {
namespace {

const char kHandleMeta[] = "sluice.handle";

struct HandleBox {
  LuaRequest* request;  // null once the request ended
};

LuaRequest& check_request(lua_State* L) {
  auto* box = static_cast<HandleBox*>(luaL_checkudata(L, 1, kHandleMeta));
  if (box->request == nullptr) {
    luaL_error(L,
               "this handle belongs to a request that has ended (do not keep h beyond its "
               "hooks)");
  }
  return *box->request;
}

// Raises unless the running hook is one of `allowed` (a bit per Hook).
void require_phase(lua_State* L, LuaRequest& r, const char* method, unsigned allowed) {
  const unsigned bit = 1u << static_cast<unsigned>(r.phase());
  if ((allowed & bit) == 0) {
    luaL_error(L, "h:%s is not available in %s", method, to_string(r.phase()));
  }
}

constexpr unsigned kRequestPhase = 1u << static_cast<unsigned>(Hook::OnRequest);
constexpr unsigned kResponsePhase = 1u << static_cast<unsigned>(Hook::OnResponse);

std::string_view check_string(lua_State* L, int index) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, index, &len);
  return {s, len};
}

int h_header(lua_State* L) {
  LuaRequest& r = check_request(L);
  require_phase(L, r, "header", kRequestPhase | kResponsePhase);
  std::string_view name = check_string(L, 2);
  std::optional<std::string_view> value = r.phase() == Hook::OnRequest
                                              ? r.ctx().request->header(name)
                                              : r.ctx().upstream_response_header(name);
  if (!value) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, value->data(), value->size());
  }
  return 1;
}

void check_header_name(lua_State* L, std::string_view name) {
  if (!http::valid_header_name(name)) {
    luaL_error(L, "invalid header name \"%s\"", std::string(name).c_str());
  }
}

int h_set_header(lua_State* L) {
  LuaRequest& r = check_request(L);
  require_phase(L, r, "set_header", kRequestPhase | kResponsePhase);
  std::string_view name = check_string(L, 2);
  check_header_name(L, name);
  std::string_view value = check_string(L, 3);  // with its length: a NUL is refused, not cut
  if (!http::valid_header_value(value)) {
    return luaL_error(L, "invalid value for header \"%s\" (CR, LF and NUL are not allowed)",
                      std::string(name).c_str());
  }
  if (r.phase() == Hook::OnRequest) {
    r.ctx().request->set_header(name, value);
  } else {
    r.ctx().set_response_header(name, value);
  }
  return 0;
}

int h_remove_header(lua_State* L) {
  LuaRequest& r = check_request(L);
  require_phase(L, r, "remove_header", kRequestPhase | kResponsePhase);
  std::string_view name = check_string(L, 2);
  check_header_name(L, name);
  if (r.phase() == Hook::OnRequest) {
    r.ctx().request->remove_header(name);
  } else {
    r.ctx().remove_response_header(name);
  }
  return 0;
}

int h_body(lua_State* L) {
  LuaRequest& r = check_request(L);
  const std::string& body = r.ctx().request->body;
  lua_pushlstring(L, body.data(), body.size());
  return 1;
}

int h_json(lua_State* L) {
  LuaRequest& r = check_request(L);
  int& ref = r.json_ref();
  if (ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    return 1;
  }
  std::string error;
  if (!json_decode(L, r.ctx().request->body, &error)) {
    lua_pushnil(L);
    lua_pushlstring(L, error.data(), error.size());
    return 2;
  }
  lua_pushvalue(L, -1);
  ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 1;
}

// Replaces the request body with the string at the top of the stack.
int replace_body(lua_State* L, LuaRequest& r, std::string body) {
  std::string error;
  if (!r.ctx().replace_request_body(std::move(body), &error)) {
    lua_pushlstring(L, error.data(), error.size());
    return lua_error(L);
  }
  int& ref = r.json_ref();
  if (ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    ref = LUA_NOREF;
  }
  return 0;
}

int h_set_body(lua_State* L) {
  LuaRequest& r = check_request(L);
  require_phase(L, r, "set_body", kRequestPhase);
  std::string_view body = check_string(L, 2);
  return replace_body(L, r, std::string(body));
}

int h_set_json(lua_State* L) {
  LuaRequest& r = check_request(L);
  require_phase(L, r, "set_json", kRequestPhase);
  luaL_checktype(L, 2, LUA_TTABLE);
  std::string body;
  std::string error;
  if (!json_encode(L, 2, body, &error)) {
    lua_pushstring(L, ("h:set_json: " + error).c_str());
    return lua_error(L);
  }
  const int rc = replace_body(L, r, std::move(body));
  if (rc == 0) {
    // The table is what h:json() returns from now on (no decode of what was just encoded).
    lua_pushvalue(L, 2);
    r.json_ref() = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  return rc;
}

const char* error_type_for(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_exceeded";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

int h_respond(lua_State* L) {
  LuaRequest& r = check_request(L);
  require_phase(L, r, "respond", kRequestPhase);
  const lua_Integer status = luaL_checkinteger(L, 2);
  if (status < 200 || status > 599) {
    return luaL_error(L, "h:respond: status %d is not a final HTTP status (200-599)",
                      static_cast<int>(status));
  }
  LuaRequest::Reply reply;
  reply.status = static_cast<int>(status);
  // Headers first: a bad one fails the call before anything is changed.
  if (lua_istable(L, 4)) {
    lua_pushnil(L);
    while (lua_next(L, 4) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1)) {
        return luaL_error(L, "h:respond: headers is a table of name = value strings");
      }
      std::string_view name = check_string(L, -2);
      check_header_name(L, name);
      // A copy of a number value: lua_tolstring would change it in place under lua_next.
      lua_pushvalue(L, -1);
      std::string_view value = check_string(L, -1);
      if (!http::valid_header_value(value)) {
        return luaL_error(L, "h:respond: invalid value for header \"%s\"",
                          std::string(name).c_str());
      }
      reply.headers.emplace_back(name, value);
      lua_pop(L, 2);
    }
  } else if (!lua_isnoneornil(L, 4)) {
    return luaL_error(L, "h:respond: headers must be a table");
  }
  switch (lua_type(L, 3)) {
    case LUA_TNONE:
    case LUA_TNIL:
      reply.type = error_type_for(reply.status);
      reply.message = "Refused by the Lua filter \"" + r.state().plugin_name() + "\".";
      break;
    case LUA_TSTRING:
      reply.body = std::string(check_string(L, 3));
      break;
    case LUA_TTABLE: {
      std::string error;
      reply.body.emplace();
      if (!json_encode(L, 3, *reply.body, &error)) {
        lua_pushstring(L, ("h:respond: " + error).c_str());
        return lua_error(L);
      }
      break;
    }
    default:
      return luaL_error(L, "h:respond: the body is a table (sent as JSON) or a string");
  }
  if (!r.set_reply(std::move(reply))) {
    return luaL_error(L, "h:respond was already called for this request (it answers once)");
  }
  return 0;
}

int h_ctx(lua_State* L) {
  LuaRequest& r = check_request(L);
  int& ref = r.ctx_table_ref();
  if (ref == LUA_NOREF) {
    lua_newtable(L);
    lua_pushvalue(L, -1);
    ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 1;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  return 1;
}

void push_view(lua_State* L, std::string_view s) {
  if (s.empty()) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, s.data(), s.size());
  }
}

// Fields: computed when read, so a handle costs nothing for what a hook does not look at.
int push_field(lua_State* L, LuaRequest& r, std::string_view key) {
  filter::RequestContext& ctx = r.ctx();
  if (key == "request_id") {
    push_view(L, ctx.request_id);
  } else if (key == "agent") {
    push_view(L, ctx.agent != nullptr ? std::string_view(ctx.agent->name) : std::string_view());
  } else if (key == "model") {
    push_view(L, ctx.fields.model);
  } else if (key == "endpoint") {
    lua_pushstring(L, filter::to_string(ctx.endpoint));
  } else if (key == "status") {
    const int status = r.phase() == Hook::OnComplete ? ctx.response_status : r.upstream_status();
    if (status == 0) {
      lua_pushnil(L);
    } else {
      lua_pushinteger(L, status);
    }
  } else if (key == "provider") {
    push_view(L, ctx.last_candidate.provider != nullptr
                     ? std::string_view(ctx.last_candidate.provider->name)
                     : std::string_view());
  } else if (key == "physical_model") {
    push_view(L, ctx.last_candidate.physical_model);
  } else if (key == "usage") {
    if (r.phase() != Hook::OnComplete) {
      lua_pushnil(L);
      return 1;
    }
    lua_createtable(L, 0, 4);
    lua_pushnumber(L, static_cast<lua_Number>(ctx.usage.input_tokens));
    lua_setfield(L, -2, "input");
    lua_pushnumber(L, static_cast<lua_Number>(ctx.usage.output_tokens));
    lua_setfield(L, -2, "output");
    lua_pushnumber(L, static_cast<lua_Number>(ctx.usage.cached_input_tokens));
    lua_setfield(L, -2, "cached");
    lua_pushboolean(L, ctx.usage.source == usage::Usage::Source::Estimated);
    lua_setfield(L, -2, "estimated");
  } else if (key == "cost_usd") {
    lua_pushnumber(L, r.phase() == Hook::OnComplete ? ctx.cost_usd : 0);
  } else if (key == "duration_ms") {
    const auto elapsed = std::chrono::steady_clock::now() - ctx.started_at;
    lua_pushnumber(L, std::chrono::duration<double, std::milli>(elapsed).count());
  } else {
    lua_pushnil(L);
  }
  return 1;
}

// __index(h, key): a method from the methods table (upvalue 1), else a field.
int handle_index(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  LuaRequest& r = check_request(L);
  size_t len = 0;
  const char* key = lua_tolstring(L, 2, &len);
  if (key == nullptr) {
    lua_pushnil(L);
    return 1;
  }
  return push_field(L, r, std::string_view(key, len));
}

int handle_newindex(lua_State* L) {
  return luaL_error(L, "the handle is read-only: keep per-request values in h:ctx()");
}

int handle_tostring(lua_State* L) {
  lua_pushliteral(L, "sluice request handle");
  return 1;
}

}  // namespace

void install_handle_metatable(lua_State* L) {
  luaL_newmetatable(L, kHandleMeta);
  static const luaL_Reg kMethods[] = {{"header", &h_header},
                                      {"set_header", &h_set_header},
                                      {"remove_header", &h_remove_header},
                                      {"body", &h_body},
                                      {"json", &h_json},
                                      {"set_body", &h_set_body},
                                      {"set_json", &h_set_json},
                                      {"respond", &h_respond},
                                      {"ctx", &h_ctx},
                                      {nullptr, nullptr}};
  lua_newtable(L);
  for (const luaL_Reg* m = kMethods; m->name != nullptr; ++m) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pushcclosure(L, &handle_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, &handle_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, &handle_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

int make_handle(lua_State* L, LuaRequest* request) {
  auto* box = static_cast<HandleBox*>(lua_newuserdata(L, sizeof(HandleBox)));
  box->request = request;
  luaL_getmetatable(L, kHandleMeta);
  lua_setmetatable(L, -2);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

void retire_handle(lua_State* L, int ref) {
  if (ref == LUA_NOREF) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  auto* box = static_cast<HandleBox*>(lua_touserdata(L, -1));
  if (box != nullptr) box->request = nullptr;
  lua_pop(L, 1);
  luaL_unref(L, LUA_REGISTRYINDEX, ref);
}

}  // namespace sluice::filters::lua
