#include "tests/support/mock/anthropic_replies.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "tests/support/json.h"
#include "tests/support/mock/reply_text.h"
#include "tests/support/mock/tool_use.h"

namespace sluice::mock {

using sluice::test::Json;

namespace {

// A `content` or `system`: a string, or an array of blocks whose text blocks are joined.
std::string text_of(const Json& content) {
  if (content.is_string()) return content.str();
  std::string out;
  for (const Json& block : content.items()) {
    if (!block["text"].is_string()) continue;
    if (!out.empty()) out += ' ';
    out += block["text"].str();
  }
  return out;
}

// Anthropic's error types by status (their "HTTP errors" table).
const char* error_type(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
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
      return status < 500 ? "invalid_request_error" : "api_error";
  }
}

std::string sse(std::string_view event, const Json& data) {
  return "event: " + std::string(event) + "\ndata: " + data.dump() + "\n\n";
}

// Anthropic counts cached prompt tokens apart from input_tokens (the uncached rest):
// `cached:<n>` is cache_read_input_tokens, `cache_write:<n>` cache_creation_input_tokens.
Json usage_json(int input, int output, const Behavior& b) {
  Json usage = Json::object();
  usage.set("input_tokens", input);
  usage.set("cache_creation_input_tokens", static_cast<uint64_t>(b.cache_write_tokens));
  usage.set("cache_read_input_tokens", static_cast<uint64_t>(b.cached_tokens));
  usage.set("output_tokens", output);
  return usage;
}

// The tool part of a Messages request (tool_use.h): its custom tools, tool_choice, and the
// tool_result blocks of the last user message.
ToolRequest tool_request_of(const Json& body) {
  ToolRequest t;
  for (const Json& tool : body["tools"].items()) {
    const std::string& type = tool["type"].str();
    if (tool["name"].is_string() && (type.empty() || type == "custom"))
      t.tools.emplace_back(tool["name"].str(), tool["input_schema"]);
  }
  const std::string& choice = body["tool_choice"]["type"].str();
  if (choice == "none") t.choice = ToolRequest::Choice::None;
  if (choice == "any") t.choice = ToolRequest::Choice::Required;
  if (choice == "tool") {
    t.choice = ToolRequest::Choice::Named;
    t.named = body["tool_choice"]["name"].str();
  }
  const Json& messages = body["messages"];
  const Json& last = messages[messages.size() > 0 ? messages.size() - 1 : 0];
  if (last["role"].str() != "user") return t;
  for (const Json& block : last["content"].items()) {
    if (block["type"].str() != "tool_result") continue;
    t.after_tool_result = true;
    if (!t.tool_result_text.empty()) t.tool_result_text += ' ';
    t.tool_result_text += text_of(block["content"]);
  }
  return t;
}

// One content block of the answer, for the JSON body and the stream alike.
struct Block {
  // Rules: Text/Thinking stream `pieces` as text_delta/thinking_delta (Thinking then one
  // signature_delta); ToolUse streams an empty input_json_delta then `call.fragments`;
  // Unknown is a block type no client knows (forward compatibility).
  enum class Kind : uint8_t { Text, Thinking, ToolUse, Unknown };
  Kind kind;
  std::string text;                 // Text, Thinking: the whole text (JSON bodies)
  std::vector<std::string> pieces;  // ... and in stream pieces
  ToolCall call;                    // ToolUse
};

constexpr const char* kMockSignature = "EqMBCkgIARABGAIiQG1vY2stc2lnbmF0dXJl";

Json block_json(const Block& block) {
  Json j = Json::object();
  switch (block.kind) {
    case Block::Kind::Text:
      j.set("type", "text");
      j.set("text", block.text);
      break;
    case Block::Kind::Thinking:
      j.set("type", "thinking");
      j.set("thinking", block.text);
      j.set("signature", kMockSignature);
      break;
    case Block::Kind::ToolUse:
      j.set("type", "tool_use");
      j.set("id", block.call.id);
      j.set("name", block.call.name);
      j.set("input", Json::parse(block.call.arguments).value_or(Json::object()));
      break;
    case Block::Kind::Unknown:
      j.set("type", "mock_future_block");
      j.set("data", "forward-compatible clients skip this block");
      break;
  }
  return j;
}

Reply message(const Json& body, const Behavior& b, uint64_t seq) {
  const std::string model = body["model"].str();
  std::string last_user;
  std::string all_text = text_of(body["system"]);
  for (const Json& m : body["messages"].items()) {
    std::string text = text_of(m["content"]);
    all_text += ' ' + text;
    if (m["role"].str() == "user") last_user = text;
  }
  const ToolRequest tools = tool_request_of(body);
  const std::vector<ToolCall> calls = choose_tool_calls(tools, b, last_user, "toolu_mock_", seq);
  const std::string& echoed = tools.after_tool_result ? tools.tool_result_text : last_user;
  const bool stream = body["stream"].as_bool();
  const int input_tokens = count_tokens(all_text);

  std::vector<Block> blocks;
  if (b.thinking) {
    const std::string thought =
        "The user said: " + (last_user.empty() ? std::string("hello") : last_user);
    blocks.push_back({Block::Kind::Thinking, thought, stream_pieces(thought, -1), {}});
  }
  if (b.unknown_events) blocks.push_back({Block::Kind::Unknown, {}, {}, {}});
  int output_tokens = 0;
  if (calls.empty()) {
    const std::string text = reply_text(model, echoed, b.pad_bytes);
    Block block{Block::Kind::Text, text, stream_pieces(text, b.chunks), {}};
    output_tokens = stream ? static_cast<int>(block.pieces.size()) : count_tokens(text);
    blocks.push_back(std::move(block));
  } else {
    std::string preamble;
    if (b.tool_preamble) {
      preamble = tool_preamble_text(calls);
      blocks.push_back({Block::Kind::Text, preamble, stream_pieces(preamble, -1), {}});
    }
    for (const ToolCall& call : calls) blocks.push_back({Block::Kind::ToolUse, {}, {}, call});
    output_tokens = tool_output_tokens(calls, preamble);
  }
  if (b.thinking) output_tokens += static_cast<int>(blocks.front().pieces.size());
  const char* stop_reason = calls.empty() ? "end_turn" : "tool_use";

  auto head = [&] {
    Json m = Json::object();
    m.set("id", "msg_mock_" + std::to_string(seq));
    m.set("type", "message");
    m.set("role", "assistant");
    m.set("model", model);
    return m;
  };
  if (!stream) {
    Json content = Json::array();
    for (const Block& block : blocks) content.push_back(block_json(block));
    Json m = head();
    m.set("content", content);
    m.set("stop_reason", stop_reason);
    m.set("stop_sequence", nullptr);
    if (!b.omit_usage) m.set("usage", usage_json(input_tokens, output_tokens, b));
    Reply r;
    r.body = m.dump();
    return r;
  }

  Reply r;
  r.stream = true;
  Json start_message = head();
  start_message.set("content", Json::array());
  start_message.set("stop_reason", nullptr);
  start_message.set("stop_sequence", nullptr);
  if (!b.omit_usage) start_message.set("usage", usage_json(input_tokens, 1, b));
  Json start = Json::object();
  start.set("type", "message_start");
  start.set("message", start_message);
  r.events.push_back(sse("message_start", start));
  if (b.unknown_events) {
    Json future = Json::object();
    future.set("type", "mock_future_event");
    future.set("note", "an event type added after this client was written");
    r.events.push_back(sse("mock_future_event", future));
  }

  size_t first_delta = 0;  // the first delta event that carries content
  auto push_delta = [&](int index, const Json& delta, bool carries_content) {
    Json event = Json::object();
    event.set("type", "content_block_delta");
    event.set("index", index);
    event.set("delta", delta);
    if (carries_content && first_delta == 0) first_delta = r.events.size();
    r.events.push_back(sse("content_block_delta", event));
  };
  for (size_t i = 0; i < blocks.size(); ++i) {
    const Block& block = blocks[i];
    const int index = static_cast<int>(i);
    Json opening = Json::object();
    switch (block.kind) {
      case Block::Kind::Text:
        opening.set("type", "text");
        opening.set("text", "");
        break;
      case Block::Kind::Thinking:
        opening.set("type", "thinking");
        opening.set("thinking", "");
        break;
      case Block::Kind::ToolUse:
        opening.set("type", "tool_use");
        opening.set("id", block.call.id);
        opening.set("name", block.call.name);
        opening.set("input", Json::object());
        break;
      case Block::Kind::Unknown:
        opening.set("type", "mock_future_block");
        opening.set("data", "");
        break;
    }
    Json block_start = Json::object();
    block_start.set("type", "content_block_start");
    block_start.set("index", index);
    block_start.set("content_block", opening);
    r.events.push_back(sse("content_block_start", block_start));
    if (i == 0) {
      Json ping = Json::object();
      ping.set("type", "ping");
      r.events.push_back(sse("ping", ping));
    }
    switch (block.kind) {
      case Block::Kind::Text:
      case Block::Kind::Thinking: {
        const bool text = block.kind == Block::Kind::Text;
        for (const std::string& piece : block.pieces) {
          Json delta = Json::object();
          delta.set("type", text ? "text_delta" : "thinking_delta");
          delta.set(text ? "text" : "thinking", piece);
          push_delta(index, delta, true);
        }
        if (!text) {
          Json signature = Json::object();
          signature.set("type", "signature_delta");
          signature.set("signature", kMockSignature);
          push_delta(index, signature, false);
        }
        break;
      }
      case Block::Kind::ToolUse: {
        Json empty = Json::object();
        empty.set("type", "input_json_delta");
        empty.set("partial_json", "");
        push_delta(index, empty, false);
        if (r.tool_cut_events == 0)  // the start sent, and half of the arguments
          r.tool_cut_events =
              r.events.size() + std::max<size_t>(1, block.call.fragments.size() / 2);
        for (const std::string& fragment : block.call.fragments) {
          Json delta = Json::object();
          delta.set("type", "input_json_delta");
          delta.set("partial_json", fragment);
          push_delta(index, delta, true);
        }
        break;
      }
      case Block::Kind::Unknown: {
        Json delta = Json::object();
        delta.set("type", "mock_future_delta");
        delta.set("data", "skip me");
        push_delta(index, delta, false);
        break;
      }
    }
    Json block_stop = Json::object();
    block_stop.set("type", "content_block_stop");
    block_stop.set("index", index);
    r.events.push_back(sse("content_block_stop", block_stop));
  }

  if (b.error_event) {
    // Anthropic's mid-stream failure: an `error` event, then the stream ends.
    r.events.resize(std::min(r.events.size(), first_delta + 1));
    Json error = Json::object();
    error.set("type", "overloaded_error");
    error.set("message", "Overloaded");
    Json event = Json::object();
    event.set("type", "error");
    event.set("error", error);
    r.events.push_back(sse("error", event));
    r.tool_cut_events = 0;
    return r;
  }

  Json stop_delta = Json::object();
  stop_delta.set("stop_reason", stop_reason);
  stop_delta.set("stop_sequence", nullptr);
  Json output = Json::object();
  output.set("output_tokens", output_tokens);
  Json message_delta = Json::object();
  message_delta.set("type", "message_delta");
  message_delta.set("delta", stop_delta);
  if (!b.omit_usage) message_delta.set("usage", output);
  r.events.push_back(sse("message_delta", message_delta));
  Json stop = Json::object();
  stop.set("type", "message_stop");
  r.events.push_back(sse("message_stop", stop));
  return r;
}

// ---- `strict`: a Messages request checked as Anthropic checks it ----------------------------

bool known_messages_field(const std::string& name) {
  static const char* const kFields[] = {
      "model",       "messages",          "max_tokens", "system",       "stop_sequences",
      "stream",      "temperature",       "top_p",      "top_k",        "metadata",
      "tools",       "tool_choice",       "thinking",   "service_tier", "container",
      "mcp_servers", "context_management"};
  for (const char* f : kFields)
    if (name == f) return true;
  return false;
}

bool valid_tool_name(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

// The first problem, as Anthropic words it ("<path>: <why>"); "" when the request is valid.
std::string check_messages_request(const Json& body) {
  for (const auto& [name, value] : body.members())
    if (!known_messages_field(name)) return name + ": Extra inputs are not permitted";
  if (body["max_tokens"].as_number() < 1)
    return "max_tokens: Input should be greater than or equal to 1";
  const Json& system = body["system"];
  if (!system.is_null() && !system.is_string()) {
    if (!system.is_array()) return "system: Input should be a valid list";
    for (size_t i = 0; i < system.size(); ++i) {
      if (system[i]["type"].str() != "text" || !system[i]["text"].is_string())
        return "system." + std::to_string(i) + ": Input should be a text block";
    }
  }
  for (size_t t = 0; t < body["tools"].size(); ++t) {
    const Json& tool = body["tools"][t];
    const std::string type = tool["type"].str();
    if (!type.empty() && type != "custom") continue;  // server tools: not checked here
    const std::string at = "tools." + std::to_string(t) + ".custom";
    if (!valid_tool_name(tool["name"].str()))
      return at + ".name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'";
    if (!tool["input_schema"].is_object()) return at + ".input_schema: Field required";
    if (tool["input_schema"]["type"].str() != "object")
      return at + ".input_schema.type: Input should be 'object'";
  }
  const Json& choice = body["tool_choice"];
  if (!choice.is_null()) {
    const std::string type = choice["type"].str();
    if (type != "auto" && type != "any" && type != "tool" && type != "none")
      return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'";
    if (type == "tool" && !choice["name"].is_string())
      return "tool_choice.tool.name: Field required";
  }

  const Json& messages = body["messages"];
  std::vector<std::string> previous_tool_uses;  // ids of the previous message's tool_use blocks
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string at = "messages." + std::to_string(i);
    const std::string role = m["role"].str();
    if (role != "user" && role != "assistant")
      return at + ".role: Input should be 'user' or 'assistant'";
    const bool final_assistant = role == "assistant" && i + 1 == messages.size();
    const Json& content = m["content"];
    std::vector<std::string> tool_uses;
    std::vector<std::string> answered;
    if (content.is_string()) {
      if (content.str().empty() && !final_assistant)
        return at +
               ": all messages must have non-empty content except for the optional final "
               "assistant message";
    } else if (!content.is_array()) {
      return at + ".content: Input should be a valid string or list";
    } else if (content.size() == 0 && !final_assistant) {
      return at +
             ": all messages must have non-empty content except for the optional final "
             "assistant message";
    }
    for (size_t j = 0; j < content.size() && content.is_array(); ++j) {
      const Json& block = content[j];
      const std::string bat = at + ".content." + std::to_string(j);
      const std::string type = block["type"].str();
      if (type == "text") {
        if (!block["text"].is_string()) return bat + ".text.text: Field required";
        if (block["text"].str().empty()) return "messages: text content blocks must be non-empty";
      } else if (type == "image") {
        const Json& source = block["source"];
        const std::string kind = source["type"].str();
        if (kind == "base64") {
          const std::string& media = source["media_type"].str();
          if (media != "image/jpeg" && media != "image/png" && media != "image/gif" &&
              media != "image/webp")
            return bat +
                   ".image.source.base64.media_type: Input should be 'image/jpeg', "
                   "'image/png', 'image/gif' or 'image/webp'";
          if (!source["data"].is_string() || source["data"].str().empty())
            return bat + ".image.source.base64.data: Field required";
        } else if (kind == "url") {
          if (!source["url"].is_string()) return bat + ".image.source.url.url: Field required";
        } else {
          std::string why = bat;
          why += ".image.source: Input tag '";
          why += kind;
          why +=
              "' found using 'type' does not match any of the expected tags: 'base64', 'url', "
              "'file'";
          return why;
        }
      } else if (type == "tool_use") {
        if (role != "assistant")
          return bat + ": tool_use blocks may only appear in assistant messages";
        if (!block["id"].is_string() || !block["name"].is_string())
          return bat + ".tool_use.id: Field required";
        if (!block["input"].is_object())
          return bat + ".tool_use.input: Input should be a valid dictionary";
        tool_uses.push_back(block["id"].str());
      } else if (type == "tool_result") {
        if (role != "user") return bat + ": tool_result blocks may only appear in user messages";
        const std::string& id = block["tool_use_id"].str();
        if (std::find(previous_tool_uses.begin(), previous_tool_uses.end(), id) ==
            previous_tool_uses.end()) {
          std::string why = bat;
          why += ": unexpected `tool_use_id` found in `tool_result` blocks: ";
          why += id;
          why +=
              ". Each `tool_result` block must have a corresponding `tool_use` block in the "
              "previous message.";
          return why;
        }
        answered.push_back(id);
      } else if (type != "document" && type != "thinking" && type != "redacted_thinking" &&
                 type != "search_result" && type != "server_tool_use" &&
                 type != "web_search_tool_result" && type != "container_upload") {
        std::string why = bat;
        why += ".type: Input tag '";
        why += type;
        why += "' found using 'type' does not match any of the expected tags";
        return why;
      }
    }
    // Every tool_use of the previous (assistant) message needs its tool_result here.
    for (const std::string& id : previous_tool_uses) {
      if (std::find(answered.begin(), answered.end(), id) == answered.end())
        return "messages." + std::to_string(i - 1) +
               ": `tool_use` ids were found without `tool_result` blocks immediately after: " + id +
               ". Each `tool_use` block must have a corresponding `tool_result` block in "
               "the next message.";
    }
    previous_tool_uses = std::move(tool_uses);
  }
  return "";
}

}  // namespace

bool is_anthropic_path(std::string_view path) {
  if (path.substr(0, 3) == "/v1") path.remove_prefix(3);
  return path == "/messages";
}

Reply anthropic_error_reply(int status, std::string_view message) {
  Json error = Json::object();
  error.set("type", error_type(status));
  error.set("message", message);
  Json body = Json::object();
  body.set("type", "error");
  body.set("error", error);
  Reply r;
  r.status = status;
  r.body = body.dump();
  return r;
}

Reply anthropic_reply(std::string_view method, std::string_view path, std::string_view body,
                      const Behavior& behavior, uint64_t sequence) {
  Reply reply;
  if (behavior.status_code < 200 || behavior.status_code >= 300) {
    reply = anthropic_error_reply(behavior.status_code, failure_message(behavior.status_code));
    add_retry_after(reply, behavior);
  } else if (method != "POST") {
    reply = anthropic_error_reply(405, "mock provider: " + std::string(path) + " takes POST");
  } else {
    auto parsed = Json::parse(body);
    if (!parsed || !parsed->is_object()) {
      reply = anthropic_error_reply(400, "mock provider: the request body is not a JSON object");
    } else if (!(*parsed)["model"].is_string() || (*parsed)["model"].str().empty()) {
      reply = anthropic_error_reply(400, "model: Field required");
    } else if (!(*parsed)["max_tokens"].is_number()) {
      reply = anthropic_error_reply(400, "max_tokens: Field required");
    } else if (!(*parsed)["messages"].is_array()) {
      reply = anthropic_error_reply(400, "messages: Field required");
    } else if (std::string problem;
               behavior.strict && !(problem = check_messages_request(*parsed)).empty()) {
      reply = anthropic_error_reply(400, problem);
    } else {
      reply = message(*parsed, behavior, sequence);
      reply.status = behavior.status_code;
      if (reply.stream) reply.content_type = "text/event-stream";
    }
  }
  reply.headers.emplace_back("request-id", "req_mock_" + std::to_string(sequence));
  return reply;
}

}  // namespace sluice::mock
