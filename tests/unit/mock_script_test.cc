// The built-in mock provider's streams (type: mock) answer as OpenAI does for stream usage:
// with stream_options.include_usage — sent by the client, or asked by sluice for its own
// accounting (AttemptRequest::ask_stream_usage) — every chunk carries "usage": null and a
// usage-only chunk (choices: []) comes just before [DONE]; without it, neither.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "core/http/request.h"
#include "core/json/request_fields.h"
#include "core/providers/mock_backend.h"

namespace sluice::providers {
namespace {

struct StreamSeen {
  int chunks = 0;  // data events other than [DONE]
  int chunks_with_null_usage = 0;
  int usage_only_chunks = 0;        // choices [] and a usage object
  bool usage_only_is_last = false;  // ... right before [DONE]
  bool ends_with_done = false;
  int64_t prompt_tokens = -1, completion_tokens = -1;
};

StreamSeen play(filter::Endpoint endpoint, std::string body, bool ask_stream_usage) {
  http::HttpRequest http;
  http.body = std::move(body);
  json::ensure_padding(http.body);
  json::RequestFields fields;
  EXPECT_EQ(json::parse_request_fields(http.body, &fields).status, json::ParseStatus::Ok);
  AttemptRequest request{};
  request.endpoint = endpoint;
  request.request = &http;
  request.fields = &fields;
  request.physical_model = "mock-small";
  request.request_id = "req-1";
  request.ask_stream_usage = ask_stream_usage;
  config::MockSettings settings;
  settings.mode = config::MockSettings::Mode::Canned;
  settings.reply = "one two three";
  MockScript script;
  build_mock_script(settings, request, 1, script);
  EXPECT_TRUE(script.streamed);

  StreamSeen seen;
  simdjson::dom::parser parser;
  for (size_t i = 0; i < script.pieces.size(); ++i) {
    const std::string& piece = script.pieces[i];
    EXPECT_TRUE(piece.starts_with("data: ") && piece.ends_with("\n\n")) << piece;
    const std::string data = piece.substr(6, piece.size() - 8);
    if (data == "[DONE]") {
      seen.ends_with_done = i + 1 == script.pieces.size();
      continue;
    }
    ++seen.chunks;
    simdjson::dom::element chunk;
    EXPECT_EQ(parser.parse(data).get(chunk), simdjson::SUCCESS) << data;
    simdjson::dom::element usage;
    if (chunk["usage"].get(usage) != simdjson::SUCCESS) continue;
    if (usage.is_null()) {
      ++seen.chunks_with_null_usage;
      continue;
    }
    simdjson::dom::array choices;
    EXPECT_EQ(chunk["choices"].get(choices), simdjson::SUCCESS);
    EXPECT_EQ(choices.size(), 0u);
    ++seen.usage_only_chunks;
    seen.usage_only_is_last = i + 2 == script.pieces.size();
    seen.prompt_tokens = usage["prompt_tokens"].get_int64().value_unsafe();
    seen.completion_tokens = usage["completion_tokens"].get_int64().value_unsafe();
  }
  return seen;
}

constexpr const char* kChat =
    R"({"model":"fast","stream":true,"messages":[{"role":"user","content":"hi"}])";

TEST(MockScriptStream, WithoutIncludeUsageNoUsageAnywhere) {
  for (std::string options :
       {"", R"(,"stream_options":{"include_usage":false})", R"(,"stream_options":null)"}) {
    StreamSeen s = play(filter::Endpoint::ChatCompletions, kChat + options + "}", false);
    EXPECT_EQ(s.chunks, 4) << options;  // three words and the finish chunk
    EXPECT_EQ(s.chunks_with_null_usage, 0) << options;
    EXPECT_EQ(s.usage_only_chunks, 0) << options;
    EXPECT_TRUE(s.ends_with_done);
  }
}

TEST(MockScriptStream, ClientsIncludeUsageGetsNullOnEveryChunkAndAFinalUsageChunk) {
  StreamSeen s = play(filter::Endpoint::ChatCompletions,
                      kChat + std::string(R"(,"stream_options":{"include_usage":true}})"), false);
  EXPECT_EQ(s.chunks, 5);
  EXPECT_EQ(s.chunks_with_null_usage, 4);
  EXPECT_EQ(s.usage_only_chunks, 1);
  EXPECT_TRUE(s.usage_only_is_last);
  EXPECT_TRUE(s.ends_with_done);
  EXPECT_GT(s.prompt_tokens, 0);
  EXPECT_EQ(s.completion_tokens, 3);
}

TEST(MockScriptStream, SluicesAskAnswersAsIfTheSpliceHadBeenSent) {
  StreamSeen s = play(filter::Endpoint::ChatCompletions, kChat + std::string("}"), true);
  EXPECT_EQ(s.chunks_with_null_usage, 4);
  EXPECT_EQ(s.usage_only_chunks, 1);
  EXPECT_TRUE(s.usage_only_is_last);
  EXPECT_EQ(s.completion_tokens, 3);
}

TEST(MockScriptStream, LegacyCompletionsToo) {
  const std::string body = R"({"model":"fast","stream":true,"prompt":"hi"})";
  StreamSeen without = play(filter::Endpoint::Completions, body, false);
  EXPECT_EQ(without.chunks_with_null_usage, 0);
  EXPECT_EQ(without.usage_only_chunks, 0);
  StreamSeen with = play(filter::Endpoint::Completions, body, true);
  EXPECT_EQ(with.chunks_with_null_usage, with.chunks - 1);
  EXPECT_EQ(with.usage_only_chunks, 1);
  EXPECT_TRUE(with.usage_only_is_last);
}

}  // namespace
}  // namespace sluice::providers
