#include "anthropic/messages_to_chat_response.h"

#include <string>

#include "anthropic/error_translation.h"
#include "anthropic/json_reader.h"
#include "anthropic/json_writer.h"
#include "anthropic/stop_reason.h"
#include "anthropic/usage.h"

namespace anthropic {

namespace {

// content[] → the text and the tool_calls array of the OpenAI message.
Outcome read_content(array content, std::string& text, std::string& tool_calls) {
  JsonWriter calls(tool_calls);
  size_t i = 0;
  for (element value : content) {
    const std::string path = indexed("content", i++);
    object block;
    if (value.get(block) != simdjson::SUCCESS) {
      return Outcome::error("anthropic answer: " + path + " is not an object");
    }
    const std::string_view type = string_or_empty(block, "type");
    if (type == "text") {
      text.append(string_or_empty(block, "text"));
    } else if (type == "tool_use") {
      const auto input = member(block, "input");
      const std::string_view id = string_or_empty(block, "id");
      const std::string_view name = string_or_empty(block, "name");
      if (id.empty() || name.empty()) {
        return Outcome::error("anthropic answer: " + path + " is a tool_use without id or name");
      }
      if (tool_calls.empty()) calls.begin_array();
      calls.begin_object().member("id", id).member("type", "function");
      calls.key("function").begin_object().member("name", name);
      calls.member("arguments", input ? minified(*input) : std::string("{}"));
      calls.end_object().end_object();
    }
    // thinking, redacted_thinking and unknown blocks: dropped (see the header).
  }
  if (!tool_calls.empty()) calls.end_array();
  return Outcome::ok();
}

}  // namespace

Outcome messages_response_to_chat(int status, std::string_view body, int64_t created,
                                  TranslatedResponse& out) {
  if (status < 200 || status > 299) {
    out = anthropic_error_to_openai(status, body);
    return Outcome::ok();
  }
  simdjson::dom::parser parser;
  object message;
  if (!parse_object(parser, body, message) || string_or_empty(message, "type") != "message") {
    return Outcome::error("anthropic answered " + std::to_string(status) +
                          " with a body that is not a message");
  }
  std::string text, tool_calls;
  if (const auto content = member(message, "content")) {
    array blocks;
    if (content->get(blocks) != simdjson::SUCCESS) {
      return Outcome::error("anthropic answer: content is not an array");
    }
    if (auto r = read_content(blocks, text, tool_calls); !r.is_ok()) return r;
  }
  AnthropicCounts counts;
  if (const auto usage = object_member(message, "usage")) counts.update_from(*usage);

  out.status = status;
  out.usage = counts.to_usage();
  out.body.clear();
  JsonWriter w(out.body);
  w.begin_object()
      .member("id", string_or_empty(message, "id"))
      .member("object", "chat.completion")
      .key("created")
      .number(created)
      .member("model", string_or_empty(message, "model"));
  w.key("choices").begin_array().begin_object().member("index", uint64_t{0});
  w.key("message").begin_object().member("role", "assistant");
  if (text.empty() && !tool_calls.empty()) {
    w.key("content").null();
  } else {
    w.member("content", text);
  }
  if (!tool_calls.empty()) w.member_raw("tool_calls", tool_calls);
  w.key("refusal").null().end_object();
  w.key("logprobs").null();
  w.member("finish_reason", finish_reason_for(string_or_empty(message, "stop_reason")));
  w.end_object().end_array();
  w.key("usage");
  write_openai_usage(w, out.usage);
  w.end_object();
  return Outcome::ok();
}

}  // namespace anthropic
