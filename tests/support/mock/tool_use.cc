#include "tests/support/mock/tool_use.h"

#include "tests/support/mock/reply_text.h"

namespace sluice::mock {

using test::Json;

namespace {

// The schema's type: a string, or the first non-"null" of an array of types.
std::string type_of(const Json& property) {
  const Json& t = property["type"];
  if (t.is_string()) return t.str();
  for (const Json& item : t.items())
    if (item.is_string() && item.str() != "null") return item.str();
  return "";
}

}  // namespace

Json tool_arguments(const Json& schema, std::string_view user_text, uint32_t pad) {
  const std::string text = user_text.empty() ? std::string("hello") : std::string(user_text);
  const std::vector<std::string> words = split_words(text);
  Json args = Json::object();
  const Json& properties = schema["properties"];
  for (const auto& [name, property] : properties.members()) {
    const std::string type = type_of(property);
    if (property["enum"].is_array() && property["enum"].size() > 0) {
      args.set(name, property["enum"][0]);
    } else if (type == "integer" || type == "number") {
      args.set(name, static_cast<int>(words.size()));
    } else if (type == "boolean") {
      args.set(name, true);
    } else if (type == "array") {
      Json list = Json::array();
      for (const std::string& w : words) list.push_back(w);
      args.set(name, list);
    } else if (type == "object") {
      args.set(name, Json::object());
    } else {
      args.set(name, text);
    }
  }
  if (args.size() == 0) args.set("input", text);
  if (pad > 0) args.set("padding", std::string(pad, 'p'));
  return args;
}

std::vector<std::string> utf8_fragments(std::string_view text, size_t size) {
  std::vector<std::string> out;
  if (size == 0) size = 1;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = i + size < text.size() ? i + size : text.size();
    // Never end a piece before a continuation byte (10xxxxxx): move the cut back, or forward
    // when a single sequence is longer than `size`.
    while (end < text.size() && end > i && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
      --end;
    if (end == i) {
      end = i + 1;
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    }
    out.emplace_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

std::vector<ToolCall> choose_tool_calls(const ToolRequest& request, const Behavior& behavior,
                                        std::string_view user_text, std::string_view id_prefix,
                                        uint64_t sequence) {
  std::vector<ToolCall> calls;
  if (behavior.ignore_tools || request.tools.empty()) return calls;
  switch (request.choice) {
    case ToolRequest::Choice::None:
      return calls;
    case ToolRequest::Choice::Auto:
      if (request.after_tool_result) return calls;
      break;
    case ToolRequest::Choice::Required:
    case ToolRequest::Choice::Named:
      break;
  }
  size_t first = 0;
  if (request.choice == ToolRequest::Choice::Named) {
    for (size_t i = 0; i < request.tools.size(); ++i)
      if (request.tools[i].first == request.named) first = i;
  }
  for (uint32_t i = 0; i < behavior.tool_calls; ++i) {
    const auto& [name, schema] = request.tools[(first + i) % request.tools.size()];
    ToolCall call;
    call.id = std::string(id_prefix) + std::to_string(sequence) + "_" + std::to_string(i);
    call.name = name;
    call.arguments = tool_arguments(schema, user_text, behavior.pad_bytes).dump();
    call.fragments = utf8_fragments(call.arguments, behavior.arg_chunk);
    calls.push_back(std::move(call));
  }
  return calls;
}

std::string tool_preamble_text(const std::vector<ToolCall>& calls) {
  return "Let me call " + (calls.empty() ? std::string("a tool") : calls.front().name) + ".";
}

int tool_output_tokens(const std::vector<ToolCall>& calls, std::string_view preamble) {
  int n = static_cast<int>(split_words(preamble).size());
  for (const ToolCall& c : calls) n += static_cast<int>(c.fragments.size());
  return n > 0 ? n : 1;
}

}  // namespace sluice::mock
