#include "tests/support/mock/anthropic_replies.h"

#include <string>
#include <vector>

#include "tests/support/json.h"

namespace sluice::mock {

using sluice::test::Json;

namespace {

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\t') ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

// One "token" per word, at least 1, as the OpenAI replies count.
int count_tokens(std::string_view text) {
  const int n = static_cast<int>(split_words(text).size());
  return n > 0 ? n : 1;
}

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

Reply message(const Json& body, const Behavior& b, uint64_t seq) {
  const std::string model = body["model"].str();
  std::string last_user;
  std::string all_text = text_of(body["system"]);
  for (const Json& m : body["messages"].items()) {
    std::string text = text_of(m["content"]);
    all_text += ' ' + text;
    if (m["role"].str() == "user") last_user = text;
  }
  // "[<model>] <last user text>", then `pad_bytes` of 64-byte filler words.
  std::string text = "[" + model + "] " + (last_user.empty() ? std::string("hello") : last_user);
  static const std::string kWord = " " + std::string(63, 'p');
  for (uint32_t added = 0; added < b.pad_bytes; added += kWord.size()) text += kWord;
  const int input_tokens = count_tokens(all_text);

  auto head = [&] {
    Json m = Json::object();
    m.set("id", "msg_mock_" + std::to_string(seq));
    m.set("type", "message");
    m.set("role", "assistant");
    m.set("model", model);
    return m;
  };
  if (!body["stream"].as_bool()) {
    Json block = Json::object();
    block.set("type", "text");
    block.set("text", text);
    Json m = head();
    m.set("content", Json::array().push_back(block));
    m.set("stop_reason", "end_turn");
    m.set("stop_sequence", nullptr);
    if (!b.omit_usage) m.set("usage", usage_json(input_tokens, count_tokens(text), b));
    Reply r;
    r.body = m.dump();
    return r;
  }

  // One text delta per word, or exactly `chunks` (the tail merged, or padded with " more").
  std::vector<std::string> words = split_words(text);
  std::vector<std::string> pieces;
  for (size_t i = 0; i < words.size(); ++i) pieces.push_back(i == 0 ? words[i] : " " + words[i]);
  if (b.chunks > 0) {
    const size_t want = static_cast<size_t>(b.chunks);
    while (pieces.size() > want) {
      pieces[pieces.size() - 2] += pieces.back();
      pieces.pop_back();
    }
    while (pieces.size() < want) pieces.push_back(" more");
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

  Json empty_block = Json::object();
  empty_block.set("type", "text");
  empty_block.set("text", "");
  Json block_start = Json::object();
  block_start.set("type", "content_block_start");
  block_start.set("index", 0);
  block_start.set("content_block", empty_block);
  r.events.push_back(sse("content_block_start", block_start));
  Json ping = Json::object();
  ping.set("type", "ping");
  r.events.push_back(sse("ping", ping));

  for (const std::string& piece : pieces) {
    Json delta = Json::object();
    delta.set("type", "text_delta");
    delta.set("text", piece);
    Json event = Json::object();
    event.set("type", "content_block_delta");
    event.set("index", 0);
    event.set("delta", delta);
    r.events.push_back(sse("content_block_delta", event));
  }
  Json block_stop = Json::object();
  block_stop.set("type", "content_block_stop");
  block_stop.set("index", 0);
  r.events.push_back(sse("content_block_stop", block_stop));

  Json stop_delta = Json::object();
  stop_delta.set("stop_reason", "end_turn");
  stop_delta.set("stop_sequence", nullptr);
  Json output = Json::object();
  output.set("output_tokens", static_cast<int>(pieces.size()));
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
    reply =
        anthropic_error_reply(behavior.status_code, "mock provider failure (status " +
                                                        std::to_string(behavior.status_code) + ")");
    if (behavior.retry_after_s >= 0 || behavior.status_code == 429) {
      const int seconds = behavior.retry_after_s >= 0 ? behavior.retry_after_s : 1;
      reply.headers.emplace_back("retry-after", std::to_string(seconds));
    }
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
