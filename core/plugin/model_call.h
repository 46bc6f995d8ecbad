// A plugin's call to a logical model of sluice itself (plugin.h "calling a model through
// sluice"), turned into the HTTP request the worker's HttpCaller sends to sluice's own listener
// with the internal credential of the agent it is made for (core/filter/internal_caller.h). Used
// by both entry points: host->call_model (a filter's request) and host->tool_call_model.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/plugin/http_caller.h"
#include "sluice/plugin.h"

namespace sluice::plugin {

// The largest answer a model call may bring back (embeddings of a long batch are big).
inline constexpr size_t kMaxModelResponse = size_t{16} << 20;

struct ModelCallFor {
  std::string_view agent;       // "" for an anonymous caller
  std::string_view request_id;  // of the request or tool call it is made for
  uint32_t sequence = 0;        // its number among that one's model calls (request id suffix)
  std::chrono::milliseconds time_left{0};  // the timeout is cut to this
};

// Checks `request` and builds the call. SLUICE_OK, or with *error (a sentence for the plugin
// author): SLUICE_INVALID (table too small, unknown endpoint, body not a JSON object with a
// string "model", "stream": true, timeout 0), SLUICE_UNAVAILABLE (time_left <= 0; sluice listens
// nowhere yet).
sluice_status prepare_model_call(const sluice_model_request& request, const ModelCallFor& origin,
                                 HttpCallRequest* out, std::string* error);

// The answer as the plugin sees it: borrows from `result`.
sluice_model_response model_response_of(const HttpCallResult& result);

}  // namespace sluice::plugin
