#include "filters/lua/lua_translation.h"

extern "C" {
#include <lauxlib.h>
}

#include "core/http/response_builder.h"
#include "core/log/log.h"
#include "core/metrics/metrics.h"
#include "filters/lua/lua_json.h"
#include "filters/lua/lua_provider_codec.h"
#include "filters/lua/lua_provider_values.h"

namespace sluice::filters::lua {

using providers::TranslateStatus;

LuaTranslation::LuaTranslation(std::shared_ptr<const LuaProviderCodec> codec, LuaState* state,
                               int config_ref, std::string broken)
    : codec_(std::move(codec)),
      state_(state),
      config_ref_(config_ref),
      broken_(std::move(broken)) {}

LuaTranslation::~LuaTranslation() {
  // The attempt's ctx goes with it (no allocation: the registry slot joins its free list).
  if (state_ != nullptr && ctx_ref_ != LUA_NOREF) {
    luaL_unref(state_->L(), LUA_REGISTRYINDEX, ctx_ref_);
  }
}

bool LuaTranslation::start_http(lua_State*, plugin::HttpCallRequest, std::string* error) {
  *error = "sluice.http is not available in a provider's hooks";
  return false;
}

TranslateStatus LuaTranslation::request(const providers::TranslateInput& in,
                                        providers::TranslatedRequest& out) {
  endpoint_ = in.endpoint;
  stream_usage_ = in.stream && in.stream_usage;
  run_ = Run{};
  run_.in = &in;
  run_.request = &out;
  const TranslateStatus status = run(Hook::TransformRequest);
  if (status != TranslateStatus::Ok) return status;
  if (run_.refusal) {
    // The plugin's own words reach the client (a 400 that names the field).
    message_ = std::move(*run_.refusal);
    return TranslateStatus::Invalid;
  }
  return TranslateStatus::Ok;
}

TranslateStatus LuaTranslation::response(int& status, std::string_view body, std::string& out) {
  run_ = Run{};
  run_.status = status;
  run_.body = body;
  if (TranslateStatus s = run(Hook::TransformResponse); s != TranslateStatus::Ok) return s;
  if (run_.refusal) return refused(Hook::TransformResponse);
  status = run_.status;
  out.append(run_.out);
  return TranslateStatus::Ok;
}

TranslateStatus LuaTranslation::event(std::string_view name, std::string_view data,
                                      std::string& out) {
  if (state_ != nullptr && !state_->has_hook(Hook::TransformChunk)) {
    message_ = "the plugin has no transform_chunk, so it cannot stream";
    return TranslateStatus::Failed;
  }
  // Blank lines between NDJSON documents are no event.
  if (codec_->framing() == providers::StreamFraming::Ndjson &&
      data.find_first_not_of(" \t\r") == std::string_view::npos) {
    return TranslateStatus::Ok;
  }
  run_ = Run{};
  run_.event = name;
  run_.data = data;
  if (TranslateStatus s = run(Hook::TransformChunk); s != TranslateStatus::Ok) return s;
  if (run_.refusal) return refused(Hook::TransformChunk);
  out.append(run_.out);
  return TranslateStatus::Ok;
}

TranslateStatus LuaTranslation::end(std::string& out) {
  if (state_ == nullptr || state_->has_hook(Hook::TransformEnd)) {
    run_ = Run{};
    if (TranslateStatus s = run(Hook::TransformEnd); s != TranslateStatus::Ok) return s;
    if (run_.refusal) return refused(Hook::TransformEnd);
    out.append(run_.out);
  }
  // What OpenAI sends last: the usage chunk the client asked for, then [DONE].
  if (stream_usage_ && usage_.known()) append_usage_chunk(out);
  out.append("data: [DONE]\n\n");
  return TranslateStatus::Ok;
}

TranslateStatus LuaTranslation::run(Hook hook) {
  hook_ = hook;
  if (state_ == nullptr) {
    message_ = broken_;
    return TranslateStatus::Failed;
  }
  lua_State* thread = state_->begin(hook);
  lua_pushlightuserdata(thread, this);
  lua_pushcclosure(thread, &LuaTranslation::trampoline, 1);
  lua_insert(thread, -2);  // trampoline(hook function)
  std::string error;
  switch (state_->resume(thread, 1, this, &error)) {
    case RunStatus::Done:
      state_->finish(thread);
      return TranslateStatus::Ok;
    case RunStatus::Suspended:  // only sluice.http suspends, and it refuses provider hooks
      state_->abandon(thread);
      error = "the hook yielded";
      break;
    case RunStatus::Failed:
      break;
  }
  metrics::Metrics::process()
      .plugin_errors_total.Add({{"plugin", codec_->plugin().type()}, {"hook", to_string(hook)}})
      .Increment();
  message_ = std::string(to_string(hook)) + ": " + error;
  log::warn(codec_->name() + ": " + message_);
  return TranslateStatus::Failed;
}

TranslateStatus LuaTranslation::refused(Hook hook) {
  // The plugin could not translate what the provider sent (it said why): the attempt fails
  // like a protocol error, without counting a plugin error.
  message_ = std::string(to_string(hook)) + ": " + *run_.refusal;
  return TranslateStatus::Failed;
}

// Runs on the hook's thread, inside LuaState::resume: everything here is protected and under
// the plugin's limits. Upvalue 1: the LuaTranslation; argument 1: the hook function.
int LuaTranslation::trampoline(lua_State* L) {
  auto* self = static_cast<LuaTranslation*>(lua_touserdata(L, lua_upvalueindex(1)));
  const int nargs = self->push_args(L);
  if (nargs < 0) return 0;
  lua_call(L, nargs, LUA_MULTRET);
  self->read_ctx_usage(L);
  self->read_results(L, lua_gettop(L));
  return 0;
}

void LuaTranslation::push_ctx(lua_State* L) {
  if (ctx_ref_ == LUA_NOREF) {
    lua_newtable(L);
    ctx_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx_ref_);
}

int LuaTranslation::push_args(lua_State* L) {
  switch (hook_) {
    case Hook::TransformRequest: {
      std::string error;
      if (!push_request(L, *run_.in, *codec_, &error)) {
        run_.refusal = "the request body is not valid JSON (" + error + ")";
        return -1;
      }
      break;
    }
    case Hook::TransformResponse:
      push_response(L, run_.status, run_.body);
      break;
    case Hook::TransformChunk:
      push_event(L, run_.event, run_.data);
      break;
    default:
      break;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, config_ref_);
  push_ctx(L);
  return hook_ == Hook::TransformEnd ? 2 : 3;
}

void LuaTranslation::read_results(lua_State* L, int count) {
  const int first = count >= 1 ? lua_type(L, 1) : LUA_TNIL;
  if (first == LUA_TNIL && count >= 2 && lua_type(L, 2) == LUA_TSTRING) {
    size_t len = 0;
    const char* message = lua_tolstring(L, 2, &len);
    run_.refusal = bounded_text(std::string_view(message, len), kMaxErrorBytes);
    return;
  }
  switch (hook_) {
    case Hook::TransformRequest:
      read_upstream_request(L, 1, *run_.request);
      break;
    case Hook::TransformResponse: {
      usage::Usage reported = usage_;
      read_client_response(L, 1, run_.status, run_.out, reported);
      usage_ = reported;
      break;
    }
    default: {
      ChunkIds ids{last_id_, last_model_, last_object_, last_created_};
      write_chunks(L, 1, run_.out, ids);
      break;
    }
  }
}

void LuaTranslation::read_ctx_usage(lua_State* L) {
  if (ctx_ref_ == LUA_NOREF) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx_ref_);
  lua_getfield(L, -1, "usage");
  if (!lua_isnil(L, -1)) read_usage(L, lua_gettop(L), "ctx.usage", usage_);
  lua_pop(L, 2);
}

void LuaTranslation::append_usage_chunk(std::string& out) const {
  const bool chat = endpoint_ == filter::Endpoint::ChatCompletions;
  out.append("data: {");
  auto string_field = [&](const char* key, const std::string& value) {
    out.append("\"").append(key).append("\":\"");
    http::append_json_escaped(out, value);
    out.append("\",");
  };
  if (!last_id_.empty()) string_field("id", last_id_);
  string_field("object", !last_object_.empty() ? last_object_
                         : chat                ? std::string("chat.completion.chunk")
                                               : std::string("text_completion"));
  if (last_created_ > 0) {
    out.append("\"created\":").append(std::to_string(static_cast<int64_t>(last_created_)));
    out.append(",");
  }
  if (!last_model_.empty()) string_field("model", last_model_);
  out.append("\"choices\":[],\"usage\":");
  append_openai_usage(out, usage_);
  out.append("}\n\n");
}

}  // namespace sluice::filters::lua
