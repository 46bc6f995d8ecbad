#include "core/tools/http_tool.h"

#include <simdjson.h>

#include <algorithm>

#include "core/filter/worker_context.h"
#include "core/plugin/http_caller.h"
#include "core/tools/tool_source.h"

namespace sluice::tools {
namespace {

// How much of a failing tool's body the agent gets back in the error text.
constexpr size_t kErrorBodyBytes = 1024;

bool is_json_type(std::string_view type) {
  const size_t semi = type.find(';');
  if (semi != std::string_view::npos) type = type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower(type);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "application/json" || lower.ends_with("+json");
}

bool parses_as_json(const std::string& body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  return parser.parse(body.data(), body.size(), true).get(root) == simdjson::SUCCESS;
}

void append_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

void append_pair(std::string& out, std::string_view key, simdjson::dom::element value) {
  if (!out.empty()) out.push_back('&');
  append_encoded(out, key);
  out.push_back('=');
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    append_encoded(out, text);
  } else {
    append_encoded(out, simdjson::minify(value));  // numbers, booleans, null, objects
  }
}

class HttpPendingCall final : public PendingCall {
 public:
  HttpPendingCall(plugin::HttpCaller& http, CallSink& sink) : http_(http), sink_(sink) {}
  ~HttpPendingCall() override = default;

  void cancel() override {
    if (call_ != nullptr) http_.cancel(call_);
    call_ = nullptr;
  }

  static void on_done(void* arg, plugin::HttpCallResult& r) {
    auto* self = static_cast<HttpPendingCall*>(arg);
    self->call_ = nullptr;
    self->sink_.on_tool_done(result_of(r));
  }

  plugin::HttpCall* call_ = nullptr;

 private:
  static CallResult result_of(plugin::HttpCallResult& r) {
    CallResult out;
    if (!r.error.empty()) {
      out.status = r.error.starts_with("timeout") ? CallStatus::Timeout : CallStatus::Unavailable;
      out.content = std::move(r.error);
      return out;
    }
    if (r.status < 200 || r.status > 299) {
      out.status = CallStatus::ToolError;
      out.content = "HTTP " + std::to_string(r.status);
      if (!r.body.empty()) {
        out.content.append(": ").append(r.body.substr(0, kErrorBodyBytes));
        if (r.body.size() > kErrorBodyBytes) out.content.append("…");
      }
      return out;
    }
    bool json = false;
    for (const auto& [name, value] : r.headers) {
      if (name.size() == 12 && strncasecmp(name.c_str(), "content-type", 12) == 0) {
        json = is_json_type(value);
      }
    }
    if (!json && !r.body.empty() && (r.body.front() == '{' || r.body.front() == '[')) {
      json = parses_as_json(r.body);
    }
    out.json = json && !r.body.empty();
    out.content = std::move(r.body);
    return out;
  }

  plugin::HttpCaller& http_;
  CallSink& sink_;
};

}  // namespace

HttpToolExecutor::HttpToolExecutor(const config::ToolSpec& spec)
    : name_(spec.name),
      url_(spec.url),
      method_(spec.method),
      headers_(spec.headers),
      max_response_(spec.max_response),
      args_in_query_(spec.method == "GET" || spec.method == "DELETE") {}

std::string HttpToolExecutor::query_of(std::string_view arguments_json) {
  std::string out;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(arguments_json.data(), arguments_json.size(), true).get_object().get(object) !=
      simdjson::SUCCESS) {
    return out;
  }
  for (auto field : object) {
    simdjson::dom::array array;
    if (field.value.get_array().get(array) == simdjson::SUCCESS) {
      for (simdjson::dom::element item : array) append_pair(out, field.key, item);
    } else {
      append_pair(out, field.key, field.value);
    }
  }
  return out;
}

std::unique_ptr<PendingCall> HttpToolExecutor::start(const CallContext& ctx, CallSink& sink,
                                                     CallResult& failed) const {
  failed.status = CallStatus::Unavailable;
  if (ctx.worker == nullptr || ctx.worker->http == nullptr) {
    failed.content = "no HTTP client on this worker";
    return nullptr;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      ctx.deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    failed.status = CallStatus::Timeout;
    failed.content = "no time left before the deadline";
    return nullptr;
  }
  plugin::HttpCallRequest request;
  request.method = method_;
  request.timeout = left;
  request.max_response_bytes = max_response_;
  request.url = url_;
  if (args_in_query_) {
    const std::string query = query_of(ctx.arguments);
    if (!query.empty()) {
      request.url.push_back(url_.find('?') == std::string::npos ? '?' : '&');
      request.url.append(query);
    }
  } else {
    request.body = std::string(ctx.arguments);
    request.headers.emplace_back("content-type", "application/json");
  }
  request.headers.emplace_back("accept", "application/json, text/plain;q=0.9, */*;q=0.5");
  request.headers.emplace_back("x-request-id", std::string(ctx.request_id));
  if (!ctx.agent.empty()) request.headers.emplace_back("x-sluice-agent", std::string(ctx.agent));
  for (const auto& header : headers_) request.headers.push_back(header);

  auto call = std::make_unique<HttpPendingCall>(*ctx.worker->http, sink);
  std::string error;
  call->call_ =
      ctx.worker->http->start(std::move(request), &HttpPendingCall::on_done, call.get(), &error);
  if (call->call_ == nullptr) {
    failed.content = error.empty() ? "the call could not start" : error;
    return nullptr;
  }
  return call;
}

std::shared_ptr<ToolSource> build_http_tool(const ToolBuildInputs& in) {
  return single_tool_source(in.spec, in.spec.description, in.spec.input_schema_json,
                            std::make_unique<HttpToolExecutor>(in.spec));
}

}  // namespace sluice::tools
