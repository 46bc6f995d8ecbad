#include "filters/lua/lua_tool_result.h"

#include <string>

#include "filters/lua/lua_json.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {
namespace {

tools::CallResult tool_error(std::string message) {
  tools::CallResult r;
  r.status = tools::CallStatus::ToolError;
  r.content = std::move(message);
  return r;
}

tools::CallResult ok(std::string content, bool json) {
  tools::CallResult r;
  r.content = std::move(content);
  r.json = json;
  return r;
}

constexpr const char* kWhatCallReturns =
    ": call returns a table (JSON), a string (text), or nil and an error message";

std::string too_large(size_t size) {
  return "call returned " + std::to_string(size) + " bytes, more than a tool's result may hold (" +
         std::to_string(kMaxToolResultBytes >> 20) + "MiB)";
}

}  // namespace

tools::CallResult tool_result(lua_State* L, int first, int count) {
  const int type = count >= 1 ? lua_type(L, first) : LUA_TNONE;
  switch (type) {
    case LUA_TTABLE: {
      std::string json;
      std::string error;
      if (!json_encode(L, first, json, &error)) {
        return tool_error("call returned a table that is not JSON: " + error);
      }
      if (json.size() > kMaxToolResultBytes) return tool_error(too_large(json.size()));
      return ok(std::move(json), true);
    }
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, first, &len);
      if (len > kMaxToolResultBytes) return tool_error(too_large(len));
      return ok(std::string(s, len), false);
    }
    case LUA_TNUMBER:
    case LUA_TBOOLEAN: {
      // Written as JSON writes them ("42", not "42.0"; "true"), refusing NaN and infinity.
      std::string text;
      std::string error;
      if (!json_encode(L, first, text, &error)) {
        return tool_error("call returned a number JSON cannot hold: " + error);
      }
      return ok(std::move(text), false);
    }
    case LUA_TNIL:
    case LUA_TNONE:
      if (count >= 2 && !lua_isnil(L, first + 1)) {
        if (lua_type(L, first + 1) == LUA_TSTRING) {
          size_t len = 0;
          const char* s = lua_tolstring(L, first + 1, &len);
          return tool_error(bounded_text(std::string_view(s, len), kMaxToolMessageBytes));
        }
        // `nil, {code = 3}`: a table said as JSON when it is one, else its type.
        std::string text;
        std::string error;
        if (lua_type(L, first + 1) == LUA_TTABLE && json_encode(L, first + 1, text, &error)) {
          return tool_error(bounded_text(text, kMaxToolMessageBytes));
        }
        return tool_error(error_text(L, first + 1));
      }
      return tool_error(std::string("call returned nothing") + kWhatCallReturns);
    default:
      return tool_error(std::string("call returned a ") + lua_typename(L, type) + kWhatCallReturns);
  }
}

}  // namespace sluice::filters::lua
