#include "core/filter/request_context.h"

#include <algorithm>

#include "core/http/request.h"
#include "core/json/request_fields.h"
#include "core/usage/usage.h"

namespace sluice::filter {

const char* to_string(Endpoint e) {
  switch (e) {
    case Endpoint::ChatCompletions:
      return "chat.completions";
    case Endpoint::Completions:
      return "completions";
    case Endpoint::Embeddings:
      return "embeddings";
    case Endpoint::Responses:
      return "responses";
    case Endpoint::Models:
      return "models";
    case Endpoint::Messages:
      return "messages";
    case Endpoint::Mcp:
      return "mcp";
    case Endpoint::ToolList:
      return "tools";
    case Endpoint::ToolCall:
      return "tools.call";
    case Endpoint::Unknown:
      return "unknown";
  }
  return "unknown";
}

bool goes_to_provider(Endpoint e) {
  switch (e) {
    case Endpoint::ChatCompletions:
    case Endpoint::Completions:
    case Endpoint::Embeddings:
    case Endpoint::Responses:
    case Endpoint::Messages:
      return true;
    case Endpoint::Models:
    case Endpoint::Mcp:
    case Endpoint::ToolList:
    case Endpoint::ToolCall:
    case Endpoint::Unknown:
      return false;
  }
  return false;
}

bool is_tool_endpoint(Endpoint e) {
  return e == Endpoint::Mcp || e == Endpoint::ToolList || e == Endpoint::ToolCall;
}

Endpoint endpoint_of(std::string_view method, std::string_view path) {
  // Tolerate one trailing slash: SDKs never send it, hand-written curl sometimes does.
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (method == "POST") {
    if (path == "/v1/chat/completions") return Endpoint::ChatCompletions;
    if (path == "/v1/completions") return Endpoint::Completions;
    if (path == "/v1/embeddings") return Endpoint::Embeddings;
    if (path == "/v1/responses") return Endpoint::Responses;
    if (path == "/v1/messages") return Endpoint::Messages;
    if (path == "/mcp") return Endpoint::Mcp;
    if (path.starts_with("/v1/tools/") && path.size() > 10) return Endpoint::ToolCall;
  } else if (method == "GET") {
    if (path == "/v1/models") return Endpoint::Models;
    if (path == "/v1/tools") return Endpoint::ToolList;
    if (path == "/mcp") return Endpoint::Mcp;
  } else if (method == "DELETE") {
    if (path == "/mcp") return Endpoint::Mcp;
  }
  return Endpoint::Unknown;
}

const char* to_string(AttemptResult r) {
  switch (r) {
    case AttemptResult::Success:
      return "success";
    case AttemptResult::HttpError:
      return "http_error";
    case AttemptResult::ConnectFailure:
      return "connect_failure";
    case AttemptResult::Reset:
      return "reset";
    case AttemptResult::Timeout:
      return "timeout";
    case AttemptResult::Protocol:
      return "protocol";
    case AttemptResult::Overloaded:
      return "overloaded";
  }
  return "?";
}

RequestArena::RequestArena() : resource_(inline_, sizeof inline_) {}

RequestArena::~RequestArena() {
  release();
}

void RequestArena::release() {
  for (auto it = destructors_.rbegin(); it != destructors_.rend(); ++it) it->first(it->second);
  destructors_.clear();
  resource_.release();
}

void RequestContext::respond(int status, std::string_view type, std::string_view code,
                             std::string message) {
  local_reply_.status = status;
  local_reply_.type.assign(type);
  local_reply_.code.assign(code);
  local_reply_.message = std::move(message);
  local_reply_.body.clear();
}

void RequestContext::respond_json(int status, std::string body) {
  local_reply_.status = status;
  local_reply_.type.clear();
  local_reply_.code.clear();
  local_reply_.message.clear();
  local_reply_.body = std::move(body);
}

void RequestContext::add_response_header(std::string_view name, std::string_view value) {
  extra_headers_.append(name).append(": ").append(value).append("\r\n");
}

bool RequestContext::replace_request_body(std::string body, std::string* error) {
  if (goes_to_provider(endpoint)) {
    json::ensure_padding(body);
    json::RequestFields parsed_fields;
    json::ParseResult parsed = json::parse_request_fields(body, &parsed_fields);
    if (parsed.status != json::ParseStatus::Ok) {
      *error = "the new body is not a valid request: " + json::error_message(parsed);
      return false;
    }
    if (!parsed_fields.has_model || parsed_fields.model.empty()) {
      *error = "the new body has no \"model\"";
      return false;
    }
    fields = std::move(parsed_fields);
    prompt_tokens_estimate = usage::estimate_tokens_from_bytes(body.size());
  }
  request->body = std::move(body);
  return true;
}

std::optional<std::string_view> RequestContext::upstream_response_header(
    std::string_view name) const {
  for (const http::HeaderView& h : upstream_response_headers) {
    if (http::iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

void RequestContext::set_response_header(std::string_view name, std::string_view value) {
  // One edit per name: the set also keeps the upstream's own lines of that name out.
  std::erase_if(header_edits_, [&](const HeaderEdit& e) { return http::iequals(e.name, name); });
  header_edits_.push_back(HeaderEdit{std::string(name), std::string(value)});
}

void RequestContext::remove_response_header(std::string_view name) {
  std::erase_if(header_edits_, [&](const HeaderEdit& e) { return http::iequals(e.name, name); });
  header_edits_.push_back(HeaderEdit{std::string(name), std::nullopt});
}

bool RequestContext::response_header_edited(std::string_view name) const {
  for (const HeaderEdit& e : header_edits_) {
    if (http::iequals(e.name, name)) return true;
  }
  return false;
}

void RequestContext::resume_chain() {
  if (resumer_ != nullptr) resumer_->resume_chain();
}

void RequestContext::reset() {
  snapshot = nullptr;
  worker = nullptr;
  config = nullptr;
  request = nullptr;
  endpoint = Endpoint::Unknown;
  request_id.clear();
  std::string model = std::move(fields.model);  // keep the allocation for the next request
  model.clear();
  fields = json::RequestFields{};
  fields.model = std::move(model);
  internal_call = false;
  internal_agent.clear();
  agent = nullptr;
  model_group = nullptr;
  response_status = 0;
  attempts = 0;
  last_candidate = Candidate{};
  bytes_in = 0;
  bytes_out = 0;
  client_gone = false;
  // A keep-alive connection's next request must not inherit this one's tokens or charge.
  prompt_tokens_estimate = 0;
  usage = usage::Usage{};
  cost_usd = 0;
  unpriced = false;
  retry_delay = std::chrono::milliseconds(0);
  upstream_sent_at.reset();
  first_byte_at.reset();
  local_reply_.status = 0;
  local_reply_.type.clear();
  local_reply_.code.clear();
  local_reply_.message.clear();
  local_reply_.body.clear();
  extra_headers_.clear();
  header_edits_.clear();
  upstream_response_headers = {};
  rewrites_body_ = false;
  has_chunk_replacement_ = false;
  chunk_replacement_.clear();
  resumer_ = nullptr;
  arena_.release();
}

}  // namespace sluice::filter
