// plugins/lua/ollama_native.lua, the Lua reference provider, driven the way core drives every
// translated attempt: an OpenAI chat request becomes Ollama's /api/chat request (messages,
// images, tools, options, stream), its JSON answer and its NDJSON stream become OpenAI's
// chat.completion and chat.completion.chunk shapes with Ollama's counts as usage, and its
// errors become OpenAI's error shape or a failed attempt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/unit/lua_provider_fixture.h"

#ifndef SLUICE_SOURCE_DIR
#error "tests/CMakeLists.txt gives this test SLUICE_SOURCE_DIR"
#endif

namespace sluice::test {
namespace {

using providers::StreamFraming;
using providers::TranslatedRequest;
using providers::TranslateStatus;
using ::testing::HasSubstr;

class OllamaNativeTest : public LuaProviderFixture {
 protected:
  void SetUp() override {
    LuaProviderFixture::SetUp();
    add_plugin("ollama_native", std::string(SLUICE_SOURCE_DIR) + "/plugins/lua/ollama_native.lua");
  }

  // A translation for providers.local ({type: ollama_native, config: <config>}).
  std::unique_ptr<providers::Translation> begin(const std::string& config = "",
                                                const std::string& api_key = "") {
    return codec("ollama_native", config, api_key)->begin(0);
  }

  // The upstream request for `body` (ASSERTs it translated).
  TranslatedRequest translate(providers::Translation& t, const std::string& body,
                              bool stream = false, bool stream_usage = false) {
    Input input;
    input.body = body;
    input.stream = stream;
    input.stream_usage = stream_usage;
    TranslatedRequest out;
    EXPECT_EQ(t.request(input.get(), out), TranslateStatus::Ok) << t.message();
    return out;
  }

  // What transform_request refuses `body` with ("<ok>" when it does not).
  std::string refusal(const std::string& body) {
    auto t = begin();
    Input input;
    input.body = body;
    TranslatedRequest out;
    const TranslateStatus status = t->request(input.get(), out);
    if (status == TranslateStatus::Ok) return "<ok>";
    EXPECT_EQ(status, TranslateStatus::Invalid) << t->message();
    return t->message();
  }

  // Feeds NDJSON `lines` to a streaming translation; returns the client's SSE text.
  std::string stream(providers::Translation& t, const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& line : lines) {
      EXPECT_EQ(t.event("", line, out), TranslateStatus::Ok) << t.message() << "\nline: " << line;
    }
    return out;
  }
};

constexpr const char* kHello = R"({"model":"fast","messages":[{"role":"user","content":"hello"}]})";

// ---- the request -----------------------------------------------------------------------------

TEST_F(OllamaNativeTest, ItIsAnNdjsonProviderOfChatCompletionsWithOllamasDefaultAddress) {
  const auto& source = load();
  EXPECT_EQ(source.default_base_url("ollama_native"), "http://127.0.0.1:11434");
  auto c = codec("ollama_native");
  EXPECT_EQ(c->framing(), StreamFraming::Ndjson);
  EXPECT_TRUE(c->translates(filter::Endpoint::ChatCompletions));
  EXPECT_FALSE(c->translates(filter::Endpoint::Embeddings));
}

TEST_F(OllamaNativeTest, APlainChatBecomesAnApiChatRequestForThePhysicalModel) {
  auto t = begin();
  TranslatedRequest out = translate(*t, kHello);
  EXPECT_EQ(out.path, "/api/chat");
  EXPECT_TRUE(out.headers.empty());
  ASSERT_TRUE(out.body.has_value());
  EXPECT_EQ(
      *out.body,
      R"({"messages":[{"content":"hello","role":"user"}],"model":"qwen3:8b","stream":false})");
}

TEST_F(OllamaNativeTest, TheProvidersKeyIsSentAsABearerToken) {
  auto t = begin("", "sk-ollama");
  TranslatedRequest out = translate(*t, kHello);
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].first, "Authorization");
  EXPECT_EQ(out.headers[0].second, "Bearer sk-ollama");
}

TEST_F(OllamaNativeTest, MessagesOfEveryRoleImagesAndToolCallsAreTranslated) {
  const std::string body = R"({
    "model": "fast",
    "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "text", "text": "and the weather?"}]},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_7", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\":\"Lviv\"}"}}]},
      {"role": "tool", "tool_call_id": "call_7", "content": "{\"temp\":21}"}
    ]})";
  auto t = begin();
  JsonDoc up(translate(*t, body).body.value_or(""));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up.size("/messages"), 4u);
  EXPECT_EQ(up.str("/messages/0/role"), "system");
  EXPECT_EQ(up.str("/messages/0/content"), "be brief");
  EXPECT_EQ(up.str("/messages/1/role"), "user");
  EXPECT_EQ(up.str("/messages/1/content"), "what is this?\nand the weather?");
  EXPECT_EQ(up.raw("/messages/1/images"), R"(["iVBORw0KGgo="])");
  EXPECT_EQ(up.str("/messages/2/role"), "assistant");
  EXPECT_EQ(up.str("/messages/2/content"), "");
  EXPECT_EQ(up.str("/messages/2/tool_calls/0/function/name"), "get_weather");
  EXPECT_EQ(up.raw("/messages/2/tool_calls/0/function/arguments"), R"({"city":"Lviv"})");
  EXPECT_EQ(up.str("/messages/3/role"), "tool");
  EXPECT_EQ(up.str("/messages/3/tool_name"), "get_weather");
  EXPECT_EQ(up.str("/messages/3/content"), R"({"temp":21})");
}

TEST_F(OllamaNativeTest, ToolsSamplingAndFormatBecomeOllamasFields) {
  const std::string body = R"({
    "model": "fast", "stream": true, "stream_options": {"include_usage": true},
    "messages": [{"role": "user", "content": "hi"}],
    "tools": [{"type": "function", "function": {"name": "get_weather",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "temperature": 0.25, "top_p": 0.5, "max_tokens": 64, "stop": "END", "seed": 7,
    "response_format": {"type": "json_object"}})";
  auto t = begin("{keep_alive: 10m, options: {num_ctx: 8192, temperature: 1}, think: false}");
  JsonDoc up(translate(*t, body, true, true).body.value_or(""));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up.raw("/stream"), "true");
  EXPECT_EQ(up.str("/tools/0/type"), "function");
  EXPECT_EQ(up.str("/tools/0/function/name"), "get_weather");
  EXPECT_EQ(up.str("/tools/0/function/parameters/properties/city/type"), "string");
  EXPECT_EQ(up.real("/options/temperature"), 0.25);  // the request's, over the config's
  EXPECT_EQ(up.real("/options/top_p"), 0.5);
  EXPECT_EQ(up.num("/options/num_predict"), 64);
  EXPECT_EQ(up.raw("/options/stop"), R"(["END"])");
  EXPECT_EQ(up.num("/options/seed"), 7);
  EXPECT_EQ(up.num("/options/num_ctx"), 8192);
  EXPECT_EQ(up.str("/format"), "json");
  EXPECT_EQ(up.str("/keep_alive"), "10m");
  EXPECT_EQ(up.raw("/think"), "false");
  EXPECT_FALSE(up.has("/stream_options"));
}

TEST_F(OllamaNativeTest, AJsonSchemaFormatIsSentAsTheSchema) {
  auto t = begin();
  JsonDoc up(translate(*t, R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "response_format":{"type":"json_schema","json_schema":{"name":"a",
      "schema":{"type":"object","required":["n"]}}}})")
                 .body.value_or(""));
  EXPECT_EQ(up.raw("/format"), R"({"required":["n"],"type":"object"})");
}

TEST_F(OllamaNativeTest, WhatOllamaCannotTakeIsRefusedNamingTheField) {
  EXPECT_THAT(refusal(R"({"model":"m","messages":[{"role":"user","content":[
      {"type":"text","text":"x"},
      {"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]})"),
              HasSubstr("messages[0].content[1].image_url.url: ollama_native takes images as "
                        "data: URLs"));
  EXPECT_THAT(refusal(R"({"model":"m","messages":[{"role":"user","content":[
      {"type":"input_audio","input_audio":{"data":"..."}}]}]})"),
              HasSubstr("messages[0].content[0].type: \"input_audio\" has no Ollama equivalent"));
  EXPECT_THAT(refusal(R"({"model":"m","messages":[{"role":"robot","content":"x"}]})"),
              HasSubstr("messages[0].role: \"robot\" is not a chat role"));
  EXPECT_THAT(refusal(R"({"model":"m","messages":[{"role":"user","content":"x"},
      {"role":"assistant","tool_calls":[{"id":"a","type":"function",
       "function":{"name":"f","arguments":"{oops"}}]}]})"),
              HasSubstr("messages[1].tool_calls[0].function.arguments: not a JSON object"));
  EXPECT_THAT(refusal(R"({"model":"m","messages":[]})"), HasSubstr("messages: required"));
  EXPECT_THAT(refusal(R"({"model":"m","n":2,"messages":[{"role":"user","content":"x"}]})"),
              HasSubstr("n: Ollama returns one choice"));
  EXPECT_THAT(refusal(R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "tools":[{"type":"code_interpreter"}]})"),
              HasSubstr("tools[0].type: only \"function\" tools"));
  EXPECT_EQ(refusal(kHello), "<ok>");
}

TEST_F(OllamaNativeTest, ItsConfigIsCheckedAtLoad) {
  EXPECT_THAT(codec_error("ollama_native", "{keepalive: 5m}"),
              HasSubstr("did you mean \"keep_alive\"?"));
  EXPECT_THAT(codec_error("ollama_native", "{think: maybe}"), HasSubstr("expected true or false"));
}

// ---- the JSON answer -------------------------------------------------------------------------

TEST_F(OllamaNativeTest, AnAnswerBecomesAChatCompletionWithItsUsage) {
  auto t = begin();
  translate(*t, kHello);
  int status = 200;
  std::string out;
  ASSERT_EQ(t->response(status, R"({"model":"qwen3:8b","created_at":"2025-01-01T00:00:00Z",
      "message":{"role":"assistant","content":"Hello there."},"done":true,"done_reason":"stop",
      "total_duration":12345,"prompt_eval_count":26,"eval_count":5})",
                        out),
            TranslateStatus::Ok)
      << t->message();
  EXPECT_EQ(status, 200);
  JsonDoc answer(out);
  ASSERT_TRUE(answer.ok()) << out;
  EXPECT_EQ(answer.str("/id"), "chatcmpl-req-42");
  EXPECT_EQ(answer.str("/object"), "chat.completion");
  EXPECT_EQ(answer.str("/model"), "qwen3:8b");
  EXPECT_GT(answer.num("/created"), 1700000000);
  EXPECT_EQ(answer.str("/choices/0/message/role"), "assistant");
  EXPECT_EQ(answer.str("/choices/0/message/content"), "Hello there.");
  EXPECT_EQ(answer.str("/choices/0/finish_reason"), "stop");
  EXPECT_EQ(answer.num("/usage/prompt_tokens"), 26);
  EXPECT_EQ(answer.num("/usage/completion_tokens"), 5);
  EXPECT_EQ(answer.num("/usage/total_tokens"), 31);
  EXPECT_EQ(t->usage().source, usage::Usage::Source::Reported);
  EXPECT_EQ(t->usage().input_tokens, 26u);
  EXPECT_EQ(t->usage().output_tokens, 5u);
}

TEST_F(OllamaNativeTest, ToolCallsComeBackWithJsonArgumentsAndTheirFinishReason) {
  auto t = begin();
  translate(*t, kHello);
  int status = 200;
  std::string out;
  ASSERT_EQ(t->response(status, R"({"model":"m","message":{"role":"assistant","content":"",
      "tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Lviv"}}},
                    {"function":{"name":"get_time","arguments":{}}}]},
      "done":true,"done_reason":"stop","prompt_eval_count":40,"eval_count":12})",
                        out),
            TranslateStatus::Ok)
      << t->message();
  JsonDoc answer(out);
  EXPECT_TRUE(answer.is_null("/choices/0/message/content"));
  EXPECT_EQ(answer.str("/choices/0/finish_reason"), "tool_calls");
  EXPECT_EQ(answer.size("/choices/0/message/tool_calls"), 2u);
  EXPECT_EQ(answer.str("/choices/0/message/tool_calls/0/id"), "call_1");
  EXPECT_EQ(answer.str("/choices/0/message/tool_calls/0/type"), "function");
  EXPECT_EQ(answer.str("/choices/0/message/tool_calls/0/function/name"), "get_weather");
  EXPECT_EQ(answer.str("/choices/0/message/tool_calls/0/function/arguments"), R"({"city":"Lviv"})");
  EXPECT_FALSE(answer.has("/choices/0/message/tool_calls/0/index"));
  EXPECT_EQ(answer.str("/choices/0/message/tool_calls/1/id"), "call_2");
  EXPECT_EQ(answer.str("/choices/0/message/tool_calls/1/function/arguments"), "{}");
}

TEST_F(OllamaNativeTest, AnAnswerCutByTheTokenLimitSaysLength) {
  auto t = begin();
  translate(*t, kHello);
  int status = 200;
  std::string out;
  ASSERT_EQ(t->response(status, R"({"message":{"role":"assistant","content":"Once upon"},
      "done":true,"done_reason":"length","eval_count":2})",
                        out),
            TranslateStatus::Ok);
  JsonDoc answer(out);
  EXPECT_EQ(answer.str("/choices/0/finish_reason"), "length");
  EXPECT_EQ(answer.num("/usage/prompt_tokens"), 0);  // the whole prompt came from the cache
}

TEST_F(OllamaNativeTest, OllamasErrorsBecomeOpenAisErrorShape) {
  auto t = begin();
  translate(*t, kHello);
  int status = 404;
  std::string out;
  ASSERT_EQ(
      t->response(status, R"({"error":"model \"qwen9\" not found, try pulling it first"})", out),
      TranslateStatus::Ok);
  EXPECT_EQ(status, 404);
  JsonDoc error(out);
  EXPECT_EQ(error.str("/error/message"), "ollama: model \"qwen9\" not found, try pulling it first");
  EXPECT_EQ(error.str("/error/type"), "not_found_error");
  EXPECT_TRUE(error.is_null("/error/code"));
  EXPECT_TRUE(error.is_null("/error/param"));
  EXPECT_FALSE(t->usage().known());

  auto t500 = begin();
  translate(*t500, kHello);
  status = 500;
  out.clear();
  ASSERT_EQ(t500->response(status, "upstream exploded", out), TranslateStatus::Ok);
  EXPECT_EQ(JsonDoc(out).str("/error/message"), "ollama: upstream exploded");
  EXPECT_EQ(JsonDoc(out).str("/error/type"), "upstream_error");

  auto t200 = begin();
  translate(*t200, kHello);
  status = 200;
  out.clear();
  ASSERT_EQ(t200->response(status, R"({"error":"unexpected EOF"})", out), TranslateStatus::Ok);
  EXPECT_EQ(status, 502);
}

TEST_F(OllamaNativeTest, AnAnswerThatIsNotOllamasFailsTheAttempt) {
  auto t = begin();
  translate(*t, kHello);
  int status = 200;
  std::string out;
  EXPECT_EQ(t->response(status, "<html>proxy</html>", out), TranslateStatus::Failed);
  EXPECT_THAT(t->message(), HasSubstr("transform_response: the answer "
                                      "is not an Ollama chat response"));
}

// ---- the NDJSON stream -------------------------------------------------------------------------

TEST_F(OllamaNativeTest, StreamLinesBecomeChunksRoleFirstThenContentThenTheFinish) {
  auto t = begin();
  translate(*t, kHello, true, true);
  std::string out = stream(
      *t, {
              R"({"model":"qwen3:8b","message":{"role":"assistant","content":"Hel"},"done":false})",
              R"({"model":"qwen3:8b","message":{"role":"assistant","content":"lo"},"done":false})",
              R"({"model":"qwen3:8b","message":{"role":"assistant","content":""},"done":true,)"
              R"("done_reason":"stop","prompt_eval_count":12,"eval_count":2})",
          });
  ASSERT_EQ(t->end(out), TranslateStatus::Ok) << t->message();
  auto events = data_events(out);
  ASSERT_EQ(events.size(), 5u) << out;
  JsonDoc first(events[0]), second(events[1]), finish(events[2]), usage(events[3]);
  EXPECT_EQ(first.str("/object"), "chat.completion.chunk");
  EXPECT_EQ(first.str("/id"), "chatcmpl-req-42");
  EXPECT_EQ(first.str("/model"), "qwen3:8b");
  EXPECT_EQ(first.str("/choices/0/delta/role"), "assistant");
  EXPECT_EQ(first.str("/choices/0/delta/content"), "Hel");
  EXPECT_TRUE(first.is_null("/choices/0/finish_reason"));
  EXPECT_FALSE(second.has("/choices/0/delta/role"));
  EXPECT_EQ(second.str("/choices/0/delta/content"), "lo");
  EXPECT_EQ(finish.raw("/choices/0/delta"), "{}");
  EXPECT_EQ(finish.str("/choices/0/finish_reason"), "stop");
  EXPECT_EQ(usage.raw("/choices"), "[]");
  EXPECT_EQ(usage.str("/id"), "chatcmpl-req-42");
  EXPECT_EQ(usage.num("/usage/prompt_tokens"), 12);
  EXPECT_EQ(usage.num("/usage/completion_tokens"), 2);
  EXPECT_EQ(events[4], "[DONE]");
  EXPECT_EQ(t->usage().input_tokens, 12u);
  EXPECT_EQ(t->usage().output_tokens, 2u);
}

TEST_F(OllamaNativeTest, WithoutIncludeUsageTheStreamEndsWithDoneOnly) {
  auto t = begin();
  translate(*t, kHello, true, false);
  std::string out = stream(*t, {R"({"message":{"role":"assistant","content":"Hi"},"done":false})",
                                R"({"message":{"role":"assistant","content":""},"done":true,)"
                                R"("done_reason":"stop","prompt_eval_count":3,"eval_count":1})"});
  ASSERT_EQ(t->end(out), TranslateStatus::Ok);
  auto events = data_events(out);
  ASSERT_EQ(events.size(), 3u) << out;
  EXPECT_EQ(events[2], "[DONE]");
  EXPECT_EQ(t->usage().input_tokens, 3u);  // charged all the same
}

TEST_F(OllamaNativeTest, AStreamedToolCallIsADeltaWithItsIndexAndJsonArguments) {
  auto t = begin();
  translate(*t, kHello, true);
  std::string out = stream(
      *t, {
              R"({"message":{"role":"assistant","content":"","tool_calls":[{"function":)"
              R"({"name":"get_weather","arguments":{"city":"Lviv"}}}]},"done":false})",
              R"({"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"})",
          });
  auto events = data_events(out);
  ASSERT_EQ(events.size(), 2u) << out;
  JsonDoc call(events[0]), finish(events[1]);
  EXPECT_EQ(call.str("/choices/0/delta/role"), "assistant");
  EXPECT_FALSE(call.has("/choices/0/delta/content"));
  EXPECT_EQ(call.num("/choices/0/delta/tool_calls/0/index"), 0);
  EXPECT_EQ(call.str("/choices/0/delta/tool_calls/0/id"), "call_1");
  EXPECT_EQ(call.str("/choices/0/delta/tool_calls/0/function/name"), "get_weather");
  EXPECT_EQ(call.str("/choices/0/delta/tool_calls/0/function/arguments"), R"({"city":"Lviv"})");
  EXPECT_EQ(finish.str("/choices/0/finish_reason"), "tool_calls");
}

TEST_F(OllamaNativeTest, AnEmptyAnswerStillSaysWhoSpeaks) {
  auto t = begin();
  translate(*t, kHello, true);
  auto events = data_events(stream(
      *t, {R"({"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"})"}));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(JsonDoc(events[0]).str("/choices/0/delta/role"), "assistant");
  EXPECT_EQ(JsonDoc(events[1]).str("/choices/0/finish_reason"), "stop");
}

TEST_F(OllamaNativeTest, AnErrorLineFailsTheStream) {
  auto t = begin();
  translate(*t, kHello, true);
  std::string out = stream(*t, {R"({"message":{"role":"assistant","content":"Hi"},"done":false})"});
  EXPECT_EQ(t->event("", R"({"error":"model runner has unexpectedly stopped"})", out),
            TranslateStatus::Failed);
  EXPECT_EQ(t->message(),
            "transform_chunk: ollama: model runner has unexpectedly stopped");
}

TEST_F(OllamaNativeTest, ALineThatIsNotJsonFailsTheStream) {
  auto t = begin();
  translate(*t, kHello, true);
  std::string out;
  EXPECT_EQ(t->event("", "<html>", out), TranslateStatus::Failed);
  EXPECT_THAT(t->message(), HasSubstr("Ollama sent a line that is not JSON: <html>"));
}

TEST_F(OllamaNativeTest, AStreamThatEndsBeforeTheDoneLineIsNotComplete) {
  auto t = begin();
  translate(*t, kHello, true, true);
  std::string out = stream(*t, {R"({"message":{"role":"assistant","content":"Hi"},"done":false})"});
  out.clear();
  EXPECT_EQ(t->end(out), TranslateStatus::Failed);
  EXPECT_THAT(t->message(), HasSubstr("transform_end: the stream ended before Ollama's done line"));
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace sluice::test
