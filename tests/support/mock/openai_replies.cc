#include "tests/support/mock/openai_replies.h"
#include "tests/support/mock/tool_endpoint.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <functional>
#include <optional>

#include "tests/support/json.h"
#include "tests/support/mock/reply_text.h"
#include "tests/support/mock/tool_use.h"

namespace sluice::mock {

using sluice::test::Json;

namespace {

// The text of a message `content`: a string, or an array of parts whose text parts are joined
// (OpenAI's {"type":"text","text":...} and the Responses API's {"type":"input_text",...}).
std::string content_text(const Json& content) {
  if (content.is_string()) return content.str();
  std::string out;
  for (const Json& part : content.items()) {
    if (!part["text"].is_string()) continue;
    if (!out.empty()) out += ' ';
    out += part["text"].str();
  }
  return out;
}

// The last user message of a chat/responses `messages`/`input` array, and every message's text
// (for a prompt token count).
struct Prompt {
  std::string last_user;
  std::string all_text;
};

Prompt read_messages(const Json& messages) {
  Prompt p;
  for (const Json& m : messages.items()) {
    std::string text = content_text(m["content"]);
    p.all_text += text + ' ';
    if (m["role"].str() == "user") p.last_user = text;
  }
  return p;
}

// OpenAI's usage object; `b.cached_tokens` is reported as prompt_tokens_details.cached_tokens
// (part of prompt_tokens, which is raised to at least that).
Json usage_json(int prompt_tokens, int completion_tokens, const Behavior& b) {
  const int cached = static_cast<int>(b.cached_tokens);
  if (prompt_tokens < cached) prompt_tokens = cached;
  Json details = Json::object();
  details.set("cached_tokens", cached);
  Json usage = Json::object();
  usage.set("prompt_tokens", prompt_tokens);
  usage.set("completion_tokens", completion_tokens);
  usage.set("total_tokens", prompt_tokens + completion_tokens);
  usage.set("prompt_tokens_details", details);
  return usage;
}

std::string sse(const Json& data) {
  return "data: " + data.dump() + "\n\n";
}
std::string sse(std::string_view event, const Json& data) {
  return "event: " + std::string(event) + "\ndata: " + data.dump() + "\n\n";
}

Reply json_reply(const Json& body) {
  Reply r;
  r.body = body.dump();
  return r;
}

// The common front of every model call: a JSON body with a string `model`.
struct Call {
  Json body;
  std::string model;
  bool stream = false;
  bool include_usage = false;
};

std::optional<Reply> read_call(std::string_view raw, Call& call) {
  auto parsed = Json::parse(raw);
  if (!parsed || !parsed->is_object())
    return error_reply(400, "mock provider: the request body is not a JSON object",
                       "invalid_request_error", "invalid_json");
  call.body = std::move(*parsed);
  if (!call.body["model"].is_string() || call.body["model"].str().empty())
    return error_reply(400, "mock provider: you must provide a model parameter",
                       "invalid_request_error", "missing_model");
  call.model = call.body["model"].str();
  call.stream = call.body["stream"].as_bool();
  call.include_usage = call.body["stream_options"]["include_usage"].as_bool();
  return std::nullopt;
}

// `no_usage`: the provider sends no usage chunk whatever the client asked.
void apply_omit_usage(Call& call, const Behavior& b) {
  if (b.omit_usage) call.include_usage = false;
}

Json tool_calls_json(const std::vector<ToolCall>& calls) {
  Json list = Json::array();
  for (const ToolCall& c : calls) {
    Json function = Json::object();
    function.set("name", c.name);
    function.set("arguments", c.arguments);
    Json call = Json::object();
    call.set("id", c.id);
    call.set("type", "function");
    call.set("function", function);
    list.push_back(call);
  }
  return list;
}

Reply chat_completion(const Call& call, const Behavior& b, uint64_t seq) {
  Prompt prompt = read_messages(call.body["messages"]);
  const ToolRequest tools = tool_request_of(call.body);
  const std::vector<ToolCall> calls =
      choose_tool_calls(tools, b, prompt.last_user, "call_mock_", seq);
  const std::string& echoed = tools.after_tool_result ? tools.tool_result_text : prompt.last_user;
  const std::string preamble =
      calls.empty() || !b.tool_preamble ? std::string() : tool_preamble_text(calls);
  std::string content = calls.empty() ? reply_text(call.model, echoed, b.pad_bytes) : preamble;
  int prompt_tokens = count_tokens(prompt.all_text);
  std::string id = "chatcmpl-mock-" + std::to_string(seq);
  int64_t created = static_cast<int64_t>(std::time(nullptr));
  const char* finish_reason = calls.empty() ? "stop" : "tool_calls";

  auto head = [&](const char* object) {
    Json j = Json::object();
    j.set("id", id);
    j.set("object", object);
    j.set("created", created);
    j.set("model", call.model);
    if (b.unknown_events) j.set("mock_future_field", Json::object().set("since", "2099"));
    return j;
  };

  if (!call.stream) {
    Json message = Json::object();
    message.set("role", "assistant");
    if (calls.empty()) {
      message.set("content", content);
    } else {
      message.set("content", preamble.empty() ? Json() : Json(preamble));
      message.set("tool_calls", tool_calls_json(calls));
    }
    Json choice = Json::object();
    choice.set("index", 0);
    choice.set("message", message);
    choice.set("logprobs", nullptr);
    choice.set("finish_reason", finish_reason);
    Json body = head("chat.completion");
    body.set("choices", Json::array().push_back(choice));
    const int completion_tokens =
        calls.empty() ? count_tokens(content) : tool_output_tokens(calls, preamble);
    if (!b.omit_usage) body.set("usage", usage_json(prompt_tokens, completion_tokens, b));
    return json_reply(body);
  }

  Reply r;
  r.stream = true;
  if (b.unknown_events) r.events.push_back(": mock keep-alive comment, to be ignored\n\n");
  size_t first_delta = r.events.size();  // the first event carrying content or arguments
  auto push_delta = [&](Json delta) {
    Json choice = Json::object();
    choice.set("index", 0);
    choice.set("delta", std::move(delta));
    choice.set("logprobs", nullptr);
    choice.set("finish_reason", nullptr);
    Json chunk = head("chat.completion.chunk");
    chunk.set("choices", Json::array().push_back(choice));
    if (call.include_usage) chunk.set("usage", nullptr);
    r.events.push_back(sse(chunk));
  };
  std::vector<std::string> pieces;
  if (calls.empty() || !preamble.empty())
    pieces = stream_pieces(content, calls.empty() ? b.chunks : -1);
  for (size_t i = 0; i < pieces.size(); ++i) {
    Json delta = Json::object();
    if (i == 0) delta.set("role", "assistant");
    delta.set("content", pieces[i]);
    push_delta(std::move(delta));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    // The call's head (index, id, name, empty arguments), then its argument fragments.
    Json function = Json::object();
    function.set("name", calls[i].name);
    function.set("arguments", "");
    Json start = Json::object();
    start.set("index", static_cast<int>(i));
    start.set("id", calls[i].id);
    start.set("type", "function");
    start.set("function", function);
    Json delta = Json::object();
    if (i == 0 && pieces.empty()) {
      delta.set("role", "assistant");
      delta.set("content", nullptr);
    }
    delta.set("tool_calls", Json::array().push_back(start));
    if (i == 0 && pieces.empty()) first_delta = r.events.size() + 1;
    push_delta(std::move(delta));
    const size_t started = r.events.size();
    for (const std::string& fragment : calls[i].fragments) {
      Json args = Json::object();
      args.set("arguments", fragment);
      Json part = Json::object();
      part.set("index", static_cast<int>(i));
      part.set("function", args);
      Json d = Json::object();
      d.set("tool_calls", Json::array().push_back(part));
      push_delta(std::move(d));
    }
    if (i == 0) r.tool_cut_events = started + std::max<size_t>(1, calls[i].fragments.size() / 2);
  }
  const int completion_tokens =
      calls.empty() ? static_cast<int>(pieces.size()) : tool_output_tokens(calls, preamble);
  if (b.error_event) {
    // OpenAI's mid-stream failure: a chunk holding only an error object, then the end.
    r.events.resize(std::min(r.events.size(), first_delta + 1));
    Json error = Json::object();
    error.set("message", "mock provider: the server had an error while processing the stream");
    error.set("type", "server_error");
    error.set("param", nullptr);
    error.set("code", nullptr);
    Json chunk = Json::object();
    chunk.set("error", error);
    r.events.push_back(sse(chunk));
    r.tool_cut_events = 0;
    return r;
  }
  Json last_choice = Json::object();
  last_choice.set("index", 0);
  last_choice.set("delta", Json::object());
  last_choice.set("logprobs", nullptr);
  last_choice.set("finish_reason", finish_reason);
  Json last = head("chat.completion.chunk");
  last.set("choices", Json::array().push_back(last_choice));
  if (b.usage_in_last_chunk && !b.omit_usage) {
    last.set("usage", usage_json(prompt_tokens, completion_tokens, b));
  } else if (call.include_usage) {
    last.set("usage", nullptr);
  }
  r.events.push_back(sse(last));
  if (call.include_usage && !b.usage_in_last_chunk) {
    Json usage = head("chat.completion.chunk");
    usage.set("choices", Json::array());
    usage.set("usage", usage_json(prompt_tokens, completion_tokens, b));
    r.events.push_back(sse(usage));
  }
  r.events.push_back("data: [DONE]\n\n");
  return r;
}

Reply text_completion(const Call& call, const Behavior& b, uint64_t seq) {
  const Json& p = call.body["prompt"];
  std::string prompt = p.is_array() ? p[p.size() - 1].str() : p.str();
  std::string text = reply_text(call.model, prompt, b.pad_bytes);
  std::string id = "cmpl-mock-" + std::to_string(seq);
  int64_t created = static_cast<int64_t>(std::time(nullptr));
  auto choice_with = [](const std::string& t, const Json& finish) {
    Json c = Json::object();
    c.set("text", t);
    c.set("index", 0);
    c.set("logprobs", nullptr);
    c.set("finish_reason", finish);
    return c;
  };
  auto head = [&] {
    Json j = Json::object();
    j.set("id", id);
    j.set("object", "text_completion");
    j.set("created", created);
    j.set("model", call.model);
    return j;
  };
  if (!call.stream) {
    Json body = head();
    body.set("choices", Json::array().push_back(choice_with(text, "stop")));
    if (!b.omit_usage) body.set("usage", usage_json(count_tokens(prompt), count_tokens(text), b));
    return json_reply(body);
  }
  Reply r;
  r.stream = true;
  std::vector<std::string> pieces = stream_pieces(text, b.chunks);
  for (size_t i = 0; i < pieces.size(); ++i) {
    Json chunk = head();
    Json finish = i + 1 == pieces.size() ? Json("stop") : Json();
    chunk.set("choices", Json::array().push_back(choice_with(pieces[i], finish)));
    if (call.include_usage) chunk.set("usage", nullptr);  // as on chat chunks
    r.events.push_back(sse(chunk));
  }
  if (call.include_usage) {
    Json usage = head();
    usage.set("choices", Json::array());
    usage.set("usage", usage_json(count_tokens(prompt), static_cast<int>(pieces.size()), b));
    r.events.push_back(sse(usage));
  }
  r.events.push_back("data: [DONE]\n\n");
  return r;
}

// A deterministic 8-dimensional vector per input string.
Json embedding_of(const std::string& text) {
  size_t h = std::hash<std::string>{}(text);
  Json v = Json::array();
  for (int i = 0; i < 8; ++i) {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    v.push_back(static_cast<double>((h >> 40) % 2000) / 1000.0 - 1.0);
  }
  return v;
}

// OpenAI's `encoding_format: "base64"`: the vector as little-endian float32, base64-encoded
// (what the official SDKs ask for by default and decode themselves).
std::string base64_floats(const Json& vector) {
  std::string bytes;
  for (const Json& v : vector.items()) {
    float f = static_cast<float>(v.as_number());
    unsigned char raw[4];
    std::memcpy(raw, &f, 4);  // x86-64 and aarch64 are little-endian
    bytes.append(reinterpret_cast<const char*>(raw), 4);
  }
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

Reply embeddings(const Call& call, const Behavior& b) {
  bool base64 = call.body["encoding_format"].str() == "base64";
  std::vector<std::string> inputs;
  const Json& in = call.body["input"];
  if (in.is_array()) {
    for (const Json& s : in.items()) inputs.push_back(s.is_string() ? s.str() : s.dump());
  } else {
    inputs.push_back(in.str());
  }
  Json data = Json::array();
  int tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Json e = Json::object();
    e.set("object", "embedding");
    e.set("index", static_cast<int>(i));
    Json vector = embedding_of(inputs[i]);
    if (base64)
      e.set("embedding", base64_floats(vector));
    else
      e.set("embedding", vector);
    data.push_back(e);
    tokens += count_tokens(inputs[i]);
  }
  Json usage = Json::object();
  usage.set("prompt_tokens", tokens);
  usage.set("total_tokens", tokens);
  Json body = Json::object();
  body.set("object", "list");
  body.set("data", data);
  body.set("model", call.model);
  if (!b.omit_usage) body.set("usage", usage);
  return json_reply(body);
}

Reply responses(const Call& call, const Behavior& b, uint64_t seq) {
  const Json& in = call.body["input"];
  Prompt prompt;
  if (in.is_string()) {
    prompt.last_user = prompt.all_text = in.str();
  } else {
    prompt = read_messages(in);
  }
  std::string text = reply_text(call.model, prompt.last_user, b.pad_bytes);
  std::string id = "resp_mock_" + std::to_string(seq);
  int input_tokens = count_tokens(prompt.all_text);

  auto response_object = [&](const char* status, const std::string& output_text, int out_tokens) {
    Json part = Json::object();
    part.set("type", "output_text");
    part.set("text", output_text);
    part.set("annotations", Json::array());
    Json message = Json::object();
    message.set("type", "message");
    message.set("id", "msg_mock_" + std::to_string(seq));
    message.set("status", status);
    message.set("role", "assistant");
    message.set("content", Json::array().push_back(part));
    Json usage = Json::object();
    usage.set("input_tokens", input_tokens);
    usage.set("output_tokens", out_tokens);
    usage.set("total_tokens", input_tokens + out_tokens);
    Json r = Json::object();
    r.set("id", id);
    r.set("object", "response");
    r.set("created_at", static_cast<int64_t>(std::time(nullptr)));
    r.set("status", status);
    r.set("model", call.model);
    r.set("output", Json::array().push_back(message));
    if (!b.omit_usage) r.set("usage", usage);
    return r;
  };

  if (!call.stream) return json_reply(response_object("completed", text, count_tokens(text)));

  Reply r;
  r.stream = true;
  Json created = Json::object();
  created.set("type", "response.created");
  created.set("response", response_object("in_progress", "", 0));
  r.events.push_back(sse("response.created", created));
  std::vector<std::string> pieces = stream_pieces(text, b.chunks);
  for (const std::string& piece : pieces) {
    Json delta = Json::object();
    delta.set("type", "response.output_text.delta");
    delta.set("item_id", "msg_mock_" + std::to_string(seq));
    delta.set("output_index", 0);
    delta.set("content_index", 0);
    delta.set("delta", piece);
    r.events.push_back(sse("response.output_text.delta", delta));
  }
  Json done = Json::object();
  done.set("type", "response.completed");
  done.set("response", response_object("completed", text, static_cast<int>(pieces.size())));
  r.events.push_back(sse("response.completed", done));
  return r;
}

// ---- `strict`: a chat request checked as OpenAI checks it -----------------------------------

Reply invalid_param(std::string_view message, const Json& param, const Json& code) {
  Json error = Json::object();
  error.set("message", message);
  error.set("type", "invalid_request_error");
  error.set("param", param);
  error.set("code", code);
  Json body = Json::object();
  body.set("error", error);
  Reply r = json_reply(body);
  r.status = 400;
  return r;
}

// The request fields OpenAI's chat completions accept; any other is refused.
bool known_chat_field(const std::string& name) {
  static const char* const kFields[] = {"model",
                                        "messages",
                                        "stream",
                                        "stream_options",
                                        "max_tokens",
                                        "max_completion_tokens",
                                        "temperature",
                                        "top_p",
                                        "n",
                                        "stop",
                                        "presence_penalty",
                                        "frequency_penalty",
                                        "logit_bias",
                                        "logprobs",
                                        "top_logprobs",
                                        "user",
                                        "tools",
                                        "tool_choice",
                                        "parallel_tool_calls",
                                        "response_format",
                                        "seed",
                                        "service_tier",
                                        "metadata",
                                        "store",
                                        "reasoning_effort",
                                        "modalities",
                                        "audio",
                                        "prediction",
                                        "functions",
                                        "function_call",
                                        "web_search_options",
                                        "verbosity",
                                        "prompt_cache_key",
                                        "safety_identifier"};
  for (const char* f : kFields)
    if (name == f) return true;
  return false;
}

std::optional<Reply> check_chat_request(const Json& body) {
  for (const auto& [name, value] : body.members()) {
    if (!known_chat_field(name))
      return invalid_param("Unrecognized request argument supplied: " + name, Json(), Json());
  }
  const Json& messages = body["messages"];
  if (!messages.is_array())
    return invalid_param("Missing required parameter: 'messages'.", "messages",
                         "missing_required_parameter");
  if (messages.size() == 0)
    return invalid_param("[] is too short - 'messages'", "messages", "empty_array");
  for (size_t t = 0; t < body["tools"].size(); ++t) {
    const Json& tool = body["tools"][t];
    const std::string at = "tools[" + std::to_string(t) + "]";
    if (tool["type"].str() != "function")
      return invalid_param("Invalid value: '" + tool["type"].str() +
                               "'. Supported values are: 'function' and 'custom'.",
                           at + ".type", "invalid_value");
    if (!tool["function"]["name"].is_string())
      return invalid_param("Missing required parameter: '" + at + ".function.name'.",
                           at + ".function.name", "missing_required_parameter");
  }
  std::vector<std::string> open_calls;  // ids of the last assistant tool_calls not yet answered
  size_t open_at = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    const std::string role = m["role"].str();
    if (role != "system" && role != "developer" && role != "user" && role != "assistant" &&
        role != "tool" && role != "function")
      return invalid_param("Invalid value: '" + role +
                               "'. Supported values are: 'system', 'assistant', 'user', "
                               "'function', 'tool', and 'developer'.",
                           at + ".role", "invalid_value");
    if (role != "tool" && !open_calls.empty()) {
      std::string ids;
      for (const std::string& id : open_calls) ids += (ids.empty() ? "" : ", ") + id;
      return invalid_param(
          "An assistant message with 'tool_calls' must be followed by tool messages responding "
          "to each 'tool_call_id'. The following tool_call_ids did not have response messages: " +
              ids,
          "messages.[" + std::to_string(open_at) + "].role", Json());
    }
    if (role == "tool") {
      const std::string& id = m["tool_call_id"].str();
      auto it = std::find(open_calls.begin(), open_calls.end(), id);
      if (!m["tool_call_id"].is_string() || it == open_calls.end())
        return invalid_param(
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
            "message with 'tool_calls'.",
            "messages.[" + std::to_string(i) + "].role", Json());
      open_calls.erase(it);
      continue;
    }
    if (role == "assistant") {
      const Json& calls = m["tool_calls"];
      for (size_t c = 0; c < calls.size(); ++c) {
        const Json& tc = calls[c];
        const std::string cat = at + ".tool_calls[" + std::to_string(c) + "]";
        for (const char* field : {"id", "function"}) {
          if (tc[field].is_null())
            return invalid_param("Missing required parameter: '" + cat + "." + field + "'.",
                                 cat + "." + field, "missing_required_parameter");
        }
        if (!tc["function"]["arguments"].is_string() || !tc["function"]["name"].is_string())
          return invalid_param(
              "Invalid type for '" + cat + ".function.arguments': expected a string.",
              cat + ".function.arguments", "invalid_type");
        open_calls.push_back(tc["id"].str());
        open_at = i;
      }
      if (calls.size() == 0 && m["content"].is_null())
        return invalid_param("Invalid value for '" + at + ".content': expected a string, got null.",
                             at + ".content", "invalid_type");
    }
    const Json& content = m["content"];
    for (size_t p = 0; p < content.size() && content.is_array(); ++p) {
      const Json& part = content[p];
      const std::string pat = at + ".content[" + std::to_string(p) + "]";
      const std::string type = part["type"].str();
      if (type == "text") {
        if (!part["text"].is_string())
          return invalid_param("Missing required parameter: '" + pat + ".text'.", pat + ".text",
                               "missing_required_parameter");
      } else if (type == "image_url") {
        if (!part["image_url"]["url"].is_string())
          return invalid_param("Missing required parameter: '" + pat + ".image_url.url'.",
                               pat + ".image_url.url", "missing_required_parameter");
      } else if (type != "input_audio" && type != "file" && type != "refusal") {
        return invalid_param("Invalid value: '" + type +
                                 "'. Supported values are: 'text', 'image_url', 'input_audio', "
                                 "'refusal', 'audio', and 'file'.",
                             pat + ".type", "invalid_value");
      }
    }
  }
  if (!open_calls.empty())
    return invalid_param(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to "
        "each 'tool_call_id'. The following tool_call_ids did not have response messages: " +
            open_calls.front(),
        "messages.[" + std::to_string(open_at) + "].role", Json());
  return std::nullopt;
}

Reply model_list() {
  Json data = Json::array();
  for (const char* id : {"mock-model", "mock-embedding"}) {
    Json m = Json::object();
    m.set("id", id);
    m.set("object", "model");
    m.set("created", 0);
    m.set("owned_by", "mock");
    data.push_back(m);
  }
  Json body = Json::object();
  body.set("object", "list");
  body.set("data", data);
  return json_reply(body);
}

// "/v1/chat/completions" and "/chat/completions" are the same endpoint, so a base_url with or
// without the /v1 prefix both work.
std::string_view endpoint_of(std::string_view path) {
  if (path.substr(0, 3) == "/v1") path.remove_prefix(3);
  return path;
}

Reply status_reply(int status, int retry_after_s) {
  std::string message = failure_message(status);
  if (status == 429) {
    Reply r = error_reply(429, message, "rate_limit_error", "rate_limit_exceeded");
    r.headers.emplace_back("retry-after",
                           retry_after_s >= 0 ? std::to_string(retry_after_s) : std::string("1"));
    return r;
  }
  if (retry_after_s >= 0) {
    Reply r = status_reply(status, -1);
    r.headers.emplace_back("retry-after", std::to_string(retry_after_s));
    return r;
  }
  if (status == 401) return error_reply(status, message, "authentication_error", "invalid_api_key");
  if (status >= 500) return error_reply(status, message, "server_error", "server_error");
  return error_reply(status, message, "invalid_request_error", "mock_status");
}

}  // namespace

std::string failure_message(int status) {
  return "mock provider failure (status " + std::to_string(status) + ")";
}

void add_retry_after(Reply& reply, const Behavior& behavior) {
  if (behavior.retry_after_s < 0 && behavior.status_code != 429) return;
  const int seconds = behavior.retry_after_s >= 0 ? behavior.retry_after_s : 1;
  reply.headers.emplace_back("retry-after", std::to_string(seconds));
}

// The tool part of a chat request (tool_use.h): its function tools, tool_choice, and whether
// the conversation ends with tool results (role "tool" messages).
ToolRequest tool_request_of(const Json& body) {
  ToolRequest t;
  for (const Json& tool : body["tools"].items()) {
    const Json& f = tool["function"];
    if (f["name"].is_string()) t.tools.emplace_back(f["name"].str(), f["parameters"]);
  }
  const Json& choice = body["tool_choice"];
  if (choice.is_string()) {
    if (choice.str() == "none") t.choice = ToolRequest::Choice::None;
    if (choice.str() == "required") t.choice = ToolRequest::Choice::Required;
  } else if (choice["function"]["name"].is_string()) {
    t.choice = ToolRequest::Choice::Named;
    t.named = choice["function"]["name"].str();
  }
  const std::vector<Json>& messages = body["messages"].items();
  size_t first_result = messages.size();
  while (first_result > 0 && messages[first_result - 1]["role"].str() == "tool") --first_result;
  for (size_t i = first_result; i < messages.size(); ++i) {
    t.after_tool_result = true;
    if (!t.tool_result_text.empty()) t.tool_result_text += ' ';
    t.tool_result_text += content_text(messages[i]["content"]);
  }
  return t;
}

Reply error_reply(int status, std::string_view message, std::string_view type,
                  std::string_view code) {
  Json error = Json::object();
  error.set("message", message);
  error.set("type", type);
  error.set("param", nullptr);
  error.set("code", code);
  Json body = Json::object();
  body.set("error", error);
  Reply r = json_reply(body);
  r.status = status;
  return r;
}

Reply openai_reply(std::string_view method, std::string_view path, std::string_view body,
                   const Behavior& behavior, uint64_t sequence) {
  if (behavior.status_code < 200 || behavior.status_code >= 300)
    return status_reply(behavior.status_code, behavior.retry_after_s);

  std::string_view endpoint = endpoint_of(path);
  Reply reply;
  if (method == "GET" && endpoint == "/models") {
    reply = model_list();
  } else if (is_tool_path(path)) {
    reply = tool_endpoint_reply(method, path, body);
  } else if (method == "POST" && (endpoint == "/chat/completions" || endpoint == "/completions" ||
                                  endpoint == "/embeddings" || endpoint == "/responses")) {
    Call call;
    if (auto error = read_call(body, call)) return *error;
    apply_omit_usage(call, behavior);
    if (behavior.strict && endpoint == "/chat/completions") {
      if (auto invalid = check_chat_request(call.body)) return *invalid;
    }
    if (endpoint == "/chat/completions")
      reply = chat_completion(call, behavior, sequence);
    else if (endpoint == "/completions")
      reply = text_completion(call, behavior, sequence);
    else if (endpoint == "/embeddings")
      reply = embeddings(call, behavior);
    else
      reply = responses(call, behavior, sequence);
  } else {
    return error_reply(
        404, "mock provider: no route for " + std::string(method) + " " + std::string(path),
        "invalid_request_error", "unknown_url");
  }
  reply.status = behavior.status_code;
  if (reply.stream) reply.content_type = "text/event-stream";
  return reply;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

}  // namespace sluice::mock
