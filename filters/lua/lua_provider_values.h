// The values a Lua provider's hooks receive and return (sdk/lua/README.md "Providers"): the
// tables sluice builds for them (req, res, ev) and the checks and conversions of what they
// return (the upstream request, the client's answer, chunk lists, usage tables).
//
// Everything here runs inside a hook's protected run (LuaTranslation's trampoline): a value of
// the wrong shape raises a Lua error that names the field, which fails the step like any error
// of the plugin.
#pragma once

extern "C" {
#include <lua.h>
}

#include <string>
#include <string_view>

#include "core/providers/translation.h"
#include "core/usage/usage.h"

namespace sluice::filters::lua {

class LuaProviderCodec;

// req = {endpoint=, model=, stream=, stream_usage=, body=<decoded>, raw=, request_id=,
//        provider={name=, base_url=, api_key=}}. false with *error (nothing pushed) when the
// body is not JSON.
bool push_request(lua_State* L, const providers::TranslateInput& in, const LuaProviderCodec& codec,
                  std::string* error);
// res = {status=, body=, json=<decoded, or nil when the body is not JSON>}.
void push_response(lua_State* L, int status, std::string_view body);
// ev = {data=, json=<decoded or nil>, event=<SSE event name, or nil>}.
void push_event(lua_State* L, std::string_view name, std::string_view data);

// transform_request's table at `index` → path, headers, body.
void read_upstream_request(lua_State* L, int index, providers::TranslatedRequest& out);
// transform_response's table at `index` → status (kept when absent), body, usage (kept when
// absent).
void read_client_response(lua_State* L, int index, int& status, std::string& body,
                          usage::Usage& usage);

// Of the last chunk written, what the usage chunk repeats.
struct ChunkIds {
  std::string& id;
  std::string& model;
  std::string& object;
  double& created;
};
// The value at `index` — nil, or a list of chunk tables — as `data: <json>\n\n` events
// appended to `out`.
void write_chunks(lua_State* L, int index, std::string& out, ChunkIds& ids);

// A usage table {input=, output=, cached=, cache_write=, reasoning=} (`what` names it in
// errors) → `out`, marked Reported.
void read_usage(lua_State* L, int index, const char* what, usage::Usage& out);
// OpenAI's usage object: {"prompt_tokens","completion_tokens","total_tokens",
// "prompt_tokens_details":{"cached_tokens"}}.
void append_openai_usage(std::string& out, const usage::Usage& usage);

}  // namespace sluice::filters::lua
