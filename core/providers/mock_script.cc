// What the built-in mock provider answers: OpenAI-shaped bodies built from the request
// (Anthropic-shaped on /v1/messages: mock_messages.cc).
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "core/http/response_builder.h"
#include "core/providers/mock_backend.h"
#include "core/providers/mock_embedding.h"
#include "core/providers/mock_messages.h"

namespace sluice::providers {
namespace {

// The text the mock echoes: the last user message (chat), the prompt (completions) or the
// input (responses). Empty when the request has none in a shape we read.
std::string find_echo_text(filter::Endpoint endpoint, const std::string& body) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return {};
  std::string found;
  auto text_of = [](simdjson::ondemand::value content) -> std::string {
    std::string_view s;
    if (!content.get_string().get(s)) return std::string(s);
    simdjson::ondemand::array parts;
    if (content.get_array().get(parts)) return {};
    std::string joined;
    for (auto part : parts) {
      std::string_view t;
      if (!part["text"].get_string().get(t)) joined.append(t);
    }
    return joined;
  };
  if (endpoint == filter::Endpoint::ChatCompletions || endpoint == filter::Endpoint::Responses ||
      endpoint == filter::Endpoint::Messages) {  // Anthropic's messages: same role/content
    simdjson::ondemand::value list;
    const char* key = endpoint == filter::Endpoint::Responses ? "input" : "messages";
    if (doc[key].get(list)) return {};
    std::string_view direct;
    if (!list.get_string().get(direct)) return std::string(direct);
    simdjson::ondemand::array messages;
    if (list.get_array().get(messages)) return {};
    for (auto message : messages) {
      simdjson::ondemand::object obj;
      if (message.get_object().get(obj)) continue;
      std::string role;
      std::string text;
      for (auto field : obj) {
        std::string_view k;
        if (field.unescaped_key().get(k)) break;
        if (k == "role") {
          std::string_view r;
          if (!field.value().get_string().get(r)) role = r;
        } else if (k == "content") {
          text = text_of(field.value());
        }
      }
      if (role == "user") found = std::move(text);
    }
  } else if (endpoint == filter::Endpoint::Completions) {
    std::string_view prompt;
    if (!doc["prompt"].get_string().get(prompt)) found = prompt;
  }
  return found;
}

struct EmbeddingRequest {
  // One text per input: a string as given; a token array as the text of its numbers (the mock
  // has no tokenizer), so the same input always gets the same vector.
  std::vector<std::string> texts;
  bool base64 = false;  // encoding_format: "base64" (the OpenAI SDKs' default)
};

EmbeddingRequest read_embedding_request(const std::string& body) {
  EmbeddingRequest out;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return out;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return out;
  auto text_of = [](simdjson::ondemand::value v) {
    std::string_view s;
    if (!v.get_string().get(s)) return std::string(s);
    std::string_view raw = v.raw_json_token();
    return std::string(raw);
  };
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) break;
    if (key == "encoding_format") {
      std::string_view format;
      if (!field.value().get_string().get(format)) out.base64 = format == "base64";
    } else if (key == "input") {
      simdjson::ondemand::value input = field.value();
      simdjson::ondemand::array items;
      if (input.get_array().get(items)) {
        out.texts.push_back(text_of(input));
        continue;
      }
      std::vector<std::string> per_item;
      bool tokens = false;
      for (auto item : items) {
        simdjson::ondemand::value v;
        simdjson::ondemand::json_type type;
        if (item.get(v) || v.type().get(type)) break;
        if (type == simdjson::ondemand::json_type::number) tokens = true;  // one token array
        per_item.push_back(text_of(v));
      }
      if (tokens || per_item.empty()) {
        std::string joined;
        for (const auto& t : per_item) joined.append(t).push_back(' ');
        out.texts.push_back(std::move(joined));
      } else {
        for (auto& t : per_item) out.texts.push_back(std::move(t));
      }
    }
  }
  if (out.texts.empty()) out.texts.emplace_back();
  return out;
}

// The vector of mock_embedding.h: JSON floats (printed so that they read back as the same
// float32), or base64 of little-endian float32 as the OpenAI API encodes encoding_format:
// "base64".
void append_mock_embedding(std::string& out, std::string_view text, bool base64) {
  const MockEmbedding values = mock_embedding(text);
  constexpr size_t kDims = kMockEmbeddingDims;
  if (!base64) {
    out.push_back('[');
    for (size_t i = 0; i < kDims; ++i) {
      if (i) out.push_back(',');
      char num[24];
      std::snprintf(num, sizeof num, "%.9g", static_cast<double>(values[i]));
      out.append(num);
    }
    out.push_back(']');
    return;
  }
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned char bytes[sizeof values];
  std::memcpy(bytes, values.data(), sizeof values);  // little-endian on every target we build for
  out.push_back('"');
  for (size_t i = 0; i < sizeof bytes; i += 3) {
    uint32_t chunk = static_cast<uint32_t>(bytes[i]) << 16;
    if (i + 1 < sizeof bytes) chunk |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < sizeof bytes) chunk |= bytes[i + 2];
    out.push_back(kAlphabet[(chunk >> 18) & 63]);
    out.push_back(kAlphabet[(chunk >> 12) & 63]);
    out.push_back(i + 1 < sizeof bytes ? kAlphabet[(chunk >> 6) & 63] : '=');
    out.push_back(i + 2 < sizeof bytes ? kAlphabet[chunk & 63] : '=');
  }
  out.push_back('"');
}

// Roughly four bytes per token, as tokenizers average on English text.
uint64_t estimate_tokens(size_t bytes) {
  return bytes / 4 + 1;
}

std::vector<std::string_view> split_reply(std::string_view reply, uint32_t pieces) {
  std::vector<std::string_view> out;
  if (pieces == 0) {  // one piece per word, the space kept with the word before it
    size_t start = 0;
    for (size_t i = 0; i < reply.size(); ++i) {
      if (reply[i] == ' ') {
        out.push_back(reply.substr(start, i + 1 - start));
        start = i + 1;
      }
    }
    if (start < reply.size()) out.push_back(reply.substr(start));
  } else {
    size_t step = reply.size() / pieces + (reply.size() % pieces ? 1 : 0);
    for (size_t i = 0; i < reply.size() && step > 0; i += step)
      out.push_back(reply.substr(i, step));
  }
  if (out.empty()) out.push_back(reply);
  return out;
}

void append_usage_chat(std::string& out, uint64_t prompt, uint64_t completion) {
  out.append("\"usage\":{\"prompt_tokens\":").append(std::to_string(prompt));
  out.append(",\"completion_tokens\":").append(std::to_string(completion));
  out.append(",\"total_tokens\":").append(std::to_string(prompt + completion)).append("}");
}

void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  http::append_json_escaped(out, s);
  out.push_back('"');
}

}  // namespace

void build_mock_script(const config::MockSettings& settings, const AttemptRequest& request,
                       uint64_t sequence, MockScript& out) {
  out.status = 200;
  out.pieces.clear();
  const std::string& body = request.request->body;
  std::string reply = settings.reply;
  if (settings.mode == config::MockSettings::Mode::Echo) {
    std::string echo = find_echo_text(request.endpoint, body);
    if (!echo.empty()) reply = std::move(echo);
  }
  const uint64_t prompt_tokens = estimate_tokens(body.size());
  const std::vector<std::string_view> words = split_reply(reply, settings.stream_chunks);
  const uint64_t completion_tokens = words.size();
  const std::string created = std::to_string(std::time(nullptr));
  const std::string seq = std::to_string(sequence);
  const bool stream = request.fields->stream;
  out.streamed = stream && request.endpoint != filter::Endpoint::Embeddings;
  out.content_type = out.streamed ? "text/event-stream" : "application/json";

  std::string common;  // "id", "created", "model" fields shared by every object
  auto start_object = [&](std::string& s, const char* id_prefix, const char* object) {
    s.append("{\"id\":\"").append(id_prefix).append(seq).append("\",\"object\":\"");
    s.append(object).append("\",\"created\":").append(created).append(",\"model\":");
    append_quoted(s, request.physical_model);
  };

  switch (request.endpoint) {
    case filter::Endpoint::Messages:
      build_mock_messages_script(request, words, prompt_tokens, sequence, out);
      return;
    case filter::Endpoint::Embeddings: {
      const EmbeddingRequest e = read_embedding_request(body);
      std::string s = "{\"object\":\"list\",\"data\":[";
      for (size_t n = 0; n < e.texts.size(); ++n) {
        if (n) s.push_back(',');
        s.append("{\"object\":\"embedding\",\"index\":").append(std::to_string(n));
        s.append(",\"embedding\":");
        append_mock_embedding(s, e.texts[n], e.base64);
        s.push_back('}');
      }
      s.append("],\"model\":");
      append_quoted(s, request.physical_model);
      s.append(",\"usage\":{\"prompt_tokens\":").append(std::to_string(prompt_tokens));
      s.append(",\"total_tokens\":").append(std::to_string(prompt_tokens)).append("}}");
      out.pieces.push_back(std::move(s));
      return;
    }
    case filter::Endpoint::Responses: {
      auto response_object = [&](std::string& s, const char* status, bool with_output) {
        s.append("{\"id\":\"resp_mock_").append(seq).append("\",\"object\":\"response\",");
        s.append("\"created_at\":").append(created).append(",\"status\":\"").append(status);
        s.append("\",\"model\":");
        append_quoted(s, request.physical_model);
        s.append(",\"output\":[");
        if (with_output) {
          s.append("{\"type\":\"message\",\"id\":\"msg_mock_").append(seq);
          s.append(
              "\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":"
              "\"output_text\",\"text\":");
          append_quoted(s, reply);
          s.append(",\"annotations\":[]}]}");
        }
        s.append("],\"usage\":{\"input_tokens\":").append(std::to_string(prompt_tokens));
        s.append(",\"output_tokens\":").append(std::to_string(completion_tokens));
        s.append(",\"total_tokens\":").append(std::to_string(prompt_tokens + completion_tokens));
        s.append("}}");
      };
      if (!out.streamed) {
        std::string s;
        response_object(s, "completed", true);
        out.pieces.push_back(std::move(s));
        return;
      }
      std::string created_event =
          "event: response.created\ndata: {\"type\":\"response.created\",\"response\":";
      response_object(created_event, "in_progress", false);
      created_event.append("}\n\n");
      out.pieces.push_back(std::move(created_event));
      for (std::string_view w : words) {
        std::string s =
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\","
            "\"item_id\":\"msg_mock_";
        s.append(seq).append("\",\"output_index\":0,\"content_index\":0,\"delta\":");
        append_quoted(s, w);
        s.append("}\n\n");
        out.pieces.push_back(std::move(s));
      }
      std::string done =
          "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":";
      response_object(done, "completed", true);
      done.append("}\n\n");
      out.pieces.push_back(std::move(done));
      return;
    }
    case filter::Endpoint::Completions:
    case filter::Endpoint::ChatCompletions:
    default: {
      const bool chat = request.endpoint != filter::Endpoint::Completions;
      const char* id_prefix = chat ? "chatcmpl-mock-" : "cmpl-mock-";
      if (!out.streamed) {
        std::string s;
        start_object(s, id_prefix, chat ? "chat.completion" : "text_completion");
        if (chat) {
          s.append(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
          append_quoted(s, reply);
          s.append("},\"logprobs\":null,\"finish_reason\":\"stop\"}],");
        } else {
          s.append(",\"choices\":[{\"index\":0,\"text\":");
          append_quoted(s, reply);
          s.append(",\"logprobs\":null,\"finish_reason\":\"stop\"}],");
        }
        append_usage_chat(s, prompt_tokens, completion_tokens);
        s.append("}");
        out.pieces.push_back(std::move(s));
        return;
      }
      const char* object = chat ? "chat.completion.chunk" : "text_completion";
      // As OpenAI streams with stream_options.include_usage (asked by the client, or by sluice
      // for its own accounting — the mock answers as if the splice had been sent): "usage":
      // null on every chunk, then a usage-only chunk (choices: []) before [DONE]. Without it,
      // neither.
      const bool include_usage = request.fields->include_usage || request.ask_stream_usage;
      auto chunk = [&](std::string_view content, bool first, bool last) {
        std::string s = "data: ";
        start_object(s, id_prefix, object);
        s.append(",\"choices\":[{\"index\":0,");
        if (chat) {
          s.append("\"delta\":{");
          if (first) s.append("\"role\":\"assistant\",");
          if (!last) {
            s.append("\"content\":");
            append_quoted(s, content);
          } else if (first) {
            s.pop_back();
          }
          s.append("},");
        } else {
          s.append("\"text\":");
          append_quoted(s, content);
          s.append(",");
        }
        s.append("\"logprobs\":null,\"finish_reason\":").append(last ? "\"stop\"" : "null");
        s.append(include_usage ? "}],\"usage\":null}\n\n" : "}]}\n\n");
        out.pieces.push_back(std::move(s));
      };
      for (size_t i = 0; i < words.size(); ++i) chunk(words[i], i == 0, false);
      chunk("", false, true);
      if (include_usage) {
        std::string s = "data: ";
        start_object(s, id_prefix, object);
        s.append(",\"choices\":[],");
        append_usage_chat(s, prompt_tokens, completion_tokens);
        s.append("}\n\n");
        out.pieces.push_back(std::move(s));
      }
      out.pieces.push_back("data: [DONE]\n\n");
      return;
    }
  }
}

}  // namespace sluice::providers
