#include "anthropic/chat_to_messages_request.h"

#include <optional>

#include "anthropic/chat_messages_to_anthropic.h"
#include "anthropic/json_reader.h"
#include "anthropic/json_writer.h"

namespace anthropic {

namespace {

// What goes into the Anthropic body, gathered first: the body's members are written in the
// order Anthropic documents them, not in the order the client sent its fields.
struct MessagesRequest {
  bool has_messages = false;
  AnthropicConversation conversation;
  std::optional<uint64_t> max_tokens;             // max_tokens
  std::optional<uint64_t> max_completion_tokens;  // wins over max_tokens
  // Numbers as the client wrote them (re-encoded by simdjson); "" = not given.
  std::string temperature, top_p, top_k;
  std::string stop_sequences;  // a JSON array; "" = none
  bool stream = false;
  std::string_view user, metadata_user;
  std::string tools;  // a JSON array; "" = no tools
  // tool_choice: "auto", "any", "none" or "tool" (then with a name); "" = not given.
  std::string_view tool_choice_type, tool_choice_name;
  bool disable_parallel_tool_use = false;
};

Outcome must_be(std::string_view field, std::string_view what) {
  return Outcome::invalid(std::string(field) + ": must be " + std::string(what));
}

Outcome no_equivalent(std::string_view field, std::string_view value) {
  return Outcome::invalid(std::string(field) + ": " + std::string(value) +
                          " has no Anthropic equivalent");
}

Outcome read_token_limit(std::string_view field, element value, std::optional<uint64_t>& out) {
  uint64_t n = 0;
  if (value.get(n) != simdjson::SUCCESS || n == 0) return must_be(field, "a positive integer");
  out = n;
  return Outcome::ok();
}

Outcome read_number(std::string_view field, element value, std::string& out) {
  if (!value.is_number()) return must_be(field, "a number");
  out = minified(value);
  return Outcome::ok();
}

// Anthropic's temperature runs 0..1 where OpenAI's runs 0..2. Scaling would change what every
// client already tuned; passing 1.5 on would only fetch Anthropic's 400; so it is refused here,
// with the reason, before anything is sent.
Outcome read_temperature(element value, std::string& out) {
  double t = 0;
  if (value.get(t) != simdjson::SUCCESS) return must_be("temperature", "a number");
  if (t < 0 || t > 1) {
    return Outcome::invalid("temperature: " + minified(value) +
                            " is outside Anthropic's range 0..1");
  }
  out = minified(value);
  return Outcome::ok();
}

// stop: "x" or ["x", "y"] → stop_sequences: ["x"] / ["x", "y"].
Outcome read_stop(element value, std::string& out) {
  out.clear();  // a duplicate key: the last one wins, as in JavaScript's JSON.parse
  JsonWriter w(out);
  std::string_view one;
  if (value.get(one) == simdjson::SUCCESS) {
    w.begin_array().string(one).end_array();
    return Outcome::ok();
  }
  array list;
  if (value.get(list) != simdjson::SUCCESS) return must_be("stop", "a string or an array");
  if (list.size() == 0) return Outcome::ok();
  w.begin_array();
  size_t i = 0;
  for (element item : list) {
    if (item.get(one) != simdjson::SUCCESS) return must_be(indexed("stop", i), "a string");
    w.string(one);
    ++i;
  }
  w.end_array();
  return Outcome::ok();
}

// tools: [{"type":"function","function":{"name","description","parameters","strict"}}]
//     → [{"name","description","input_schema"}]
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
    const std::string_view type = string_or_empty(tool, "type");
    if (type != "function") return no_equivalent(path + ".type", quote(type));
    const auto function = object_member(tool, "function");
    if (!function) return must_be(path + ".function", "an object");
    const std::string_view name = string_or_empty(*function, "name");
    if (name.empty()) return Outcome::invalid(path + ".function.name: required");
    w.begin_object().member("name", name);
    if (const auto description = string_member(*function, "description")) {
      w.member("description", *description);
    }
    if (const auto parameters = object_member(*function, "parameters")) {
      w.member_raw("input_schema", minified(*parameters));
    } else {
      // OpenAI allows a function without parameters; Anthropic requires a schema.
      w.member_raw("input_schema", R"({"type":"object","properties":{}})");
    }
    w.end_object();
  }
  w.end_array();
  return Outcome::ok();
}

Outcome read_tool_choice(element value, MessagesRequest& req) {
  std::string_view mode;
  if (value.get(mode) == simdjson::SUCCESS) {
    if (mode == "auto") {
      req.tool_choice_type = "auto";
    } else if (mode == "required") {
      req.tool_choice_type = "any";
    } else if (mode == "none") {
      req.tool_choice_type = "none";
    } else {
      return no_equivalent("tool_choice", quote(mode));
    }
    return Outcome::ok();
  }
  object choice;
  if (value.get(choice) != simdjson::SUCCESS) return must_be("tool_choice", "a string or object");
  const std::string_view type = string_or_empty(choice, "type");
  if (type != "function") return no_equivalent("tool_choice.type", quote(type));
  const auto function = object_member(choice, "function");
  const std::string_view name = function ? string_or_empty(*function, "name") : "";
  if (name.empty()) return Outcome::invalid("tool_choice.function.name: required");
  req.tool_choice_type = "tool";
  req.tool_choice_name = name;
  return Outcome::ok();
}

// response_format: only {"type":"text"} (the default) can be honoured.
Outcome check_response_format(element value) {
  object format;
  if (value.get(format) != simdjson::SUCCESS) return must_be("response_format", "an object");
  const std::string_view type = string_or_empty(format, "type");
  if (type == "text") return Outcome::ok();
  return Outcome::invalid("response_format.type: " + quote(type) +
                          " has no Anthropic equivalent (Anthropic has no JSON mode; ask for "
                          "JSON in the prompt, or use a tool)");
}

// modalities: ["text"] is what Anthropic does; anything else (audio) is not.
Outcome check_modalities(element value) {
  array list;
  if (value.get(list) != simdjson::SUCCESS) return must_be("modalities", "an array");
  size_t i = 0;
  for (element item : list) {
    std::string_view modality;
    if (item.get(modality) != simdjson::SUCCESS || modality != "text") {
      return no_equivalent(indexed("modalities", i), describe(item));
    }
    ++i;
  }
  return Outcome::ok();
}

// One top-level field of the chat request. A null value means "not given" and never gets here.
Outcome read_field(std::string_view key, element value, MessagesRequest& req) {
  if (key == "messages") {
    array messages;
    if (value.get(messages) != simdjson::SUCCESS) return must_be("messages", "an array");
    req.has_messages = true;
    return chat_messages_to_anthropic(messages, req.conversation);
  }
  if (key == "max_completion_tokens") {
    return read_token_limit(key, value, req.max_completion_tokens);
  }
  if (key == "max_tokens") return read_token_limit(key, value, req.max_tokens);
  if (key == "temperature") return read_temperature(value, req.temperature);
  if (key == "top_p") return read_number(key, value, req.top_p);
  if (key == "top_k") return read_number(key, value, req.top_k);
  if (key == "stop") return read_stop(value, req.stop_sequences);
  if (key == "stream") {
    if (value.get(req.stream) != simdjson::SUCCESS) return must_be(key, "a boolean");
    return Outcome::ok();
  }
  if (key == "user") {
    if (value.get(req.user) != simdjson::SUCCESS) return must_be(key, "a string");
    return Outcome::ok();
  }
  if (key == "metadata") {
    object metadata;
    if (value.get(metadata) == simdjson::SUCCESS)
      req.metadata_user = string_or_empty(metadata, "user");
    return Outcome::ok();
  }
  if (key == "tools") return read_tools(value, req.tools);
  if (key == "tool_choice") return read_tool_choice(value, req);
  if (key == "parallel_tool_calls") {
    bool parallel = true;
    if (value.get(parallel) != simdjson::SUCCESS) return must_be(key, "a boolean");
    req.disable_parallel_tool_use = !parallel;
    return Outcome::ok();
  }
  // Refused: the answer could not be what the client asked for.
  if (key == "n") {
    uint64_t n = 1;
    if (value.get(n) != simdjson::SUCCESS || n != 1) {
      return Outcome::invalid("n: " + minified(value) +
                              " is not supported: Anthropic returns one choice");
    }
    return Outcome::ok();
  }
  if (key == "logprobs") {
    bool wanted = false;
    if (value.get(wanted) != simdjson::SUCCESS || wanted) {
      return Outcome::invalid("logprobs: Anthropic does not return log probabilities");
    }
    return Outcome::ok();
  }
  if (key == "top_logprobs") {
    uint64_t n = 0;
    if (value.get(n) != simdjson::SUCCESS || n != 0) {
      return Outcome::invalid("top_logprobs: Anthropic does not return log probabilities");
    }
    return Outcome::ok();
  }
  if (key == "response_format") return check_response_format(value);
  if (key == "modalities") return check_modalities(value);
  if (key == "audio") return Outcome::invalid("audio: Anthropic does not answer with audio");
  if (key == "web_search_options") {
    return Outcome::invalid(
        "web_search_options: not translated (Anthropic's web search is a "
        "server tool with its own shape)");
  }
  if (key == "functions" || key == "function_call") {
    return Outcome::invalid(std::string(key) +
                            ": the legacy function-calling fields are not translated; send tools");
  }
  // Everything else is dropped (the list is in the header): seed, penalties, logit_bias, ...
  return Outcome::ok();
}

void write_tool_choice(JsonWriter& w, const MessagesRequest& req) {
  std::string_view type = req.tool_choice_type;
  if (type.empty()) {
    if (!req.disable_parallel_tool_use) return;
    type = "auto";  // parallel_tool_calls: false alone: Anthropic's default choice, restricted
  }
  w.key("tool_choice").begin_object().member("type", type);
  if (type == "tool") w.member("name", req.tool_choice_name);
  if (req.disable_parallel_tool_use && type != "none") {
    w.key("disable_parallel_tool_use").boolean(true);
  }
  w.end_object();
}

void write_request(const MessagesRequest& req, const ChatToMessagesOptions& options,
                   std::string& out) {
  out.clear();
  JsonWriter w(out);
  w.begin_object().member("model", options.model);
  w.member("max_tokens",
           req.max_completion_tokens.value_or(req.max_tokens.value_or(options.default_max_tokens)));
  if (!req.conversation.system.empty()) w.member("system", req.conversation.system);
  w.member_raw("messages", req.conversation.messages);
  if (!req.stop_sequences.empty()) w.member_raw("stop_sequences", req.stop_sequences);
  if (!req.temperature.empty()) w.member_raw("temperature", req.temperature);
  if (!req.top_p.empty()) w.member_raw("top_p", req.top_p);
  if (!req.top_k.empty()) w.member_raw("top_k", req.top_k);
  if (req.stream) w.key("stream").boolean(true);
  const std::string_view user = req.user.empty() ? req.metadata_user : req.user;
  if (!user.empty()) w.key("metadata").begin_object().member("user_id", user).end_object();
  // tool_choice without tools: OpenAI refuses it and Anthropic has nothing to choose from.
  if (!req.tools.empty()) {
    w.member_raw("tools", req.tools);
    write_tool_choice(w, req);
  }
  w.end_object();
}

}  // namespace

Outcome chat_request_to_messages(std::string_view chat_body, const ChatToMessagesOptions& options,
                                 std::string& out) {
  simdjson::dom::parser parser;
  object request;
  if (!parse_object(parser, chat_body, request)) {
    return Outcome::invalid("the request body is not a JSON object");
  }
  MessagesRequest req;
  for (const auto field : request) {
    if (field.value.is_null()) continue;  // null is "not given" in OpenAI's API
    if (auto r = read_field(field.key, field.value, req); !r.is_ok()) return r;
  }
  if (!req.has_messages) return Outcome::invalid("messages: required");
  write_request(req, options, out);
  return Outcome::ok();
}

}  // namespace anthropic
