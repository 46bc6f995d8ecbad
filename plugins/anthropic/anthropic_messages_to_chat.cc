#include "anthropic/anthropic_messages_to_chat.h"

#include "anthropic/data_url.h"
#include "anthropic/json_writer.h"

namespace anthropic {

namespace {

std::string message_path(size_t i) {
  return indexed("messages", i);
}
std::string block_path(size_t i, size_t j) {
  return indexed(message_path(i) + ".content", j);
}

Outcome no_equivalent(const std::string& path, std::string_view type, std::string_view where) {
  return Outcome::invalid(path + ".type: " + quote(type) + " has no OpenAI chat equivalent" +
                          std::string(where));
}

// A content block and its type.
Outcome read_block(element value, const std::string& path, object& block, std::string_view& type) {
  if (value.get(block) != simdjson::SUCCESS) return Outcome::invalid(path + ": must be an object");
  type = string_or_empty(block, "type");
  if (type.empty()) return Outcome::invalid(path + ".type: required");
  return Outcome::ok();
}

// Text that may come as a string or as text blocks (system, tool_result content): the string,
// or the blocks' texts joined with "\n\n".
Outcome joined_text(element value, const std::string& path, std::string_view where,
                    std::string& out) {
  std::string_view text;
  if (value.get(text) == simdjson::SUCCESS) {
    out.append(text);
    return Outcome::ok();
  }
  array blocks;
  if (value.get(blocks) != simdjson::SUCCESS) {
    return Outcome::invalid(path + ": must be a string or an array of text blocks");
  }
  size_t j = 0;
  bool first = true;
  for (element item : blocks) {
    const std::string item_path = indexed(path, j++);
    object block;
    std::string_view type;
    if (auto r = read_block(item, item_path, block, type); !r.is_ok()) return r;
    if (type != "text") return no_equivalent(item_path, type, where);
    if (!first) out.append("\n\n");
    out.append(string_or_empty(block, "text"));
    first = false;
  }
  return Outcome::ok();
}

// image {source: {type: base64, media_type, data} | {type: url, url}} → an image_url part.
Outcome write_image_part(object block, const std::string& path, JsonWriter& w) {
  const auto source = object_member(block, "source");
  if (!source) return Outcome::invalid(path + ".source: required");
  const std::string_view type = string_or_empty(*source, "type");
  std::string url;
  if (type == "base64") {
    url = make_base64_data_url(string_or_empty(*source, "media_type"),
                               string_or_empty(*source, "data"));
  } else if (type == "url") {
    url = string_or_empty(*source, "url");
  } else {
    return Outcome::invalid(path + ".source.type: " + quote(type) +
                            " has no OpenAI chat equivalent (send base64 or url)");
  }
  w.begin_object().member("type", "image_url");
  w.key("image_url").begin_object().member("url", url).end_object();
  w.end_object();
  return Outcome::ok();
}

// tool_result → {"role":"tool","tool_call_id","content"}.
Outcome write_tool_message(object block, const std::string& path, JsonWriter& w) {
  const std::string_view id = string_or_empty(block, "tool_use_id");
  if (id.empty()) return Outcome::invalid(path + ".tool_use_id: required");
  std::string content;
  bool is_error = false;
  if (block["is_error"].get(is_error) == simdjson::SUCCESS && is_error) content = "Error: ";
  if (const auto value = member(block, "content")) {
    if (auto r = joined_text(*value, path + ".content", " in a tool_result", content); !r.is_ok()) {
      return r;
    }
  }
  w.begin_object().member("role", "tool").member("tool_call_id", id).member("content", content);
  w.end_object();
  return Outcome::ok();
}

// A user turn: its tool results as tool messages, then a user message with the rest.
Outcome write_user(object message, size_t i, JsonWriter& w) {
  const auto content = member(message, "content");
  std::string_view text;
  if (!content || content->get(text) == simdjson::SUCCESS) {
    w.begin_object().member("role", "user").member("content", text).end_object();
    return Outcome::ok();
  }
  array blocks;
  if (content->get(blocks) != simdjson::SUCCESS) {
    return Outcome::invalid(message_path(i) + ".content: must be a string or an array of blocks");
  }
  std::string parts;  // the user message's parts, written after the tool messages
  JsonWriter p(parts);
  size_t j = 0;
  for (element value : blocks) {
    const std::string path = block_path(i, j++);
    object block;
    std::string_view type;
    if (auto r = read_block(value, path, block, type); !r.is_ok()) return r;
    if (type == "text") {
      p.begin_object().member("type", "text").member("text", string_or_empty(block, "text"));
      p.end_object();
    } else if (type == "image") {
      if (auto r = write_image_part(block, path, p); !r.is_ok()) return r;
    } else if (type == "tool_result") {
      if (auto r = write_tool_message(block, path, w); !r.is_ok()) return r;
    } else {
      return no_equivalent(path, type, " in a user message");  // document, tool_use, ...
    }
  }
  if (!parts.empty()) {
    w.begin_object().member("role", "user").key("content").begin_array().raw(parts).end_array();
    w.end_object();
  }
  return Outcome::ok();
}

// An assistant turn: text joined, tool_use as tool_calls, thinking dropped.
Outcome write_assistant(object message, size_t i, JsonWriter& w) {
  const auto content = member(message, "content");
  std::string_view only_text;
  if (!content || content->get(only_text) == simdjson::SUCCESS) {
    w.begin_object().member("role", "assistant").member("content", only_text).end_object();
    return Outcome::ok();
  }
  array blocks;
  if (content->get(blocks) != simdjson::SUCCESS) {
    return Outcome::invalid(message_path(i) + ".content: must be a string or an array of blocks");
  }
  std::string text, calls;
  JsonWriter c(calls);
  size_t j = 0;
  for (element value : blocks) {
    const std::string path = block_path(i, j++);
    object block;
    std::string_view type;
    if (auto r = read_block(value, path, block, type); !r.is_ok()) return r;
    if (type == "text") {
      text.append(string_or_empty(block, "text"));
    } else if (type == "tool_use") {
      const std::string_view id = string_or_empty(block, "id");
      const std::string_view name = string_or_empty(block, "name");
      if (id.empty()) return Outcome::invalid(path + ".id: required");
      if (name.empty()) return Outcome::invalid(path + ".name: required");
      const auto input = member(block, "input");
      c.begin_object().member("id", id).member("type", "function");
      c.key("function").begin_object().member("name", name);
      c.member("arguments", input ? minified(*input) : std::string("{}"));
      c.end_object().end_object();
    } else if (type != "thinking" && type != "redacted_thinking") {
      return no_equivalent(path, type, " in an assistant message");
    }
  }
  w.begin_object().member("role", "assistant");
  if (text.empty() && !calls.empty()) {
    w.key("content").null();
  } else {
    w.member("content", text);
  }
  if (!calls.empty()) w.key("tool_calls").begin_array().raw(calls).end_array();
  w.end_object();
  return Outcome::ok();
}

}  // namespace

Outcome anthropic_messages_to_chat(std::optional<element> system, array messages,
                                   std::string& out) {
  out.clear();
  JsonWriter w(out);
  w.begin_array();
  if (system) {
    std::string text;
    if (auto r = joined_text(*system, "system", " in system", text); !r.is_ok()) return r;
    if (!text.empty()) {
      w.begin_object().member("role", "system").member("content", text).end_object();
    }
  }
  size_t i = 0;
  for (element value : messages) {
    object message;
    if (value.get(message) != simdjson::SUCCESS) {
      return Outcome::invalid(message_path(i) + ": must be an object");
    }
    const std::string_view role = string_or_empty(message, "role");
    Outcome r;
    if (role == "user") {
      r = write_user(message, i, w);
    } else if (role == "assistant") {
      r = write_assistant(message, i, w);
    } else if (role.empty()) {
      r = Outcome::invalid(message_path(i) + ".role: required");
    } else {
      r = Outcome::invalid(message_path(i) + ".role: " + quote(role) +
                           " is not an Anthropic role (user or assistant)");
    }
    if (!r.is_ok()) return r;
    ++i;
  }
  w.end_array();
  return Outcome::ok();
}

}  // namespace anthropic
