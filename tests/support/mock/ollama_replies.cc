#include "tests/support/mock/ollama_replies.h"

#include <string>
#include <vector>

#include "tests/support/json.h"
#include "tests/support/mock/reply_text.h"

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
  const Json* first_tool = nullptr;
  bool after_tool_result = false;
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
    chat.after_tool_result = m["role"].str() == "tool";
    if (m["role"].str() == "user") {
      chat.last_user = m["content"].str();
      chat.images = m["images"].size();
    }
  }
  if (body["tools"].size() > 0) chat.first_tool = &body["tools"][0];
  return chat;
}

Json head(const Chat& chat) {
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

// The call of the first tool offered: {"function": {"name", "arguments": {...}}}.
Json tool_call(const Chat& chat) {
  const Json& fn = (*chat.first_tool)["function"];
  const auto& properties = fn["parameters"]["properties"].members();
  Json arguments = Json::object();
  arguments.set(properties.empty() ? std::string("input") : properties.front().first,
                chat.last_user.empty() ? std::string("hello") : chat.last_user);
  Json function = Json::object();
  function.set("name", fn["name"].str());
  function.set("arguments", arguments);
  Json call = Json::object();
  call.set("function", function);
  return call;
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

Reply chat_reply(const Json& body, const Behavior& b) {
  const Chat chat = read_chat(body);
  const bool calls_tool = chat.first_tool != nullptr && !chat.after_tool_result;
  std::string text = reply_text(chat.model, chat.last_user, b.pad_bytes);
  if (chat.images > 0) text += " [images: " + std::to_string(chat.images) + "]";
  std::vector<std::string> pieces = stream_pieces(text, b.chunks);
  const char* reason = "stop";
  if (chat.num_predict >= 0 && pieces.size() > static_cast<size_t>(chat.num_predict)) {
    pieces.resize(static_cast<size_t>(chat.num_predict));
    reason = "length";
  }

  Reply r;
  if (!chat.stream) {
    Json doc = head(chat);
    Json message = assistant("");
    if (calls_tool) {
      message.set("tool_calls", Json::array().push_back(tool_call(chat)));
    } else {
      std::string content;
      for (const std::string& piece : pieces) content += piece;
      message.set("content", content);
    }
    doc.set("message", message);
    finish(doc, chat, reason, calls_tool ? 1 : static_cast<int>(pieces.size()), b);
    r.body = doc.dump();
    return r;
  }
  r.stream = true;
  r.content_type = "application/x-ndjson";
  auto line = [&](Json message, bool done, int output_tokens) {
    Json doc = head(chat);
    doc.set("message", std::move(message));
    if (done) {
      finish(doc, chat, reason, output_tokens, b);
    } else {
      doc.set("done", false);
    }
    r.events.push_back(doc.dump() + "\n");
  };
  if (calls_tool) {
    Json message = assistant("");
    message.set("tool_calls", Json::array().push_back(tool_call(chat)));
    line(message, false, 0);
    line(assistant(""), true, 1);
    return r;
  }
  for (const std::string& piece : pieces) line(assistant(piece), false, 0);
  line(assistant(""), true, static_cast<int>(pieces.size()));
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
                   const Behavior& behavior, uint64_t /*sequence*/) {
  if (behavior.status_code < 200 || behavior.status_code >= 300) {
    Reply r =
        ollama_error_reply(behavior.status_code, "mock provider failure (status " +
                                                     std::to_string(behavior.status_code) + ")");
    if (behavior.retry_after_s >= 0 || behavior.status_code == 429) {
      const int seconds = behavior.retry_after_s >= 0 ? behavior.retry_after_s : 1;
      r.headers.emplace_back("retry-after", std::to_string(seconds));
    }
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
  Reply reply = chat_reply(*parsed, behavior);
  reply.headers.emplace_back("x-mock-api", "ollama");
  return reply;
}

}  // namespace sluice::mock
