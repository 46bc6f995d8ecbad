// The mock provider itself (DESIGN §13: "mock providers that can fail on command"), driven by
// the same HttpClient the sluice tests use. When a sluice integration test fails, this file
// tells whether the tools or sluice are at fault.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class MockProviderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }
  MockProvider mock{mock_provider_binary()};
};

TEST_F(MockProviderTest, ChatCompletionEchoesModelAndLastUserMessage) {
  HttpClient c(mock.port());
  auto r = c.post_json("/v1/chat/completions", chat_body("phys-model", "hello mock"));
  ASSERT_TRUE(r) << c.error();
  ASSERT_EQ(r->status, 200) << r->describe();
  auto j = r->json();
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["object"].str(), "chat.completion");
  EXPECT_EQ((*j)["model"].str(), "phys-model");
  EXPECT_EQ((*j)["choices"][0]["message"]["content"].str(), "[phys-model] hello mock");
  EXPECT_GT((*j)["usage"]["total_tokens"].as_int(), 0);
}

TEST_F(MockProviderTest, StreamEndsWithUsageAndDone) {
  HttpClient c(mock.port());
  std::string body = R"({"model":"m","stream":true,"stream_options":{"include_usage":true},)"
                     R"("messages":[{"role":"user","content":"a b c"}]})";
  StreamResult s = c.stream_post("/v1/chat/completions", body, {{"x-mock-behavior", "chunks:3"}});
  ASSERT_TRUE(s.complete) << s.describe();
  // 3 content chunks, the finish chunk, the usage chunk, [DONE].
  ASSERT_EQ(s.events.size(), 6u) << s.describe();
  EXPECT_EQ(s.events.back().data, "[DONE]");
  auto usage = Json::parse(s.events[4].data);
  ASSERT_TRUE(usage);
  EXPECT_EQ((*usage)["usage"]["completion_tokens"].as_int(), 3);
  std::string text;
  for (size_t i = 0; i < 3; ++i)
    text += Json::parse(s.events[i].data).value_or(Json())["choices"][0]["delta"]["content"].str();
  EXPECT_EQ(text, "[m] a b c");
}

TEST_F(MockProviderTest, ControlRulesApplyToTheNextRequestsThenExpire) {
  ASSERT_TRUE(mock.control("status:503", 2));
  HttpClient c(mock.port());
  for (int expected : {503, 503, 200}) {
    auto r = c.post_json("/v1/chat/completions", chat_body("m", "x"));
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, expected) << r->describe();
  }
  auto seen = mock.requests();
  ASSERT_TRUE(seen);
  ASSERT_EQ(seen->size(), 3u);
  EXPECT_EQ((*seen)[0]["behavior"].str(), "status:503");
  EXPECT_EQ((*seen)[2]["path"].str(), "/v1/chat/completions");
  EXPECT_EQ((*seen)[2]["headers"]["content-type"].str(), "application/json");
  ASSERT_TRUE(mock.reset());
  EXPECT_EQ(mock.requests().value_or(Json()).size(), 0u);
}

TEST_F(MockProviderTest, RateLimitCarriesRetryAfter) {
  HttpClient c(mock.port());
  auto r =
      c.post_json("/v1/chat/completions", chat_body("m", "x"), {{"x-mock-behavior", "status:429"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->header("retry-after"), "1");
}

TEST_F(MockProviderTest, PipelinedRequestsAreAnsweredInOrder) {
  HttpClient c(mock.port());
  std::string all;
  for (const char* word : {"one", "two", "three"}) {
    std::string body = chat_body("m", word);
    all += "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  ASSERT_TRUE(c.send_raw(all));
  for (const char* word : {"one", "two", "three"}) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->json().value_or(Json())["choices"][0]["message"]["content"].str(),
              std::string("[m] ") + word);
  }
  EXPECT_EQ(c.connects(), 1);
}

TEST_F(MockProviderTest, CutStreamEndsAfterTwoEventsWithoutDone) {
  HttpClient c(mock.port());
  StreamResult s = c.stream_post("/v1/chat/completions", chat_body("m", "a b c d e", true),
                                 {{"x-mock-behavior", "cut"}});
  EXPECT_FALSE(s.complete);
  EXPECT_EQ(s.events.size(), 2u) << s.describe();
}

TEST_F(MockProviderTest, ResetAndHangAndGarbage) {
  HttpClient reset(mock.port());
  EXPECT_FALSE(reset.post_json("/v1/chat/completions", "{}", {{"x-mock-behavior", "reset"}}));
  EXPECT_TRUE(reset.was_reset()) << reset.error();

  HttpClient hang(mock.port());
  hang.set_timeout(300ms);
  EXPECT_FALSE(hang.post_json("/v1/chat/completions", "{}", {{"x-mock-behavior", "hang"}}));
  EXPECT_NE(hang.error().find("timeout"), std::string::npos) << hang.error();

  HttpClient garbage(mock.port());
  EXPECT_FALSE(garbage.post_json("/v1/chat/completions", "{}", {{"x-mock-behavior", "garbage"}}));
  EXPECT_NE(garbage.error().find("not an HTTP response"), std::string::npos) << garbage.error();

  // Still serving after all that.
  HttpClient ok(mock.port());
  auto r = ok.get("/v1/models");
  ASSERT_TRUE(r) << ok.error();
  EXPECT_EQ(r->status, 200);
}

TEST_F(MockProviderTest, SlowChunksArriveIncrementally) {
  HttpClient c(mock.port());
  StreamResult s = c.stream_post("/v1/chat/completions", chat_body("m", "a b c", true),
                                 {{"x-mock-behavior", "slow_chunks:200,chunks:3"}});
  ASSERT_TRUE(s.complete) << s.describe();
  ASSERT_GE(s.events.size(), 4u);
  EXPECT_GE(s.events.back().arrived - s.events.front().arrived, 400ms);
}

// ---- tool calls, stream oddities and `strict` (what translation tests lean on) --------------

// A weather tool in OpenAI's shape and in Anthropic's, with the same schema.
const char* kWeatherSchema =
    R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},)"
    R"("units":{"type":"string","enum":["c","f"]},"tags":{"type":"array"}},"required":["city"]})";

Json openai_tools() {
  return Json::parse(std::string(R"([{"type":"function","function":{"name":"get_weather",)") +
                     R"("description":"Weather","parameters":)" + kWeatherSchema +
                     R"(}},{"type":"function","function":{"name":"noop","parameters":{}}}])")
      .value();
}
Json anthropic_tools() {
  return Json::parse(std::string(R"([{"name":"get_weather","description":"Weather",)") +
                     R"("input_schema":)" + kWeatherSchema +
                     R"(},{"name":"noop","input_schema":{"type":"object"}}])")
      .value();
}

// What the mock derives from the prompt "Weather in Paris" for get_weather (tool_use.h).
const char* kWeatherArgs =
    R"({"city":"Weather in Paris","days":3,"units":"c","tags":["Weather","in","Paris"]})";

std::string with(const std::string& body_json, const std::string& key, const Json& value) {
  Json body = Json::parse(body_json).value();
  body.set(key, value);
  return body.dump();
}

// A streamed Anthropic answer put back together: blocks by index (type, text, tool id/name,
// partial_json joined), the stop_reason and output tokens of message_delta.
struct AnthropicStream {
  std::vector<Json> starts;
  std::vector<std::string> text;  // text or partial_json joined, per block
  std::string stop_reason;
  int64_t output_tokens = -1;
  std::vector<std::string> types;  // event names in order
};
AnthropicStream assemble_anthropic(const StreamResult& s) {
  AnthropicStream a;
  for (const SseEvent& e : s.events) {
    a.types.push_back(e.event);
    Json data = Json::parse(e.data).value_or(Json());
    if (e.event == "content_block_start") {
      a.starts.push_back(data["content_block"]);
      a.text.emplace_back();
    } else if (e.event == "content_block_delta") {
      const size_t i = static_cast<size_t>(data["index"].as_int());
      if (i >= a.text.size()) continue;
      const Json& d = data["delta"];
      a.text[i] += d["text"].str() + d["partial_json"].str() + d["thinking"].str();
    } else if (e.event == "message_delta") {
      a.stop_reason = data["delta"]["stop_reason"].str();
      a.output_tokens = data["usage"]["output_tokens"].as_int(-1);
    }
  }
  return a;
}

TEST_F(MockProviderTest, OpenAIToolsGetACallOfTheFirstToolWithArgumentsFromThePrompt) {
  HttpClient c(mock.port());
  auto r = c.post_json("/v1/chat/completions",
                       with(chat_body("m", "Weather in Paris"), "tools", openai_tools()));
  ASSERT_TRUE(r) << c.error();
  ASSERT_EQ(r->status, 200) << r->describe();
  Json j = r->json().value_or(Json());
  const Json& choice = j["choices"][0];
  EXPECT_EQ(choice["finish_reason"].str(), "tool_calls");
  EXPECT_TRUE(choice["message"]["content"].is_null());
  ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u) << r->describe();
  const Json& call = choice["message"]["tool_calls"][0];
  EXPECT_EQ(call["id"].str(), "call_mock_1_0");
  EXPECT_EQ(call["type"].str(), "function");
  EXPECT_EQ(call["function"]["name"].str(), "get_weather");
  EXPECT_EQ(call["function"]["arguments"].str(), kWeatherArgs);

  // tool_choice names the second tool; "none" gets text.
  Json named = Json::parse(R"({"type":"function","function":{"name":"noop"}})").value();
  r = c.post_json("/v1/chat/completions",
                  with(with(chat_body("m", "x"), "tools", openai_tools()), "tool_choice", named));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->json()
                .value_or(Json())["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
                .str(),
            R"({"input":"x"})");
  r = c.post_json("/v1/chat/completions",
                  with(with(chat_body("m", "x"), "tools", openai_tools()), "tool_choice", "none"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->json().value_or(Json())["choices"][0]["message"]["content"].str(), "[m] x");
}

TEST_F(MockProviderTest, OpenAIStreamedToolCallsAddUpToTheArguments) {
  HttpClient c(mock.port());
  std::string body = with(with(chat_body("m", "Weather in Paris", true), "tools", openai_tools()),
                          "stream_options", Json::parse(R"({"include_usage":true})").value());
  StreamResult s = c.stream_post("/v1/chat/completions", body,
                                 {{"x-mock-behavior", "tool_calls:2,arg_chunk:5"}});
  ASSERT_TRUE(s.complete) << s.describe();
  std::string args[2];
  std::string ids[2], names[2];
  std::string finish;
  int64_t completion_tokens = -1;
  for (const SseEvent& e : s.events) {
    if (e.data == "[DONE]") continue;
    Json chunk = Json::parse(e.data).value_or(Json());
    if (chunk["usage"].is_object())
      completion_tokens = chunk["usage"]["completion_tokens"].as_int();
    const Json& choice = chunk["choices"][0];
    if (choice["finish_reason"].is_string()) finish = choice["finish_reason"].str();
    for (const Json& tc : choice["delta"]["tool_calls"].items()) {
      const size_t i = static_cast<size_t>(tc["index"].as_int());
      ASSERT_LT(i, 2u) << e.data;
      if (tc["id"].is_string()) ids[i] = tc["id"].str();
      if (tc["function"]["name"].is_string()) names[i] = tc["function"]["name"].str();
      args[i] += tc["function"]["arguments"].str();
    }
  }
  EXPECT_EQ(finish, "tool_calls");
  EXPECT_EQ(ids[0], "call_mock_1_0");
  EXPECT_EQ(names[0], "get_weather");
  EXPECT_EQ(args[0], kWeatherArgs);
  EXPECT_EQ(ids[1], "call_mock_1_1");
  EXPECT_EQ(names[1], "noop");
  EXPECT_EQ(args[1], R"({"input":"Weather in Paris"})");
  // One output token per fragment: ceil(80 / 5) + ceil(28 / 5).
  EXPECT_EQ(completion_tokens, 16 + 6);
}

TEST_F(MockProviderTest, OpenAIToolResultsAreAnsweredAndStrictChecksThePairing) {
  MockProvider strict(mock_provider_binary(), {"--behavior", "strict"});
  ASSERT_TRUE(strict.ok());
  HttpClient c(strict.port());
  Json messages = Json::parse(R"([{"role":"user","content":"Weather in Paris"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
        "function":{"name":"get_weather","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"sunny, 21C"}])")
                      .value();
  Json body = Json::object();
  body.set("model", "m");
  body.set("messages", messages);
  body.set("tools", openai_tools());
  auto r = c.post_json("/v1/chat/completions", body.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->json().value_or(Json())["choices"][0]["message"]["content"].str(), "[m] sunny, 21C");
  EXPECT_EQ(r->json().value_or(Json())["choices"][0]["finish_reason"].str(), "stop");

  // A tool message answering no call; a call left unanswered; an Anthropic-only field.
  std::string orphan = body.dump();
  orphan.replace(orphan.find(R"("tool_call_id":"call_1")"), 23, R"("tool_call_id":"call_9")");
  r = c.post_json("/v1/chat/completions", orphan);
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 400, "invalid_request_error")) << r->describe();
  EXPECT_EQ(r->json().value_or(Json())["error"]["param"].str(), "messages.[2].role");

  Json unanswered = Json::object();
  unanswered.set("model", "m");
  unanswered.set("messages",
                 Json::array()
                     .push_back(messages[0])
                     .push_back(messages[1])
                     .push_back(Json::parse(R"({"role":"user","content":"and?"})").value()));
  r = c.post_json("/v1/chat/completions", unanswered.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->describe();
  EXPECT_NE(r->body.find("did not have response messages: call_1"), std::string::npos)
      << r->describe();

  r = c.post_json("/v1/chat/completions", with(chat_body("m", "x"), "top_k", 5));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->describe();
  EXPECT_NE(r->body.find("Unrecognized request argument supplied: top_k"), std::string::npos);
}

TEST_F(MockProviderTest, OpenAIErrorEventAndCutInsideAToolCall) {
  HttpClient c(mock.port());
  StreamResult s = c.stream_post("/v1/chat/completions", chat_body("m", "a b c d", true),
                                 {{"x-mock-behavior", "error_event"}});
  ASSERT_TRUE(s.complete) << s.describe();  // the body ends properly, after the error
  ASSERT_EQ(s.events.size(), 2u) << s.describe();
  EXPECT_EQ(Json::parse(s.events[1].data).value_or(Json())["error"]["type"].str(), "server_error");

  s = c.stream_post("/v1/chat/completions",
                    with(chat_body("m", "Weather in Paris", true), "tools", openai_tools()),
                    {{"x-mock-behavior", "cut_in_tool"}});
  EXPECT_FALSE(s.complete);
  ASSERT_GE(s.events.size(), 2u) << s.describe();
  EXPECT_NE(s.events.back().data.find("\"arguments\""), std::string::npos) << s.describe();
  EXPECT_EQ(s.events.back().data.find("finish_reason\":\"tool_calls"), std::string::npos);
}

TEST_F(MockProviderTest, AnthropicToolUseJsonAndStreamAgree) {
  HttpClient c(mock.port());
  std::string body =
      with(messages_body("claude-x", "Weather in Paris"), "tools", anthropic_tools());
  auto r = c.post_json("/v1/messages", body, {{"x-mock-behavior", "tool_preamble"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  Json j = r->json().value_or(Json());
  EXPECT_EQ(j["stop_reason"].str(), "tool_use");
  ASSERT_EQ(j["content"].size(), 2u) << r->describe();
  EXPECT_EQ(j["content"][0]["text"].str(), "Let me call get_weather.");
  EXPECT_EQ(j["content"][1]["type"].str(), "tool_use");
  EXPECT_EQ(j["content"][1]["id"].str(), "toolu_mock_1_0");
  EXPECT_EQ(j["content"][1]["name"].str(), "get_weather");
  EXPECT_EQ(j["content"][1]["input"].dump(), kWeatherArgs);
  const int64_t json_tokens = j["usage"]["output_tokens"].as_int();

  StreamResult s = c.stream_post("/v1/messages", with(body, "stream", true),
                                 {{"x-mock-behavior", "tool_preamble"}});
  ASSERT_TRUE(s.complete) << s.describe();
  AnthropicStream a = assemble_anthropic(s);
  ASSERT_EQ(a.starts.size(), 2u) << s.describe();
  EXPECT_EQ(a.text[0], "Let me call get_weather.");
  EXPECT_EQ(a.starts[1]["type"].str(), "tool_use");
  EXPECT_EQ(a.starts[1]["id"].str(), "toolu_mock_2_0");
  EXPECT_EQ(a.starts[1]["input"].dump(), "{}");
  EXPECT_EQ(a.text[1], kWeatherArgs);
  EXPECT_EQ(a.stop_reason, "tool_use");
  EXPECT_EQ(a.output_tokens, json_tokens);
  EXPECT_EQ(a.types.back(), "message_stop");
}

TEST_F(MockProviderTest, AnthropicHugeArgumentsComeInManySmallUtf8SafeDeltas) {
  HttpClient c(mock.port());
  std::string body =
      with(with(messages_body("c", "Grüße aus 東京", true), "tools", anthropic_tools()),
           "tool_choice", Json::parse(R"({"type":"tool","name":"noop"})").value());
  StreamResult s =
      c.stream_post("/v1/messages", body, {{"x-mock-behavior", "pad:100000,arg_chunk:3"}});
  ASSERT_TRUE(s.complete) << s.describe();
  AnthropicStream a = assemble_anthropic(s);
  ASSERT_EQ(a.starts.size(), 1u);
  EXPECT_EQ(a.starts[0]["name"].str(), "noop");
  EXPECT_GT(s.events.size(), 33'000u);
  auto input = Json::parse(a.text[0]);
  ASSERT_TRUE(input) << a.text[0].substr(0, 200);
  EXPECT_EQ((*input)["input"].str(), "Grüße aus 東京");
  EXPECT_EQ((*input)["padding"].str().size(), 100'000u);
  // One token per fragment: every event but message_start, content_block_start, ping, the
  // empty first input_json_delta, content_block_stop, message_delta and message_stop.
  EXPECT_EQ(a.output_tokens, static_cast<int64_t>(s.events.size()) - 7);
}

TEST_F(MockProviderTest, AnthropicToolResultIsAnsweredInText) {
  HttpClient c(mock.port());
  Json body = Json::parse(R"({"model":"c","max_tokens":64,"messages":[
      {"role":"user","content":"Weather in Paris"},
      {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",
        "content":[{"type":"text","text":"sunny"},{"type":"text","text":"21C"}]}]}]})")
                  .value();
  body.set("tools", anthropic_tools());
  auto r = c.post_json("/v1/messages", body.dump());
  ASSERT_TRUE(r);
  Json j = r->json().value_or(Json());
  EXPECT_EQ(j["stop_reason"].str(), "end_turn") << r->describe();
  EXPECT_EQ(j["content"][0]["text"].str(), "[c] sunny 21C");
}

TEST_F(MockProviderTest, AnthropicErrorEventCutInToolAndUnknownEvents) {
  HttpClient c(mock.port());
  StreamResult s = c.stream_post("/v1/messages", messages_body("c", "a b c", true),
                                 {{"x-mock-behavior", "error_event"}});
  ASSERT_TRUE(s.complete) << s.describe();
  ASSERT_FALSE(s.events.empty());
  EXPECT_EQ(s.events.back().event, "error");
  EXPECT_EQ(Json::parse(s.events.back().data).value_or(Json())["error"]["type"].str(),
            "overloaded_error");
  EXPECT_EQ(s.events[s.events.size() - 2].event, "content_block_delta");

  std::string tools =
      with(messages_body("c", "Weather in Paris", true), "tools", anthropic_tools());
  s = c.stream_post("/v1/messages", tools, {{"x-mock-behavior", "cut_in_tool"}});
  EXPECT_FALSE(s.complete);
  AnthropicStream a = assemble_anthropic(s);
  ASSERT_EQ(a.starts.size(), 1u) << s.describe();
  EXPECT_EQ(a.starts[0]["type"].str(), "tool_use");
  EXPECT_FALSE(a.text[0].empty());
  EXPECT_FALSE(Json::parse(a.text[0]));  // half the arguments: not JSON yet
  EXPECT_EQ(a.types.back(), "content_block_delta");

  s = c.stream_post("/v1/messages", messages_body("c", "a b", true),
                    {{"x-mock-behavior", "unknown_events,thinking"}});
  ASSERT_TRUE(s.complete) << s.describe();
  a = assemble_anthropic(s);
  ASSERT_EQ(a.starts.size(), 3u) << s.describe();
  EXPECT_EQ(a.starts[0]["type"].str(), "thinking");
  EXPECT_EQ(a.starts[1]["type"].str(), "mock_future_block");
  EXPECT_EQ(a.text[2], "[c] a b");
  EXPECT_NE(std::find(a.types.begin(), a.types.end(), "mock_future_event"), a.types.end());
  auto r = c.post_json("/v1/messages", messages_body("c", "a b"),
                       {{"x-mock-behavior", "unknown_events"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->json().value_or(Json())["content"][0]["type"].str(), "mock_future_block");
  EXPECT_EQ(r->json().value_or(Json())["content"][1]["text"].str(), "[c] a b");
}

TEST_F(MockProviderTest, AnthropicStrictRefusesWhatTheRealApiRefuses) {
  MockProvider strict(mock_provider_binary(), {"--behavior", "strict"});
  ASSERT_TRUE(strict.ok());
  HttpClient c(strict.port());
  auto message_of = [&](const std::string& body) {
    auto r = c.post_json("/v1/messages", body);
    if (!r) return std::string("no response");
    if (r->status != 400) return "status " + std::to_string(r->status);
    return r->json().value_or(Json())["error"]["message"].str();
  };
  const std::string ok = messages_body("c", "hi");
  EXPECT_EQ(message_of(with(ok, "n", 2)), "n: Extra inputs are not permitted");
  EXPECT_EQ(message_of(with(ok, "stream_options", Json::object())),
            "stream_options: Extra inputs are not permitted");
  EXPECT_EQ(
      message_of(with(ok, "messages", Json::parse(R"([{"role":"system","content":"s"}])").value())),
      "messages.0.role: Input should be 'user' or 'assistant'");
  EXPECT_EQ(message_of(with(
                ok, "messages",
                Json::parse(R"([{"role":"user","content":[{"type":"text","text":""}]}])").value())),
            "messages: text content blocks must be non-empty");
  EXPECT_EQ(message_of(with(ok, "messages",
                            Json::parse(R"([{"role":"user","content":[{"type":"image",
          "source":{"type":"base64","media_type":"image/bmp","data":"AAAA"}}]}])")
                                .value())),
            "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', "
            "'image/png', 'image/gif' or 'image/webp'");
  EXPECT_NE(message_of(with(ok, "messages",
                            Json::parse(R"([{"role":"user","content":"x"},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"t","input":{}}]},
          {"role":"user","content":"no result"}])")
                                .value()))
                .find("`tool_use` ids were found without `tool_result` blocks"),
            std::string::npos);
  EXPECT_EQ(
      message_of(with(ok, "tools", Json::parse(R"([{"name":"a b","input_schema":{}}])").value())),
      "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'");
  // A valid request with every block kind a translation produces passes.
  auto r = c.post_json("/v1/messages", with(with(ok, "system", "be brief"), "messages",
                                            Json::parse(R"([{"role":"user","content":[
          {"type":"text","text":"look"},
          {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},
          {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0K"}}]},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"t","input":{}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"r"}]}])")
                                                .value()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
}

}  // namespace
}  // namespace sluice::test
