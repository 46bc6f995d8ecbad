#include "tests/support/mock/ollama_replies.h"

#include <algorithm>
#include <string>
#include <vector>

#include "tests/support/json.h"
#include "tests/support/mock/reply_text.h"
#include "tests/support/mock/tool_use.h"

namespace sluice::mock {

using sluice::test::Json;

namespace {

constexpr const char* kCreatedAt = "2025-01-01T00:00:00Z";

// What the request asks, as the mock reads it.
struct Chat {
  std::string model;
  std::string last_user;  // the last user message's text
  size_t images = 0;      // ... and how many images it carries
  std::string all_text;   // every message's text (the prompt count)
  bool stream = true;     // Ollama streams unless told "stream": false
  int num_predict = -1;   // options.num_predict; -1 = no limit
};

Chat read_chat(const Json& body) {
  Chat chat;
  chat.model = body["model"].str();
  chat.stream = body["stream"].as_bool(true);
  if (body["options"]["num_predict"].is_number()) {
    chat.num_predict = static_cast<int>(body["options"]["num_predict"].as_int());
  }
  for (const Json& m : body["messages"].items()) {
    chat.all_text += m["content"].str() + ' ';
    if (m["role"].str() == "user") {
      chat.last_user = m["content"].str();
      chat.images = m["images"].size();
    }
  }
  return chat;
}

Json line_head(const Chat& chat) {
  Json line = Json::object();
  line.set("model", chat.model);
  line.set("created_at", kCreatedAt);
  return line;
}

Json assistant(std::string_view content) {
  Json message = Json::object();
  message.set("role", "assistant");
  message.set("content", content);
  return message;
}

// Ollama's tool calls: [{"function": {"name", "arguments": {...}}}] — arguments an object, no
// ids.
Json tool_calls_json(const std::vector<ToolCall>& calls) {
  Json list = Json::array();
  for (const ToolCall& c : calls) {
    Json function = Json::object();
    function.set("name", c.name);
    function.set("arguments", Json::parse(c.arguments).value_or(Json::object()));
    Json call = Json::object();
    call.set("function", function);
    list.push_back(call);
  }
  return list;
}

// The done line's (or the JSON answer's) closing fields.
void finish(Json& doc, const Chat& chat, const char* reason, int output_tokens, const Behavior& b) {
  doc.set("done", true);
  doc.set("done_reason", reason);
  doc.set("total_duration", 1234567);
  if (b.omit_usage) return;
  doc.set("prompt_eval_count", count_tokens(chat.all_text));
  doc.set("eval_count", output_tokens);
}

Reply chat_reply(const Json& body, const Behavior& b, uint64_t seq) {
  const Chat chat = read_chat(body);
  const ToolRequest tools = tool_request_of(body);
  const std::vector<ToolCall> calls =
      choose_tool_calls(tools, b, chat.last_user, "call_mock_", seq);
  const std::string& echoed = tools.after_tool_result ? tools.tool_result_text : chat.last_user;
  std::string text = reply_text(chat.model, echoed, b.pad_bytes);
  if (chat.images > 0) text += " [images: " + std::to_string(chat.images) + "]";
  std::vector<std::string> pieces = stream_pieces(text, b.chunks);
  const char* reason = "stop";
  if (chat.num_predict >= 0 && pieces.size() > static_cast<size_t>(chat.num_predict)) {
    pieces.resize(static_cast<size_t>(chat.num_predict));
    reason = "length";
  }
  const int output_tokens =
      calls.empty() ? static_cast<int>(pieces.size()) : tool_output_tokens(calls, "");

  Reply r;
  if (!chat.stream) {
    Json doc = line_head(chat);
    Json message = assistant("");
    if (!calls.empty()) {
      message.set("tool_calls", tool_calls_json(calls));
    } else {
      std::string content;
      for (const std::string& piece : pieces) content += piece;
      message.set("content", content);
    }
    doc.set("message", message);
    finish(doc, chat, reason, output_tokens, b);
    r.body = doc.dump();
    return r;
  }
  r.stream = true;
  r.content_type = "application/x-ndjson";
  auto add = [&](const Json& doc) { r.events.push_back(doc.dump() + "\n"); };
  auto add_line = [&](Json message) {
    Json line = line_head(chat);
    line.set("message", std::move(message));
    line.set("done", false);
    add(line);
  };
  if (!calls.empty()) {  // Ollama sends its calls whole, in one line
    Json message = assistant("");
    message.set("tool_calls", tool_calls_json(calls));
    add_line(message);
  } else {
    for (const std::string& piece : pieces) add_line(assistant(piece));
  }
  if (b.error_event) {
    // Ollama's mid-stream failure: an error line after the first one, then the end.
    r.events.resize(std::min<size_t>(r.events.size(), 1));
    Json error = Json::object();
    error.set("error", "mock provider: the model runner stopped unexpectedly");
    add(error);
    return r;
  }
  Json done = line_head(chat);
  done.set("message", assistant(""));
  finish(done, chat, reason, output_tokens, b);
  add(done);
  return r;
}

Reply tags_reply() {
  Json model = Json::object();
  model.set("name", "mock-model:latest");
  model.set("model", "mock-model:latest");
  Json body = Json::object();
  body.set("models", Json::array().push_back(model));
  Reply r;
  r.body = body.dump();
  return r;
}

}  // namespace

bool is_ollama_path(std::string_view path) {
  return path.substr(0, 5) == "/api/";
}

Reply ollama_error_reply(int status, std::string_view message) {
  Json body = Json::object();
  body.set("error", message);
  Reply r;
  r.status = status;
  r.body = body.dump();
  return r;
}

Reply ollama_reply(std::string_view method, std::string_view path, std::string_view body,
                   const Behavior& behavior, uint64_t sequence) {
  if (behavior.status_code < 200 || behavior.status_code >= 300) {
    Reply r = ollama_error_reply(behavior.status_code, failure_message(behavior.status_code));
    add_retry_after(r, behavior);
    return r;
  }
  if (method == "GET" && path == "/api/tags") return tags_reply();
  if (method != "POST" || path != "/api/chat") {
    return ollama_error_reply(
        404, "mock provider: no route for " + std::string(method) + " " + std::string(path));
  }
  auto parsed = Json::parse(body);
  if (!parsed || !parsed->is_object()) {
    return ollama_error_reply(400, "invalid character in the request body (mock provider)");
  }
  if (!(*parsed)["model"].is_string() || (*parsed)["model"].str().empty()) {
    return ollama_error_reply(400, "model is required");
  }
  if (!(*parsed)["messages"].is_array()) return ollama_error_reply(400, "messages is required");
  Reply reply = chat_reply(*parsed, behavior, sequence);
  reply.headers.emplace_back("x-mock-api", "ollama");
  return reply;
}

}  // namespace sluice::mock
