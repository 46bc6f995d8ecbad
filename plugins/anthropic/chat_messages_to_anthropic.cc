#include "anthropic/chat_messages_to_anthropic.h"

#include <algorithm>
#include <vector>

#include "anthropic/data_url.h"
#include "anthropic/json_writer.h"

namespace anthropic {

namespace {

// Field paths for messages, built only when something is refused.
std::string message_path(size_t i) {
  return indexed("messages", i);
}
std::string part_path(size_t i, size_t j) {
  return indexed(message_path(i) + ".content", j);
}
std::string call_path(size_t i, size_t j) {
  return indexed(message_path(i) + ".tool_calls", j);
}

Outcome content_shape_error(size_t i) {
  return Outcome::invalid(message_path(i) + ".content: must be a string or an array of parts");
}

// One content part's object and its type, or why it cannot be read.
Outcome read_part(element value, size_t i, size_t j, object& part, std::string_view& type) {
  if (value.get(part) != simdjson::SUCCESS) {
    return Outcome::invalid(part_path(i, j) + ": must be an object");
  }
  type = string_or_empty(part, "type");
  if (type.empty()) return Outcome::invalid(part_path(i, j) + ".type: required");
  return Outcome::ok();
}

Outcome part_text(object part, size_t i, size_t j, std::string_view& text) {
  if (const auto t = string_member(part, "text")) {
    text = *t;
    return Outcome::ok();
  }
  return Outcome::invalid(part_path(i, j) + ".text: must be a string");
}

Outcome unsupported_part(size_t i, size_t j, std::string_view type, std::string_view where) {
  return Outcome::invalid(part_path(i, j) + ".type: " + quote(type) +
                          " has no Anthropic equivalent" + std::string(where));
}

// The texts of a content that may hold only text: a string, or text parts (system, developer
// and tool messages). Views into the document.
Outcome read_texts(element content, size_t i, std::string_view role,
                   std::vector<std::string_view>& texts) {
  std::string_view text;
  if (content.get(text) == simdjson::SUCCESS) {
    texts.push_back(text);
    return Outcome::ok();
  }
  array parts;
  if (content.get(parts) != simdjson::SUCCESS) return content_shape_error(i);
  size_t j = 0;
  for (element value : parts) {
    object part;
    std::string_view type;
    if (auto r = read_part(value, i, j, part, type); !r.is_ok()) return r;
    if (type != "text") {
      return unsupported_part(i, j, type, " in a " + std::string(role) + " message");
    }
    if (auto r = part_text(part, i, j, text); !r.is_ok()) return r;
    texts.push_back(text);
    ++j;
  }
  return Outcome::ok();
}

void write_text_block(JsonWriter& w, std::string_view text) {
  if (text.empty()) return;  // Anthropic refuses empty text blocks
  w.begin_object().member("type", "text").member("text", text).end_object();
}

// image_url: {"url": "..."} (OpenAI), or the URL string itself (some clients).
Outcome write_image_block(object part, size_t i, size_t j, JsonWriter& w) {
  std::string_view url;
  if (const auto image = object_member(part, "image_url")) {
    url = string_or_empty(*image, "url");
  } else {
    url = string_or_empty(part, "image_url");
  }
  const std::string where = part_path(i, j) + ".image_url.url";
  if (url.empty()) return Outcome::invalid(where + ": required");
  w.begin_object().member("type", "image").key("source").begin_object();
  Base64Data inline_image;
  if (url.starts_with("https://") || url.starts_with("http://")) {
    w.member("type", "url").member("url", url);
  } else if (parse_base64_data_url(url, inline_image)) {
    w.member("type", "base64")
        .member("media_type", inline_image.media_type)
        .member("data", inline_image.data);
  } else {
    return Outcome::invalid(where + ": Anthropic takes http(s) URLs and base64 data: URLs only");
  }
  w.end_object().end_object();
  return Outcome::ok();
}

// A user message's content: text and image parts.
Outcome write_user_blocks(element content, size_t i, JsonWriter& w) {
  std::string_view text;
  if (content.get(text) == simdjson::SUCCESS) {
    write_text_block(w, text);
    return Outcome::ok();
  }
  array parts;
  if (content.get(parts) != simdjson::SUCCESS) return content_shape_error(i);
  size_t j = 0;
  for (element value : parts) {
    object part;
    std::string_view type;
    if (auto r = read_part(value, i, j, part, type); !r.is_ok()) return r;
    if (type == "text") {
      if (auto r = part_text(part, i, j, text); !r.is_ok()) return r;
      write_text_block(w, text);
    } else if (type == "image_url") {
      if (auto r = write_image_block(part, i, j, w); !r.is_ok()) return r;
    } else {
      return unsupported_part(i, j, type, "");  // input_audio, file, ...
    }
    ++j;
  }
  return Outcome::ok();
}

// An assistant message's content: text parts, and refusal parts (the text of a refusal).
Outcome write_assistant_text_blocks(element content, size_t i, JsonWriter& w) {
  std::string_view text;
  if (content.get(text) == simdjson::SUCCESS) {
    write_text_block(w, text);
    return Outcome::ok();
  }
  array parts;
  if (content.get(parts) != simdjson::SUCCESS) return content_shape_error(i);
  size_t j = 0;
  for (element value : parts) {
    object part;
    std::string_view type;
    if (auto r = read_part(value, i, j, part, type); !r.is_ok()) return r;
    if (type == "text") {
      if (auto r = part_text(part, i, j, text); !r.is_ok()) return r;
    } else if (type == "refusal") {
      text = string_or_empty(part, "refusal");
    } else {
      return unsupported_part(i, j, type, " in an assistant message");
    }
    write_text_block(w, text);
    ++j;
  }
  return Outcome::ok();
}

// One Anthropic turn while it is being built.
struct Turn {
  bool assistant = false;
  std::string blocks;  // the content blocks' JSON, comma-separated, without the brackets
};

class ConversationBuilder {
 public:
  Outcome add(element value, size_t i);
  void finish(AnthropicConversation& out);

 private:
  Outcome add_system(object message, size_t i, std::string_view role);
  Outcome add_user(object message, size_t i);
  Outcome add_assistant(object message, size_t i);
  Outcome add_tool(object message, size_t i);
  Outcome write_tool_use(element value, size_t i, size_t j, JsonWriter& w);
  // Appends a message's blocks as a turn, or to the previous turn when it has the same role.
  void append_turn(bool assistant, std::string blocks);

  std::string system_;
  std::vector<Turn> turns_;
  // Tool call arguments are JSON inside a JSON string: a second document, so a second parser
  // (parsing with the first would invalidate the request being read).
  simdjson::dom::parser arguments_parser_;
};

Outcome ConversationBuilder::add(element value, size_t i) {
  object message;
  if (value.get(message) != simdjson::SUCCESS) {
    return Outcome::invalid(message_path(i) + ": must be an object");
  }
  const std::string_view role = string_or_empty(message, "role");
  if (role == "user") return add_user(message, i);
  if (role == "assistant") return add_assistant(message, i);
  if (role == "tool") return add_tool(message, i);
  if (role == "system" || role == "developer") return add_system(message, i, role);
  if (role.empty()) return Outcome::invalid(message_path(i) + ".role: required");
  return Outcome::invalid(message_path(i) + ".role: " + quote(role) +
                          " has no Anthropic equivalent");  // "function" (legacy) and unknowns
}

Outcome ConversationBuilder::add_system(object message, size_t i, std::string_view role) {
  const auto content = member(message, "content");
  if (!content) return Outcome::ok();
  std::vector<std::string_view> texts;
  if (auto r = read_texts(*content, i, role, texts); !r.is_ok()) return r;
  for (std::string_view text : texts) {
    if (text.empty()) continue;
    if (!system_.empty()) system_.append("\n\n");
    system_.append(text);
  }
  return Outcome::ok();
}

Outcome ConversationBuilder::add_user(object message, size_t i) {
  std::string blocks;
  JsonWriter w(blocks);
  if (const auto content = member(message, "content")) {
    if (auto r = write_user_blocks(*content, i, w); !r.is_ok()) return r;
  }
  append_turn(false, std::move(blocks));
  return Outcome::ok();
}

Outcome ConversationBuilder::add_assistant(object message, size_t i) {
  if (member(message, "function_call")) {
    return Outcome::invalid(message_path(i) +
                            ".function_call: the legacy function call is not translated; send "
                            "tool_calls");
  }
  std::string blocks;
  JsonWriter w(blocks);
  if (const auto content = member(message, "content")) {
    if (auto r = write_assistant_text_blocks(*content, i, w); !r.is_ok()) return r;
  }
  if (const auto calls = member(message, "tool_calls")) {
    array list;
    if (calls->get(list) != simdjson::SUCCESS) {
      return Outcome::invalid(message_path(i) + ".tool_calls: must be an array");
    }
    size_t j = 0;
    for (element call : list) {
      if (auto r = write_tool_use(call, i, j++, w); !r.is_ok()) return r;
    }
  }
  append_turn(true, std::move(blocks));
  return Outcome::ok();
}

// {"id","type":"function","function":{"name","arguments"}} →
// {"type":"tool_use","id","name","input"}
Outcome ConversationBuilder::write_tool_use(element value, size_t i, size_t j, JsonWriter& w) {
  object call;
  if (value.get(call) != simdjson::SUCCESS) {
    return Outcome::invalid(call_path(i, j) + ": must be an object");
  }
  if (const auto type = string_member(call, "type"); type && *type != "function") {
    return Outcome::invalid(call_path(i, j) + ".type: " + quote(*type) +
                            " has no Anthropic equivalent");
  }
  const std::string_view id = string_or_empty(call, "id");
  if (id.empty()) return Outcome::invalid(call_path(i, j) + ".id: required");
  const auto function = object_member(call, "function");
  if (!function) return Outcome::invalid(call_path(i, j) + ".function: required");
  const std::string_view name = string_or_empty(*function, "name");
  if (name.empty()) return Outcome::invalid(call_path(i, j) + ".function.name: required");
  // OpenAI sends "" (or nothing) for a call without arguments; Anthropic wants an object.
  std::string_view arguments = string_or_empty(*function, "arguments");
  if (arguments.find_first_not_of(" \t\r\n") == std::string_view::npos) arguments = "{}";
  object input;
  if (!parse_object(arguments_parser_, arguments, input)) {
    return Outcome::invalid(call_path(i, j) + ".function.arguments: not a JSON object");
  }
  w.begin_object().member("type", "tool_use").member("id", id).member("name", name);
  w.member_raw("input", arguments);  // validated above: copied as the client wrote it
  w.end_object();
  return Outcome::ok();
}

Outcome ConversationBuilder::add_tool(object message, size_t i) {
  const std::string_view id = string_or_empty(message, "tool_call_id");
  if (id.empty()) return Outcome::invalid(message_path(i) + ".tool_call_id: required");
  std::string blocks;
  JsonWriter w(blocks);
  w.begin_object().member("type", "tool_result").member("tool_use_id", id);
  if (const auto content = member(message, "content")) {
    std::vector<std::string_view> texts;
    if (auto r = read_texts(*content, i, "tool", texts); !r.is_ok()) return r;
    const bool any_text =
        std::any_of(texts.begin(), texts.end(), [](std::string_view t) { return !t.empty(); });
    if (!any_text) {
      // No content: Anthropic takes a tool_result without one.
    } else if (content->is_string()) {
      w.member("content", texts.front());
    } else {
      w.key("content").begin_array();
      for (std::string_view text : texts) write_text_block(w, text);
      w.end_array();
    }
  }
  w.end_object();
  append_turn(false, std::move(blocks));
  return Outcome::ok();
}

void ConversationBuilder::append_turn(bool assistant, std::string blocks) {
  if (blocks.empty()) return;
  if (!turns_.empty() && turns_.back().assistant == assistant) {
    turns_.back().blocks.push_back(',');
    turns_.back().blocks.append(blocks);
    return;
  }
  turns_.push_back(Turn{assistant, std::move(blocks)});
}

void ConversationBuilder::finish(AnthropicConversation& out) {
  out.system = std::move(system_);
  out.messages.clear();
  JsonWriter w(out.messages);
  w.begin_array();
  for (const Turn& turn : turns_) {
    w.begin_object().member("role", turn.assistant ? "assistant" : "user");
    w.key("content").begin_array().raw(turn.blocks).end_array();
    w.end_object();
  }
  w.end_array();
}

}  // namespace

Outcome chat_messages_to_anthropic(array messages, AnthropicConversation& out) {
  ConversationBuilder builder;
  size_t i = 0;
  for (element message : messages) {
    if (auto r = builder.add(message, i++); !r.is_ok()) return r;
  }
  builder.finish(out);
  return Outcome::ok();
}

}  // namespace anthropic
