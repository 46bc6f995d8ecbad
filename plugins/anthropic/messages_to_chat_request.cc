#include "anthropic/messages_to_chat_request.h"

#include <optional>

#include "anthropic/anthropic_messages_to_chat.h"
#include "anthropic/json_reader.h"
#include "anthropic/json_writer.h"

namespace anthropic {

namespace {

// What goes into the OpenAI body, gathered first (written in a fixed order).
struct ChatRequest {
  std::optional<element> system;
  std::optional<array> messages;
  std::optional<uint64_t> max_tokens;
  std::string temperature, top_p;  // numbers as the client wrote them; "" = not given
  std::string stop;                // a JSON array; "" = none
  bool stream = false;
  std::string_view user;
  std::string tools;        // a JSON array; "" = no tools
  std::string tool_choice;  // JSON: "auto", "required", "none" or {type:function,...}; "" = none
  bool disable_parallel_tool_use = false;
};

Outcome must_be(std::string_view field, std::string_view what) {
  return Outcome::invalid(std::string(field) + ": must be " + std::string(what));
}

// stop_sequences: ["x", ...] → stop: ["x", ...]
Outcome read_stop_sequences(element value, std::string& out) {
  out.clear();  // a duplicate key: the last one wins, as in JavaScript's JSON.parse
  array list;
  if (value.get(list) != simdjson::SUCCESS) return must_be("stop_sequences", "an array");
  if (list.size() == 0) return Outcome::ok();
  JsonWriter w(out);
  w.begin_array();
  size_t i = 0;
  for (element item : list) {
    std::string_view text;
    if (item.get(text) != simdjson::SUCCESS)
      return must_be(indexed("stop_sequences", i), "a string");
    w.string(text);
    ++i;
  }
  w.end_array();
  return Outcome::ok();
}

// tools: [{"name","description","input_schema"}] → [{"type":"function","function":{...}}].
// A tool with a "type" other than "custom" is one of Anthropic's server tools (web search,
// code execution, bash, ...): run by Anthropic, so no other provider can honour it.
Outcome read_tools(element value, std::string& out) {
  out.clear();  // a duplicate key: the last one wins
  array list;
  if (value.get(list) != simdjson::SUCCESS) return must_be("tools", "an array");
  if (list.size() == 0) return Outcome::ok();
  JsonWriter w(out);
  w.begin_array();
  size_t i = 0;
  for (element item : list) {
    const std::string path = indexed("tools", i++);
    object tool;
    if (item.get(tool) != simdjson::SUCCESS) return must_be(path, "an object");
    if (const auto type = string_member(tool, "type"); type && *type != "custom") {
      return Outcome::invalid(path + ".type: " + quote(*type) +
                              " is an Anthropic server tool; other providers cannot run it");
    }
    const std::string_view name = string_or_empty(tool, "name");
    if (name.empty()) return Outcome::invalid(path + ".name: required");
    w.begin_object().member("type", "function").key("function").begin_object();
    w.member("name", name);
    if (const auto description = string_member(tool, "description")) {
      w.member("description", *description);
    }
    if (const auto schema = object_member(tool, "input_schema")) {
      w.member_raw("parameters", minified(*schema));
    }
    w.end_object().end_object();
  }
  w.end_array();
  return Outcome::ok();
}

Outcome read_tool_choice(element value, ChatRequest& req) {
  object choice;
  if (value.get(choice) != simdjson::SUCCESS) return must_be("tool_choice", "an object");
  const std::string_view type = string_or_empty(choice, "type");
  req.tool_choice.clear();  // a duplicate key: the last one wins
  if (type == "auto") {
    req.tool_choice = R"("auto")";
  } else if (type == "any") {
    req.tool_choice = R"("required")";
  } else if (type == "none") {
    req.tool_choice = R"("none")";
  } else if (type == "tool") {
    const std::string_view name = string_or_empty(choice, "name");
    if (name.empty()) return Outcome::invalid("tool_choice.name: required");
    JsonWriter w(req.tool_choice);
    w.begin_object().member("type", "function");
    w.key("function").begin_object().member("name", name).end_object();
    w.end_object();
  } else {
    return Outcome::invalid("tool_choice.type: " + quote(type) + " has no OpenAI chat equivalent");
  }
  bool disable = false;
  if (choice["disable_parallel_tool_use"].get(disable) == simdjson::SUCCESS) {
    req.disable_parallel_tool_use = disable;
  }
  return Outcome::ok();
}

Outcome read_field(std::string_view key, element value, ChatRequest& req) {
  if (key == "messages") {
    array messages;
    if (value.get(messages) != simdjson::SUCCESS) return must_be("messages", "an array");
    req.messages = messages;
    return Outcome::ok();
  }
  if (key == "system") {
    req.system = value;
    return Outcome::ok();
  }
  if (key == "max_tokens") {
    uint64_t n = 0;
    if (value.get(n) != simdjson::SUCCESS || n == 0) return must_be(key, "a positive integer");
    req.max_tokens = n;
    return Outcome::ok();
  }
  if (key == "temperature" || key == "top_p") {
    if (!value.is_number()) return must_be(key, "a number");
    (key == "temperature" ? req.temperature : req.top_p) = minified(value);
    return Outcome::ok();
  }
  if (key == "stop_sequences") return read_stop_sequences(value, req.stop);
  if (key == "stream") {
    if (value.get(req.stream) != simdjson::SUCCESS) return must_be(key, "a boolean");
    return Outcome::ok();
  }
  if (key == "metadata") {
    object metadata;
    if (value.get(metadata) == simdjson::SUCCESS) req.user = string_or_empty(metadata, "user_id");
    return Outcome::ok();
  }
  if (key == "tools") return read_tools(value, req.tools);
  if (key == "tool_choice") return read_tool_choice(value, req);
  if (key == "mcp_servers" || key == "container") {
    return Outcome::invalid(std::string(key) +
                            ": an Anthropic-hosted feature; other providers cannot serve it");
  }
  // Dropped (the list is in the header): top_k, thinking, service_tier, ...
  return Outcome::ok();
}

void write_request(const ChatRequest& req, std::string_view model, std::string_view messages,
                   std::string& out) {
  out.clear();
  JsonWriter w(out);
  w.begin_object().member("model", model).member_raw("messages", messages);
  if (req.max_tokens) w.member("max_tokens", *req.max_tokens);
  if (!req.temperature.empty()) w.member_raw("temperature", req.temperature);
  if (!req.top_p.empty()) w.member_raw("top_p", req.top_p);
  if (!req.stop.empty()) w.member_raw("stop", req.stop);
  if (req.stream) {
    w.key("stream").boolean(true);
    w.key("stream_options").begin_object().key("include_usage").boolean(true).end_object();
  }
  if (!req.user.empty()) w.member("user", req.user);
  if (!req.tools.empty()) {
    w.member_raw("tools", req.tools);
    if (!req.tool_choice.empty()) w.member_raw("tool_choice", req.tool_choice);
    if (req.disable_parallel_tool_use) w.key("parallel_tool_calls").boolean(false);
  }
  w.end_object();
}

}  // namespace

Outcome messages_request_to_chat(std::string_view messages_body, std::string_view model,
                                 std::string& out) {
  simdjson::dom::parser parser;
  object request;
  if (!parse_object(parser, messages_body, request)) {
    return Outcome::invalid("the request body is not a JSON object");
  }
  ChatRequest req;
  for (const auto field : request) {
    if (field.value.is_null()) continue;
    if (auto r = read_field(field.key, field.value, req); !r.is_ok()) return r;
  }
  if (!req.messages) return Outcome::invalid("messages: required");
  std::string messages;
  if (auto r = anthropic_messages_to_chat(req.system, *req.messages, messages); !r.is_ok()) {
    return r;
  }
  write_request(req, model, messages, out);
  return Outcome::ok();
}

}  // namespace anthropic
