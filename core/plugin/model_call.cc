#include "core/plugin/model_call.h"

#include <algorithm>

#include "core/filter/internal_caller.h"
#include "core/json/request_fields.h"
#include "core/plugin/host_api.h"

namespace sluice::plugin {
namespace {

// sluice keeps a client's x-request-id up to 128 printable bytes (proxy_session.cc).
constexpr size_t kMaxRequestIdPrefix = 112;

const char* path_of(std::string_view endpoint) {
  if (endpoint == "embeddings") return "/v1/embeddings";
  if (endpoint == "chat.completions") return "/v1/chat/completions";
  return nullptr;
}

}  // namespace

sluice_status prepare_model_call(const sluice_model_request& request, const ModelCallFor& origin,
                                 HttpCallRequest* out, std::string* error) {
  if (request.size < sizeof(sluice_model_request)) {
    *error = "sluice_model_request.size is " + std::to_string(request.size) + ", expected " +
             std::to_string(sizeof(sluice_model_request)) + " (set it to sizeof the struct)";
    return SLUICE_INVALID;
  }
  const std::string_view endpoint = view(request.endpoint);
  const char* path = path_of(endpoint);
  if (path == nullptr) {
    *error = "endpoint must be \"embeddings\" or \"chat.completions\", not \"" +
             std::string(endpoint) + "\"";
    return SLUICE_INVALID;
  }
  std::string body(view(request.body));
  json::ensure_padding(body);
  json::RequestFields fields;
  if (auto parsed = json::parse_request_fields(body, &fields);
      parsed.status != json::ParseStatus::Ok) {
    *error = "body is not a valid OpenAI request: " + json::error_message(parsed);
    return SLUICE_INVALID;
  }
  if (!fields.has_model || fields.model.empty()) {
    *error = "body has no \"model\": name a logical model of the config";
    return SLUICE_INVALID;
  }
  if (fields.stream) {
    *error = "\"stream\": true is not supported for a plugin's model call";
    return SLUICE_INVALID;
  }
  if (request.timeout_ms == 0) {
    *error = "timeout_ms is required (> 0)";
    return SLUICE_INVALID;
  }
  if (origin.time_left.count() <= 0) {
    *error = "the deadline has passed";
    return SLUICE_UNAVAILABLE;
  }
  std::string base = filter::internal_caller_origin();
  if (base.empty()) {
    *error = "sluice has no listener to send a model call to";
    return SLUICE_UNAVAILABLE;
  }

  out->method = "POST";
  out->url = base + path;
  std::string id(origin.request_id.substr(0, kMaxRequestIdPrefix));
  if (id.empty()) id = "plugin";
  id.append(".m").append(std::to_string(origin.sequence));
  out->headers = {{"content-type", "application/json"},
                  {"x-request-id", std::move(id)},
                  {std::string(filter::kInternalCallerHeader),
                   filter::internal_caller_credential(origin.agent)}};
  out->body = std::move(body);
  out->timeout = std::min(std::chrono::milliseconds(request.timeout_ms), origin.time_left);
  out->max_response_bytes = kMaxModelResponse;
  return SLUICE_OK;
}

sluice_model_response model_response_of(const HttpCallResult& result) {
  sluice_model_response response{};
  response.size = sizeof response;
  response.status = result.error.empty() ? result.status : 0;
  response.body = str(result.body);
  response.error = str(result.error);
  return response;
}

}  // namespace sluice::plugin
