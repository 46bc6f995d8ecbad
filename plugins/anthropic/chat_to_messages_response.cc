#include "anthropic/chat_to_messages_response.h"

#include <string>

#include "anthropic/error_translation.h"
#include "anthropic/json_reader.h"
#include "anthropic/json_writer.h"
#include "anthropic/stop_reason.h"
#include "anthropic/usage.h"

namespace anthropic {

std::string anthropic_message_id(std::string_view openai_id, std::string_view fallback) {
  if (openai_id.starts_with("msg_")) return std::string(openai_id);
  return "msg_" + std::string(openai_id.empty() ? fallback : openai_id);
}

namespace {

// message.tool_calls → tool_use blocks, appended to the content array being written.
Outcome write_tool_uses(array calls, simdjson::dom::parser& arguments_parser, JsonWriter& w) {
  size_t j = 0;
  for (element value : calls) {
    const std::string path = indexed("choices[0].message.tool_calls", j++);
    object call;
    if (value.get(call) != simdjson::SUCCESS) {
      return Outcome::error("openai answer: " + path + " is not an object");
    }
    const auto function = object_member(call, "function");
    const std::string_view id = string_or_empty(call, "id");
    const std::string_view name = function ? string_or_empty(*function, "name") : "";
    if (id.empty() || name.empty()) {
      return Outcome::error("openai answer: " + path + " has no id or function.name");
    }
    std::string_view arguments = string_or_empty(*function, "arguments");
    if (arguments.find_first_not_of(" \t\r\n") == std::string_view::npos) arguments = "{}";
    object input;
    if (!parse_object(arguments_parser, arguments, input)) {
      return Outcome::error("openai answer: " + path + ".function.arguments is not a JSON object");
    }
    w.begin_object().member("type", "tool_use").member("id", id).member("name", name);
    w.member_raw("input", arguments).end_object();
  }
  return Outcome::ok();
}

}  // namespace

Outcome chat_response_to_messages(int status, std::string_view body,
                                  const ChatResponseContext& context, TranslatedResponse& out) {
  if (status < 200 || status > 299) {
    out = openai_error_to_anthropic(status, body);
    return Outcome::ok();
  }
  simdjson::dom::parser parser;
  object completion;
  array choices;
  object choice, message;
  if (!parse_object(parser, body, completion) ||
      completion["choices"].get(choices) != simdjson::SUCCESS || choices.size() == 0 ||
      choices.at(0).get(choice) != simdjson::SUCCESS ||
      choice["message"].get(message) != simdjson::SUCCESS) {
    return Outcome::error("the provider answered " + std::to_string(status) +
                          " with a body that is not a chat completion");
  }
  Usage usage;
  if (const auto u = object_member(completion, "usage")) usage = read_openai_usage(*u);
  const std::string_view model = string_or_empty(completion, "model");

  out.status = status;
  out.usage = usage;
  out.body.clear();
  JsonWriter w(out.body);
  w.begin_object()
      .member("id", anthropic_message_id(string_or_empty(completion, "id"), context.request_id))
      .member("type", "message")
      .member("role", "assistant")
      .member("model", model.empty() ? context.model : model);
  w.key("content").begin_array();
  std::string_view text = string_or_empty(message, "content");
  if (text.empty()) text = string_or_empty(message, "refusal");
  if (!text.empty()) w.begin_object().member("type", "text").member("text", text).end_object();
  if (const auto calls = member(message, "tool_calls")) {
    array list;
    if (calls->get(list) != simdjson::SUCCESS) {
      return Outcome::error("openai answer: choices[0].message.tool_calls is not an array");
    }
    simdjson::dom::parser arguments_parser;  // a second document: see write_tool_uses
    if (auto r = write_tool_uses(list, arguments_parser, w); !r.is_ok()) return r;
  }
  w.end_array();
  w.member("stop_reason", stop_reason_for(string_or_empty(choice, "finish_reason")));
  w.key("stop_sequence").null();
  w.key("usage");
  write_anthropic_usage(w, usage);
  w.end_object();
  return Outcome::ok();
}

}  // namespace anthropic
