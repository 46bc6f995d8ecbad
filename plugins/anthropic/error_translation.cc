#include "anthropic/error_translation.h"

#include <string>

#include "anthropic/json_reader.h"
#include "anthropic/json_writer.h"

namespace anthropic {

namespace {

constexpr size_t kMaxQuotedBody = 512;

// The message for a body that is not the error JSON we expected.
std::string message_from_text(int status, std::string_view body) {
  while (!body.empty() && (body.front() == ' ' || body.front() == '\n' || body.front() == '\r' ||
                           body.front() == '\t')) {
    body.remove_prefix(1);
  }
  if (body.empty()) {
    return "the provider answered HTTP " + std::to_string(status) + " with an empty body";
  }
  std::string text = printable_prefix(body, kMaxQuotedBody);
  if (text.size() < body.size()) text.append("...");
  return text;
}

}  // namespace

std::string_view anthropic_error_type_for(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

TranslatedResponse anthropic_error_to_openai(int status, std::string_view body) {
  std::string_view type, message;
  std::string fallback_message;
  simdjson::dom::parser parser;
  object doc;
  if (parse_object(parser, body, doc)) {
    if (const auto error = object_member(doc, "error")) {
      type = string_or_empty(*error, "type");
      message = string_or_empty(*error, "message");
    }
  }
  if (message.empty()) {
    fallback_message = message_from_text(status, body);
    message = fallback_message;
  }

  TranslatedResponse out;
  out.status = status == 529 ? 503 : status;
  JsonWriter w(out.body);
  w.begin_object().key("error").begin_object();
  w.member("message", message);
  w.member("type", type.empty() ? anthropic_error_type_for(status) : type);
  w.key("param").null();
  if (type.empty()) {
    w.key("code").null();
  } else {
    w.member("code", type);
  }
  w.end_object().end_object();
  return out;
}

TranslatedResponse openai_error_to_anthropic(int status, std::string_view body) {
  std::string_view message;
  std::string fallback_message;
  simdjson::dom::parser parser;
  object doc;
  if (parse_object(parser, body, doc)) {
    if (const auto error = object_member(doc, "error")) {
      message = string_or_empty(*error, "message");
    } else {
      message = string_or_empty(doc, "error");  // {"error": "model not found"} (Ollama & co.)
    }
  }
  if (message.empty()) {
    fallback_message = message_from_text(status, body);
    message = fallback_message;
  }

  TranslatedResponse out;
  out.status = status;
  JsonWriter w(out.body);
  w.begin_object().member("type", "error").key("error").begin_object();
  w.member("type", anthropic_error_type_for(status));
  w.member("message", message);
  w.end_object().end_object();
  return out;
}

}  // namespace anthropic
