// Any client to any model (issue 12, DESIGN §9 "Providers and tools as plugins"): OpenAI-shaped
// requests (/v1/chat/completions) to a model served by an `anthropic`-type provider, and
// Anthropic-shaped requests (/v1/messages) to a model served by an `openai`-type provider,
// translated both ways by plugins/anthropic (libsluice_anthropic.so) and core's translation
// wiring (core/providers/translation.h). The provider is tests/support's mock in `strict` mode:
// it refuses what the real API refuses (an OpenAI field in a Messages request, a tool_result
// that answers no tool_use, an empty text block, ...), so a test that gets an answer also proves
// that the translated request was valid. Each test checks what the client got and what the
// provider received (the mock records every request).
//
// WAITS ON THE PLUGIN: every test here needs plugins/anthropic (the core wiring of issue 12 is
// on main: core/providers/attempt_translator.h). Until <build>/plugins/libsluice_anthropic.so
// exists (or SLUICE_TEST_ANTHROPIC_PLUGIN names one), the fixture skips each test with that
// reason; once the plugin is built they run and must pass. Expected behaviour comes from
// sdk/include/sluice/plugin.h (ABI 1.1 "providers"), core/providers/translation.h,
// docs/anthropic.md and docs/policies.md (retry, fallback, error events).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAnthropicKey = "sk-ant-provider-secret-tr4n5";
constexpr const char* kClaudeModel = "sonnet";  // group → the anthropic-type provider `claude`
constexpr const char* kClaudePhysical = "mock-claude-physical-t";
constexpr const char* kClaudeOrFast = "sonnet_or_fast";  // claude, then the group `fast`

// The plugin under test: next to the sluice binary, as the build lays it out.
std::string anthropic_plugin_path() {
  const char* other = std::getenv("SLUICE_TEST_ANTHROPIC_PLUGIN");
  if (other != nullptr && other[0] != '\0') return other;
  return (std::filesystem::path(sluice_binary()).parent_path() / "plugins" /
          "libsluice_anthropic.so")
      .string();
}

// True when `a` and `b` are the same JSON value, object members in any order.
bool same_json(const Json& a, const Json& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Json::Kind::Null:
      return true;
    case Json::Kind::Bool:
      return a.as_bool() == b.as_bool();
    case Json::Kind::Number:
      return a.as_number() == b.as_number();
    case Json::Kind::String:
      return a.str() == b.str();
    case Json::Kind::Array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!same_json(a[i], b[i])) return false;
      return true;
    case Json::Kind::Object:
      if (a.size() != b.size()) return false;
      for (const auto& [key, value] : a.members())
        if (!b.contains(key) || !same_json(value, b[key])) return false;
      return true;
  }
  return false;
}

Json parse(std::string_view text) {
  return Json::parse(text).value_or(Json());
}

// The weather tool's schema, and the arguments the mock derives from a prompt for it
// (tests/support/mock/tool_use.h: string → the prompt, integer → its word count, enum → the
// first value).
const char* kWeatherSchema =
    R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},)"
    R"("units":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]})";

Json weather_args(const std::string& prompt) {
  Json args = Json::object();
  args.set("city", prompt);
  int words = 0;
  bool in_word = false;
  for (char c : prompt) {
    const bool space = c == ' ';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  args.set("days", words);
  args.set("units", "celsius");
  return args;
}

Json openai_tools() {
  return parse(
      std::string(R"([{"type":"function","function":{"name":"get_weather",)") +
      R"("description":"Weather forecast","parameters":)" + kWeatherSchema +
      R"(}},{"type":"function","function":{"name":"noop","parameters":{"type":"object"}}}])");
}
Json anthropic_tools() {
  return parse(std::string(R"([{"name":"get_weather","description":"Weather forecast",)") +
               R"("input_schema":)" + kWeatherSchema +
               R"(},{"name":"noop","input_schema":{"type":"object"}}])");
}

// `body` (JSON text) with `key` set to `value`.
std::string with(const std::string& body, const std::string& key, const Json& value) {
  Json j = parse(body);
  j.set(key, value);
  return j.dump();
}

// The text of an Anthropic `system`/`content` or an OpenAI `content`: a string, or its text
// blocks/parts joined.
std::string text_of(const Json& content) {
  if (content.is_string()) return content.str();
  std::string out;
  for (const Json& part : content.items())
    if (part["type"].str() == "text") out += part["text"].str();
  return out;
}

// An OpenAI chat stream put back together.
struct ChatStream {
  std::string content;
  std::string finish_reason;
  std::vector<Json> tool_calls;  // {id, name, arguments} by index
  Json usage;                    // the last usage object seen
  Json error;                    // an error chunk's `error`
  bool done = false;             // [DONE] arrived
  bool anything_after_error = false;
};
ChatStream assemble_chat(const StreamResult& s) {
  ChatStream c;
  for (const SseEvent& e : s.events) {
    if (!c.error.is_null() && e.data != "[DONE]") c.anything_after_error = true;
    if (e.data == "[DONE]") {
      c.done = true;
      continue;
    }
    Json chunk = parse(e.data);
    if (chunk["error"].is_object()) {
      c.error = chunk["error"];
      continue;
    }
    if (chunk["usage"].is_object()) c.usage = chunk["usage"];
    const Json& choice = chunk["choices"][0];
    if (choice["finish_reason"].is_string()) c.finish_reason = choice["finish_reason"].str();
    c.content += choice["delta"]["content"].str();
    for (const Json& tc : choice["delta"]["tool_calls"].items()) {
      const size_t i = static_cast<size_t>(tc["index"].as_int(-1));
      if (i > 16) continue;
      while (c.tool_calls.size() <= i) {
        Json call = Json::object();
        call.set("id", "");
        call.set("name", "");
        call.set("arguments", "");
        c.tool_calls.push_back(call);
      }
      Json& call = c.tool_calls[i];
      if (tc["id"].is_string()) call.set("id", tc["id"].str());
      if (tc["function"]["name"].is_string()) call.set("name", tc["function"]["name"].str());
      call.set("arguments", call["arguments"].str() + tc["function"]["arguments"].str());
    }
  }
  return c;
}

// An Anthropic stream put back together.
struct MessageStream {
  std::vector<std::string> types;  // event names, in order
  std::vector<Json> blocks;        // content_block_start's content_block, by index
  std::vector<std::string> text;   // text / partial_json joined, by index
  std::string stop_reason;
  Json start_usage;  // message_start's message.usage
  Json delta_usage;  // message_delta's usage
  Json error;        // an `error` event's data
};
MessageStream assemble_messages(const StreamResult& s) {
  MessageStream m;
  for (const SseEvent& e : s.events) {
    m.types.push_back(e.event);
    Json data = parse(e.data);
    if (e.event == "message_start") {
      m.start_usage = data["message"]["usage"];
    } else if (e.event == "content_block_start") {
      const size_t i = static_cast<size_t>(data["index"].as_int());
      if (i > 16) continue;
      m.blocks.resize(std::max(m.blocks.size(), i + 1));
      m.text.resize(m.blocks.size());
      m.blocks[i] = data["content_block"];
    } else if (e.event == "content_block_delta") {
      const size_t i = static_cast<size_t>(data["index"].as_int());
      if (i >= m.text.size()) continue;
      m.text[i] += data["delta"]["text"].str() + data["delta"]["partial_json"].str();
    } else if (e.event == "message_delta") {
      m.stop_reason = data["delta"]["stop_reason"].str();
      m.delta_usage = data["usage"];
    } else if (e.event == "error") {
      m.error = data;
    }
  }
  return m;
}

class AnthropicTranslationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(plugin_))
      GTEST_SKIP() << "waits on plugins/anthropic (issue 12): " << plugin_ << " is not built";
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.extra_providers = "  claude:\n    type: anthropic\n    base_url: " + mock.base_url() +
                             "\n    api_key: " + kAnthropicKey + "\n";
    config.extra_models = std::string("  ") + kClaudeModel +
                          ":\n    targets:\n      - {provider: claude, model: " + kClaudePhysical +
                          "}\n  " + kClaudeOrFast +
                          ":\n    targets:\n      - {provider: claude, model: " + kClaudePhysical +
                          "}\n    fallbacks: [" + kFastModel + "]\n";
    config.extra = "plugins:\n  anthropic: {file: " + json_quote(plugin_) + "}\n";
    std::string yaml = config.to_yaml();
    // retry after model_alias (DESIGN §4's order); a ledger the tests read back.
    const std::string alias = "  - model_alias: {}\n";
    yaml.replace(yaml.find(alias), alias.size(),
                 alias +
                     "  - retry: {attempts: 2, backoff: {base: 5ms, max: 20ms}, "
                     "fallback: true}\n");
    const std::string state = "state: {ledger: \"\"}\n";
    yaml.replace(yaml.find(state), state.size(),
                 "state: {ledger: " + json_quote(ledger()) + ", flush_interval: 10ms}\n");
    ASSERT_TRUE(sluice.start(sluice_binary(), yaml));
  }

  std::string ledger() const { return sluice.dir().file("ledger.db"); }

  // An OpenAI client (bob may use every model).
  std::optional<HttpResponse> chat(const std::string& body) {
    HttpClient client = sluice.client();
    auto r = client.post_json("/v1/chat/completions", body, bearer(kBobKey));
    EXPECT_TRUE(r) << client.error() << "\n" << sluice.describe();
    return r;
  }
  StreamResult chat_stream(const std::string& body) {
    return sluice.client().stream_post("/v1/chat/completions", body, bearer(kBobKey));
  }
  // An Anthropic client: its key as x-api-key, and the API version.
  Headers anthropic_headers() const {
    return {{"x-api-key", kBobKey}, {"anthropic-version", "2023-06-01"}};
  }
  std::optional<HttpResponse> messages(const std::string& body) {
    HttpClient client = sluice.client();
    auto r = client.post_json("/v1/messages", body, anthropic_headers());
    EXPECT_TRUE(r) << client.error() << "\n" << sluice.describe();
    return r;
  }
  StreamResult messages_stream(const std::string& body) {
    return sluice.client().stream_post("/v1/messages", body, anthropic_headers());
  }

  // The last request the mock received, and its body parsed.
  Json upstream() { return last_upstream_request(mock); }
  Json upstream_body() { return parse(upstream()["body"].str()); }
  // The statuses the mock answered on `path`, oldest first.
  std::vector<int64_t> upstream_statuses(const std::string& path) {
    std::vector<int64_t> out;
    const Json all = mock.requests().value_or(Json());
    for (const Json& r : all.items())
      if (r["path"].str() == path) out.push_back(r["reply_status"].as_int());
    return out;
  }
  // The translated request reached the provider and the strict mock accepted it.
  ::testing::AssertionResult provider_accepted() {
    Json seen = upstream();
    if (seen.is_null()) return ::testing::AssertionFailure() << "nothing reached the provider";
    if (seen["reply_status"].as_int() != 200)
      return ::testing::AssertionFailure()
             << "the provider refused the translated request: " << seen["reply_body"].str()
             << "\nrequest: " << seen["body"].str();
    return ::testing::AssertionSuccess();
  }
  // What an anthropic-type request upstream must carry: the provider's key as x-api-key, the
  // pinned API version, and nothing of the agent's credentials.
  void expect_anthropic_auth(const Json& seen) {
    EXPECT_EQ(seen["path"].str(), "/v1/messages");
    EXPECT_EQ(seen["headers"]["x-api-key"].str(), kAnthropicKey);
    EXPECT_EQ(seen["headers"]["anthropic-version"].str(), "2023-06-01");
    EXPECT_TRUE(seen["headers"]["authorization"].is_null()) << seen.dump();
    EXPECT_EQ(seen.dump().find(kBobKey), std::string::npos) << "the agent key went upstream";
  }
  void expect_openai_auth(const Json& seen) {
    EXPECT_EQ(seen["path"].str(), "/v1/chat/completions");
    EXPECT_EQ(seen["headers"]["authorization"].str(), std::string("Bearer ") + kProviderApiKey);
    EXPECT_TRUE(seen["headers"]["x-api-key"].is_null()) << seen.dump();
    EXPECT_EQ(seen.dump().find(kBobKey), std::string::npos) << "the agent key went upstream";
  }

  std::string plugin_ = anthropic_plugin_path();
  MockProvider mock{mock_provider_binary(), {"--behavior", "strict"}};
  SluiceServer sluice;
};

// ==== OpenAI client → anthropic-type provider ================================================

TEST_F(AnthropicTranslationTest, ChatJsonGoesUpAsAMessagesRequestAndComesBackAsAChatCompletion) {
  Json body = parse(R"({"model":"sonnet","messages":[
      {"role":"system","content":"Be brief."},
      {"role":"developer","content":"Answer in English."},
      {"role":"user","content":"hello claude"},
      {"role":"assistant","content":"hi, what do you need?"},
      {"role":"user","content":[{"type":"text","text":"the weather"}]}],
      "temperature":0.5,"stop":["END"],"user":"u-1"})");
  auto r = chat(body.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  Json j = r->json().value_or(Json());
  EXPECT_EQ(j["object"].str(), "chat.completion");
  EXPECT_EQ(j["model"].str(), kClaudePhysical);
  EXPECT_EQ(j["choices"][0]["message"]["role"].str(), "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"].str(),
            std::string("[") + kClaudePhysical + "] the weather");
  EXPECT_EQ(j["choices"][0]["finish_reason"].str(), "stop");
  EXPECT_GT(j["usage"]["prompt_tokens"].as_int(), 0);
  EXPECT_EQ(j["usage"]["completion_tokens"].as_int(), 3);
  EXPECT_EQ(r->header("x-sluice-provider"), "claude");
  EXPECT_EQ(r->header("x-sluice-model"), kClaudePhysical);

  ASSERT_TRUE(provider_accepted());
  Json seen = upstream();
  expect_anthropic_auth(seen);
  Json sent = parse(seen["body"].str());
  EXPECT_EQ(sent["model"].str(), kClaudePhysical);
  // System and developer messages go to `system`; the conversation keeps user/assistant turns.
  EXPECT_NE(text_of(sent["system"]).find("Be brief."), std::string::npos) << sent.dump();
  EXPECT_NE(text_of(sent["system"]).find("Answer in English."), std::string::npos);
  ASSERT_EQ(sent["messages"].size(), 3u) << sent.dump();
  EXPECT_EQ(sent["messages"][0]["role"].str(), "user");
  EXPECT_EQ(text_of(sent["messages"][0]["content"]), "hello claude");
  EXPECT_EQ(sent["messages"][1]["role"].str(), "assistant");
  EXPECT_EQ(text_of(sent["messages"][2]["content"]), "the weather");
  EXPECT_EQ(sent["temperature"].as_number(), 0.5);
  EXPECT_EQ(sent["stop_sequences"][0].str(), "END");
  // The strict mock refuses any field Anthropic does not know (user, stop, n, ...): the answer
  // above proves they were mapped or dropped.
}

TEST_F(AnthropicTranslationTest, MaxTokensIsCarriedOverOrDefaulted) {
  ASSERT_TRUE(chat(with(chat_body(kClaudeModel, "a"), "max_tokens", 77)));
  ASSERT_TRUE(provider_accepted());
  EXPECT_EQ(upstream_body()["max_tokens"].as_int(), 77);

  ASSERT_TRUE(chat(with(chat_body(kClaudeModel, "b"), "max_completion_tokens", 55)));
  ASSERT_TRUE(provider_accepted());
  EXPECT_EQ(upstream_body()["max_tokens"].as_int(), 55);

  // Anthropic requires max_tokens: a request without one gets the translation's default.
  ASSERT_TRUE(chat(chat_body(kClaudeModel, "c")));
  ASSERT_TRUE(provider_accepted());
  EXPECT_GE(upstream_body()["max_tokens"].as_int(), 1) << upstream_body().dump();
}

TEST_F(AnthropicTranslationTest, ChatStreamIsTranslatedEventByEventWithTheUsageChunkWhenAsked) {
  std::string body = with(chat_body(kClaudeModel, "stream these four words", true),
                          "stream_options", parse(R"({"include_usage":true})"));
  StreamResult s = chat_stream(body);
  ASSERT_TRUE(s.complete) << s.describe();
  EXPECT_NE(s.head->header("content-type").find("text/event-stream"), std::string::npos);
  ChatStream c = assemble_chat(s);
  EXPECT_EQ(c.content, std::string("[") + kClaudePhysical + "] stream these four words");
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_TRUE(c.done) << s.describe();
  EXPECT_TRUE(c.error.is_null()) << s.describe();
  EXPECT_EQ(c.usage["completion_tokens"].as_int(), 5) << s.describe();
  EXPECT_GT(c.usage["prompt_tokens"].as_int(), 0);
  EXPECT_EQ(s.events.back().data, "[DONE]");
  for (const SseEvent& e : s.events) {
    if (e.data == "[DONE]") continue;
    Json chunk = parse(e.data);
    EXPECT_EQ(chunk["object"].str(), "chat.completion.chunk") << e.data;
    EXPECT_EQ(chunk["model"].str(), kClaudePhysical) << e.data;
  }
  ASSERT_TRUE(provider_accepted());
  Json sent = upstream_body();
  EXPECT_TRUE(sent["stream"].as_bool());
  EXPECT_FALSE(sent.contains("stream_options"));

  // Not asked: no usage chunk reaches the client.
  s = chat_stream(chat_body(kClaudeModel, "no usage please", true));
  ASSERT_TRUE(s.complete) << s.describe();
  for (const SseEvent& e : s.events) EXPECT_FALSE(parse(e.data)["usage"].is_object()) << e.data;
}

TEST_F(AnthropicTranslationTest, ChatToolsJsonComeBackAsToolCalls) {
  const std::string prompt = "Weather in Paris";
  Json named = parse(R"({"type":"function","function":{"name":"noop"}})");
  auto r = chat(with(chat_body(kClaudeModel, prompt), "tools", openai_tools()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  ASSERT_TRUE(provider_accepted());
  Json sent = upstream_body();
  ASSERT_EQ(sent["tools"].size(), 2u) << sent.dump();
  EXPECT_EQ(sent["tools"][0]["name"].str(), "get_weather");
  EXPECT_EQ(sent["tools"][0]["description"].str(), "Weather forecast");
  EXPECT_TRUE(same_json(sent["tools"][0]["input_schema"], parse(kWeatherSchema)))
      << sent["tools"][0].dump();

  Json j = r->json().value_or(Json());
  const Json& message = j["choices"][0]["message"];
  EXPECT_EQ(j["choices"][0]["finish_reason"].str(), "tool_calls");
  ASSERT_EQ(message["tool_calls"].size(), 1u) << r->describe();
  const Json& call = message["tool_calls"][0];
  const Json reply = parse(upstream()["reply_body"].str());
  EXPECT_EQ(call["id"].str(), reply["content"][0]["id"].str()) << "the tool_use id";
  EXPECT_EQ(call["type"].str(), "function");
  EXPECT_EQ(call["function"]["name"].str(), "get_weather");
  ASSERT_TRUE(call["function"]["arguments"].is_string());
  EXPECT_TRUE(same_json(parse(call["function"]["arguments"].str()), weather_args(prompt)))
      << call.dump();

  // tool_choice: a named function → {"type":"tool","name"}; "required" → {"type":"any"}.
  r = chat(with(with(chat_body(kClaudeModel, "x"), "tools", openai_tools()), "tool_choice", named));
  ASSERT_TRUE(r);
  ASSERT_TRUE(provider_accepted());
  EXPECT_EQ(upstream_body()["tool_choice"]["type"].str(), "tool");
  EXPECT_EQ(upstream_body()["tool_choice"]["name"].str(), "noop");
  EXPECT_EQ(r->json()
                .value_or(Json())["choices"][0]["message"]["tool_calls"][0]["function"]["name"]
                .str(),
            "noop");
  r = chat(
      with(with(chat_body(kClaudeModel, "x"), "tools", openai_tools()), "tool_choice", "required"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(provider_accepted());
  EXPECT_EQ(upstream_body()["tool_choice"]["type"].str(), "any");
}

TEST_F(AnthropicTranslationTest, ChatToolCallsStreamAsDeltasWithOpenAIIndexes) {
  // Anthropic blocks: text (index 0), get_weather (1), noop (2) → OpenAI content, then tool
  // calls 0 and 1, their arguments in many small deltas.
  ASSERT_TRUE(mock.control("tool_calls:2,tool_preamble,arg_chunk:3", 1, "/v1/messages"));
  const std::string prompt = "Weather in Rome";
  std::string body = with(with(chat_body(kClaudeModel, prompt, true), "tools", openai_tools()),
                          "stream_options", parse(R"({"include_usage":true})"));
  StreamResult s = chat_stream(body);
  ASSERT_TRUE(s.complete) << s.describe();
  ChatStream c = assemble_chat(s);
  EXPECT_EQ(c.content, "Let me call get_weather.");
  EXPECT_EQ(c.finish_reason, "tool_calls");
  ASSERT_EQ(c.tool_calls.size(), 2u) << s.describe();
  EXPECT_EQ(c.tool_calls[0]["name"].str(), "get_weather");
  EXPECT_TRUE(same_json(parse(c.tool_calls[0]["arguments"].str()), weather_args(prompt)))
      << c.tool_calls[0].dump();
  EXPECT_EQ(c.tool_calls[1]["name"].str(), "noop");
  EXPECT_TRUE(same_json(parse(c.tool_calls[1]["arguments"].str()),
                        parse(R"({"input":"Weather in Rome"})")));
  EXPECT_NE(c.tool_calls[0]["id"].str(), c.tool_calls[1]["id"].str());
  EXPECT_NE(upstream()["reply_body"].str().find("\"id\":\"" + c.tool_calls[0]["id"].str() + "\""),
            std::string::npos)
      << "tool call ids are the provider's tool_use ids";
  EXPECT_GT(s.events.size(), 20u) << "the arguments were not relayed delta by delta";
  EXPECT_GT(c.usage["completion_tokens"].as_int(), 0);
}

TEST_F(AnthropicTranslationTest, ToolResultsGoBackAsToolResultBlocksInOneUserMessage) {
  // Two parallel calls answered by two tool messages: Anthropic wants both tool_result blocks
  // in the one user message that follows the assistant's tool_use blocks.
  Json body = parse(R"({"model":"sonnet","messages":[
      {"role":"user","content":"Weather in Paris and Rome"},
      {"role":"assistant","content":null,"tool_calls":[
        {"id":"toolu_a1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
        {"id":"toolu_b2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
      {"role":"tool","tool_call_id":"toolu_a1","content":"sunny"},
      {"role":"tool","tool_call_id":"toolu_b2","content":[{"type":"text","text":"rainy"}]}]})");
  body.set("tools", openai_tools());
  auto r = chat(body.dump());
  ASSERT_TRUE(r);
  ASSERT_TRUE(provider_accepted());
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->json().value_or(Json())["choices"][0]["message"]["content"].str(),
            std::string("[") + kClaudePhysical + "] sunny rainy");

  Json sent = upstream_body();
  ASSERT_EQ(sent["messages"].size(), 3u) << sent.dump();
  const Json& assistant = sent["messages"][1];
  EXPECT_EQ(assistant["role"].str(), "assistant");
  std::vector<std::string> uses;
  for (const Json& b : assistant["content"].items()) {
    if (b["type"].str() != "tool_use") continue;
    uses.push_back(b["id"].str());
    EXPECT_TRUE(b["input"].is_object()) << "arguments go up parsed: " << b.dump();
  }
  EXPECT_EQ(uses, (std::vector<std::string>{"toolu_a1", "toolu_b2"}));
  EXPECT_EQ(assistant["content"][0]["input"]["city"].str(), "Paris");
  const Json& results = sent["messages"][2];
  EXPECT_EQ(results["role"].str(), "user");
  ASSERT_EQ(results["content"].size(), 2u) << results.dump();
  EXPECT_EQ(results["content"][0]["type"].str(), "tool_result");
  EXPECT_EQ(results["content"][0]["tool_use_id"].str(), "toolu_a1");
  EXPECT_EQ(text_of(results["content"][0]["content"]), "sunny");
  EXPECT_EQ(results["content"][1]["tool_use_id"].str(), "toolu_b2");
  EXPECT_EQ(text_of(results["content"][1]["content"]), "rainy");
}

TEST_F(AnthropicTranslationTest, ImagesReachTheProviderInAnthropicsShape) {
  Json body = parse(R"({"model":"sonnet","messages":[{"role":"user","content":[
      {"type":"text","text":"what is in these"},
      {"type":"image_url","image_url":{"url":"https://example.com/cat.png"}},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==","detail":"low"}}]}]})");
  auto r = chat(body.dump());
  ASSERT_TRUE(r);
  ASSERT_TRUE(provider_accepted());
  EXPECT_EQ(r->status, 200) << r->describe();
  const Json sent = upstream_body();  // kept: content refers into it
  const Json& content = sent["messages"][0]["content"];
  ASSERT_EQ(content.size(), 3u) << content.dump();
  EXPECT_EQ(content[0]["type"].str(), "text");
  EXPECT_EQ(content[1]["type"].str(), "image");
  EXPECT_EQ(content[1]["source"]["type"].str(), "url");
  EXPECT_EQ(content[1]["source"]["url"].str(), "https://example.com/cat.png");
  EXPECT_EQ(content[2]["type"].str(), "image");
  EXPECT_EQ(content[2]["source"]["type"].str(), "base64");
  EXPECT_EQ(content[2]["source"]["media_type"].str(), "image/png");
  EXPECT_EQ(content[2]["source"]["data"].str(), "iVBORw0KGgoAAAANSUhEUg==");
}

TEST_F(AnthropicTranslationTest, AnUnrepresentableRequestIs400NamingTheFieldAndNothingGoesUp) {
  ASSERT_TRUE(mock.reset());
  auto r = chat(with(chat_body(kClaudeModel, "two answers please"), "n", 2));
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 400, "invalid_request_error"));
  EXPECT_EQ(r->json().value_or(Json())["error"]["code"].str(), "unsupported_for_target");
  const Json error = r->json().value_or(Json())["error"];
  const std::string message = error["message"].str();
  const bool names_n =
      error["param"].str() == "n" || message.rfind("n:", 0) == 0 ||
      message.find(" n:") != std::string::npos || message.find("'n'") != std::string::npos ||
      message.find("`n`") != std::string::npos || message.find("\"n\"") != std::string::npos;
  EXPECT_TRUE(names_n) << "the message names the field: " << error.dump();
  EXPECT_EQ(mock.requests().value_or(Json()).size(), 0u) << "the request went upstream";
}

TEST_F(AnthropicTranslationTest, AStreamCutInsideAToolUseEndsWithAnErrorEvent) {
  ASSERT_TRUE(mock.control("cut_in_tool,arg_chunk:4", 1, "/v1/messages"));
  StreamResult s =
      chat_stream(with(chat_body(kClaudeModel, "Weather in Oslo", true), "tools", openai_tools()));
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_EQ(s.head->status, 200);
  EXPECT_TRUE(s.complete) << "a clean end after the error event, never a silent cut\n"
                          << s.describe();
  ChatStream c = assemble_chat(s);
  ASSERT_EQ(c.tool_calls.size(), 1u) << s.describe();  // the call had started
  EXPECT_FALSE(c.error.is_null()) << s.describe();
  EXPECT_FALSE(c.error["message"].str().empty());
  EXPECT_FALSE(c.anything_after_error) << s.describe();
  EXPECT_NE(c.finish_reason, "tool_calls") << "a cut call must not look finished";
}

TEST_F(AnthropicTranslationTest, AnErrorEventMidStreamReachesTheClientAsAnErrorEvent) {
  ASSERT_TRUE(mock.control("error_event", 1, "/v1/messages"));
  StreamResult s = chat_stream(chat_body(kClaudeModel, "one two three four", true));
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_TRUE(s.complete) << s.describe();
  ChatStream c = assemble_chat(s);
  EXPECT_EQ(c.content, std::string("[") + kClaudePhysical + "]") << "the text before the error";
  ASSERT_FALSE(c.error.is_null()) << s.describe();
  EXPECT_FALSE(c.error["message"].str().empty());
  EXPECT_TRUE(c.finish_reason.empty() || c.finish_reason == "error") << c.finish_reason;
}

TEST_F(AnthropicTranslationTest, UnknownEventsBlocksAndThinkingAreNotPassedToAnOpenAIClient) {
  ASSERT_TRUE(mock.control("unknown_events,thinking", 2, "/v1/messages"));
  StreamResult s = chat_stream(chat_body(kClaudeModel, "still fine", true));
  ASSERT_TRUE(s.complete) << s.describe();
  ChatStream c = assemble_chat(s);
  EXPECT_EQ(c.content, std::string("[") + kClaudePhysical + "] still fine");
  EXPECT_TRUE(c.error.is_null()) << s.describe();
  EXPECT_EQ(c.finish_reason, "stop");

  auto r = chat(chat_body(kClaudeModel, "still fine"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->json().value_or(Json())["choices"][0]["message"]["content"].str(),
            std::string("[") + kClaudePhysical + "] still fine");
}

TEST_F(AnthropicTranslationTest, OverloadedIsRetriedAndRateLimitedFallsBack) {
  // 529 once: the retry filter tries the same target again (no other candidate).
  ASSERT_TRUE(mock.control("status:529", 1, "/v1/messages"));
  auto r = chat(chat_body(kClaudeModel, "after a retry"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-sluice-attempts"), "2");
  EXPECT_EQ(upstream_statuses("/v1/messages"), (std::vector<int64_t>{529, 200}));

  // 529 twice: both attempts fail, no candidate left → 503 all_providers_unavailable.
  ASSERT_TRUE(mock.reset());
  ASSERT_TRUE(mock.control("status:529", 2, "/v1/messages"));
  r = chat(chat_body(kClaudeModel, "no luck"));
  EXPECT_TRUE(is_openai_error(r, 503, "all_providers_unavailable"));
  EXPECT_EQ(upstream_statuses("/v1/messages"), (std::vector<int64_t>{529, 529}));

  // 429 with retry-after 1 s (above backoff.max): the fallback group answers at once.
  ASSERT_TRUE(mock.reset());
  ASSERT_TRUE(mock.control("status:429,retry_after:1", 1, "/v1/messages"));
  r = chat(chat_body(kClaudeOrFast, "fall back"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "mockai");
  EXPECT_EQ(r->header("x-sluice-attempts"), "2");
  EXPECT_EQ(r->json().value_or(Json())["choices"][0]["message"]["content"].str(),
            std::string("[") + kFastPhysical + "] fall back");

  // 529 on a stream before its first event: falls back too (the head is held).
  ASSERT_TRUE(mock.control("status:529", 1, "/v1/messages"));
  StreamResult s = chat_stream(chat_body(kClaudeOrFast, "streamed fallback", true));
  ASSERT_TRUE(s.complete) << s.describe();
  EXPECT_EQ(s.head->header("x-sluice-provider"), "mockai");
  EXPECT_EQ(assemble_chat(s).content, std::string("[") + kFastPhysical + "] streamed fallback");
}

TEST_F(AnthropicTranslationTest, CacheUsageReachesTheClientTheLedgerAndGetUsage) {
  ASSERT_TRUE(mock.control("cached:900,cache_write:100", 2, "/v1/messages"));
  auto r = chat(chat_body(kClaudeModel, "a long cached prompt"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  Json usage = r->json().value_or(Json())["usage"];
  // Anthropic's input_tokens is the uncached rest; OpenAI's prompt_tokens counts all three.
  const int64_t uncached = parse(upstream()["reply_body"].str())["usage"]["input_tokens"].as_int();
  EXPECT_EQ(usage["prompt_tokens"].as_int(), uncached + 900 + 100) << usage.dump();
  EXPECT_EQ(usage["prompt_tokens_details"]["cached_tokens"].as_int(), 900) << usage.dump();
  const std::string json_id = r->header("x-request-id");

  StreamResult s = chat_stream(with(chat_body(kClaudeModel, "a long cached prompt", true),
                                    "stream_options", parse(R"({"include_usage":true})")));
  ASSERT_TRUE(s.complete) << s.describe();
  EXPECT_EQ(assemble_chat(s).usage["prompt_tokens_details"]["cached_tokens"].as_int(), 900);
  const std::string stream_id = s.head->header("x-request-id");

  std::map<std::string, LedgerTestRow> rows;
  ASSERT_TRUE(eventually(
      [&] {
        rows = by_request_id(read_ledger_rows(ledger()).value_or(std::vector<LedgerTestRow>{}));
        return rows.count(json_id) && rows.count(stream_id);
      },
      10s));
  for (const std::string& id : {json_id, stream_id}) {
    const LedgerTestRow& row = rows[id];
    EXPECT_EQ(row.model, kClaudeModel) << describe(row);
    EXPECT_EQ(row.provider, "claude") << describe(row);
    EXPECT_EQ(row.physical_model, kClaudePhysical) << describe(row);
    EXPECT_EQ(row.input, uncached + 1000) << describe(row);
    EXPECT_EQ(row.cached, 900) << describe(row);
    EXPECT_EQ(row.cache_write, 100) << describe(row);
    EXPECT_GT(row.output, 0) << describe(row);
    EXPECT_EQ(row.estimated, 0) << "usage was reported, not estimated: " << describe(row);
  }

  auto report = sluice.admin_client().get("/usage?by=model&since=1h");
  ASSERT_TRUE(report && report->status == 200) << (report ? report->describe() : "no response");
  bool found = false;
  const Json body = report->json().value_or(Json());
  for (const Json& row : body["rows"].items()) {
    if (row["key"].str() != kClaudeModel) continue;
    found = true;
    EXPECT_EQ(row["requests"].as_int(), 2);
    EXPECT_EQ(row["input_tokens"].as_int(), 2 * (uncached + 1000));
    EXPECT_EQ(row["cached_tokens"].as_int(), 1800);
  }
  EXPECT_TRUE(found) << report->body;
}

// ==== Anthropic client → openai-type provider ================================================

TEST_F(AnthropicTranslationTest, MessagesJsonGoesUpAsAChatRequestAndComesBackAsAMessage) {
  Json body = parse(messages_body(kFastModel, "hello gpt"));
  body.set("system",
           parse(R"([{"type":"text","text":"Be brief."},{"type":"text","text":" Be kind."}])"));
  body.set("max_tokens", 300);
  body.set("stop_sequences", parse(R"(["END"])"));
  body.set("metadata", parse(R"({"user_id":"u-7"})"));
  auto r = messages(body.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  Json j = r->json().value_or(Json());
  EXPECT_EQ(j["type"].str(), "message");
  EXPECT_EQ(j["role"].str(), "assistant");
  EXPECT_EQ(j["model"].str(), kFastPhysical);
  ASSERT_EQ(j["content"].size(), 1u) << r->describe();
  EXPECT_EQ(j["content"][0]["type"].str(), "text");
  EXPECT_EQ(j["content"][0]["text"].str(), std::string("[") + kFastPhysical + "] hello gpt");
  EXPECT_EQ(j["stop_reason"].str(), "end_turn");
  EXPECT_GT(j["usage"]["input_tokens"].as_int(), 0);
  EXPECT_EQ(j["usage"]["output_tokens"].as_int(), 3);
  EXPECT_EQ(r->header("x-sluice-provider"), "mockai");

  ASSERT_TRUE(provider_accepted());
  Json seen = upstream();
  expect_openai_auth(seen);
  EXPECT_EQ(seen["headers"]["x-provider-tag"].str(), kProviderHeaderValue);
  Json sent = parse(seen["body"].str());
  EXPECT_EQ(sent["model"].str(), kFastPhysical);
  ASSERT_EQ(sent["messages"].size(), 2u) << sent.dump();
  EXPECT_EQ(sent["messages"][0]["role"].str(), "system");
  EXPECT_NE(text_of(sent["messages"][0]["content"]).find("Be brief."), std::string::npos);
  EXPECT_NE(text_of(sent["messages"][0]["content"]).find("Be kind."), std::string::npos);
  EXPECT_EQ(sent["messages"][1]["role"].str(), "user");
  EXPECT_EQ(text_of(sent["messages"][1]["content"]), "hello gpt");
  EXPECT_EQ(sent.contains("max_completion_tokens") ? sent["max_completion_tokens"].as_int()
                                                   : sent["max_tokens"].as_int(),
            300);
  EXPECT_EQ(sent["stop"].is_array() ? sent["stop"][0].str() : sent["stop"].str(), "END");
}

TEST_F(AnthropicTranslationTest, MessagesStreamIsAnAnthropicEventSequence) {
  StreamResult s = messages_stream(messages_body(kFastModel, "stream four words please", true));
  ASSERT_TRUE(s.complete) << s.describe();
  MessageStream m = assemble_messages(s);
  ASSERT_GE(m.types.size(), 5u) << s.describe();
  EXPECT_EQ(m.types.front(), "message_start");
  EXPECT_EQ(m.types[1], "content_block_start");
  EXPECT_EQ(m.types.back(), "message_stop");
  EXPECT_EQ(m.types[m.types.size() - 2], "message_delta");
  ASSERT_EQ(m.blocks.size(), 1u) << s.describe();
  EXPECT_EQ(m.blocks[0]["type"].str(), "text");
  EXPECT_EQ(m.text[0], std::string("[") + kFastPhysical + "] stream four words please");
  EXPECT_EQ(m.stop_reason, "end_turn");
  EXPECT_EQ(m.delta_usage["output_tokens"].as_int(), 5) << s.describe();
  EXPECT_TRUE(m.error.is_null()) << s.describe();

  ASSERT_TRUE(provider_accepted());
  Json sent = upstream_body();
  EXPECT_TRUE(sent["stream"].as_bool());
  EXPECT_TRUE(sent["stream_options"]["include_usage"].as_bool()) << "usage is always asked for";

  // Usage from the provider's usage chunk reaches the ledger (not an estimate).
  const std::string id = s.head->header("x-request-id");
  std::map<std::string, LedgerTestRow> rows;
  ASSERT_TRUE(eventually(
      [&] {
        rows = by_request_id(read_ledger_rows(ledger()).value_or(std::vector<LedgerTestRow>{}));
        return rows.count(id) > 0;
      },
      10s));
  EXPECT_EQ(rows[id].provider, "mockai");
  EXPECT_EQ(rows[id].output, 5) << describe(rows[id]);
  EXPECT_EQ(rows[id].estimated, 0) << describe(rows[id]);
}

TEST_F(AnthropicTranslationTest, MessagesToolUseRoundTripBecomesToolCallsAndAToolMessage) {
  const std::string prompt = "Weather in Madrid";
  auto r = messages(with(messages_body(kFastModel, prompt), "tools", anthropic_tools()));
  ASSERT_TRUE(r);
  ASSERT_TRUE(provider_accepted());
  ASSERT_EQ(r->status, 200) << r->describe();
  Json sent = upstream_body();
  ASSERT_EQ(sent["tools"].size(), 2u) << sent.dump();
  EXPECT_EQ(sent["tools"][0]["type"].str(), "function");
  EXPECT_EQ(sent["tools"][0]["function"]["name"].str(), "get_weather");
  EXPECT_EQ(sent["tools"][0]["function"]["description"].str(), "Weather forecast");
  EXPECT_TRUE(same_json(sent["tools"][0]["function"]["parameters"], parse(kWeatherSchema)));

  Json j = r->json().value_or(Json());
  EXPECT_EQ(j["stop_reason"].str(), "tool_use");
  const Json* use = nullptr;
  for (const Json& b : j["content"].items())
    if (b["type"].str() == "tool_use") use = &b;
  ASSERT_NE(use, nullptr) << r->describe();
  const std::string id = (*use)["id"].str();
  EXPECT_EQ(
      id,
      parse(upstream()["reply_body"].str())["choices"][0]["message"]["tool_calls"][0]["id"].str());
  EXPECT_EQ((*use)["name"].str(), "get_weather");
  EXPECT_TRUE(same_json((*use)["input"], weather_args(prompt))) << use->dump();

  // The tool's result goes back; the provider must see the call and a role "tool" message.
  Json body = parse(messages_body(kFastModel, prompt));
  Json history = Json::array();
  history.push_back(body["messages"][0]);
  Json assistant = Json::object();
  assistant.set("role", "assistant");
  assistant.set("content", j["content"]);
  history.push_back(assistant);
  Json result = Json::object();
  result.set("type", "tool_result");
  result.set("tool_use_id", id);
  result.set("content", "sunny, 21C");
  Json user = Json::object();
  user.set("role", "user");
  user.set("content", Json::array().push_back(result));
  history.push_back(user);
  body.set("messages", history);
  body.set("tools", anthropic_tools());
  r = messages(body.dump());
  ASSERT_TRUE(r);
  ASSERT_TRUE(provider_accepted());
  EXPECT_EQ(r->json().value_or(Json())["content"][0]["text"].str(),
            std::string("[") + kFastPhysical + "] sunny, 21C");
  EXPECT_EQ(r->json().value_or(Json())["stop_reason"].str(), "end_turn");

  sent = upstream_body();
  ASSERT_EQ(sent["messages"].size(), 3u) << sent.dump();
  const Json& call = sent["messages"][1]["tool_calls"][0];
  EXPECT_EQ(sent["messages"][1]["role"].str(), "assistant");
  EXPECT_EQ(call["id"].str(), id);
  EXPECT_EQ(call["type"].str(), "function");
  EXPECT_EQ(call["function"]["name"].str(), "get_weather");
  EXPECT_TRUE(same_json(parse(call["function"]["arguments"].str()), weather_args(prompt)))
      << "arguments go up as a JSON string: " << call.dump();
  EXPECT_EQ(sent["messages"][2]["role"].str(), "tool");
  EXPECT_EQ(sent["messages"][2]["tool_call_id"].str(), id);
  EXPECT_EQ(text_of(sent["messages"][2]["content"]), "sunny, 21C");
}

TEST_F(AnthropicTranslationTest, MessagesToolUseStreamsAsInputJsonDeltas) {
  ASSERT_TRUE(mock.control("tool_preamble,arg_chunk:2", 1, "/v1/chat"));
  const std::string prompt = "Weather in Vienna";
  StreamResult s =
      messages_stream(with(messages_body(kFastModel, prompt, true), "tools", anthropic_tools()));
  ASSERT_TRUE(s.complete) << s.describe();
  MessageStream m = assemble_messages(s);
  ASSERT_EQ(m.blocks.size(), 2u) << s.describe();
  EXPECT_EQ(m.blocks[0]["type"].str(), "text");
  EXPECT_EQ(m.text[0], "Let me call get_weather.");
  EXPECT_EQ(m.blocks[1]["type"].str(), "tool_use");
  EXPECT_EQ(m.blocks[1]["name"].str(), "get_weather");
  EXPECT_FALSE(m.blocks[1]["id"].str().empty());
  EXPECT_TRUE(same_json(parse(m.text[1]), weather_args(prompt))) << m.text[1];
  EXPECT_EQ(m.stop_reason, "tool_use");
  EXPECT_EQ(m.types.back(), "message_stop");
  size_t deltas = 0;
  for (const SseEvent& e : s.events)
    if (e.data.find("input_json_delta") != std::string::npos) ++deltas;
  EXPECT_GT(deltas, 10u) << "the arguments were not relayed delta by delta";
}

TEST_F(AnthropicTranslationTest, MessagesImagesReachTheProviderAsImageUrlParts) {
  Json body = parse(messages_body(kFastModel, "x"));
  body.set("messages", parse(R"([{"role":"user","content":[
      {"type":"text","text":"what is in these"},
      {"type":"image","source":{"type":"url","url":"https://example.com/cat.png"}},
      {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQSkZJRg=="}}]}])"));
  auto r = messages(body.dump());
  ASSERT_TRUE(r);
  ASSERT_TRUE(provider_accepted());
  EXPECT_EQ(r->status, 200) << r->describe();
  const Json sent = upstream_body();  // kept: content refers into it
  const Json& content = sent["messages"][0]["content"];
  ASSERT_EQ(content.size(), 3u) << content.dump();
  EXPECT_EQ(content[1]["type"].str(), "image_url");
  EXPECT_EQ(content[1]["image_url"]["url"].str(), "https://example.com/cat.png");
  EXPECT_EQ(content[2]["type"].str(), "image_url");
  EXPECT_EQ(content[2]["image_url"]["url"].str(), "data:image/jpeg;base64,/9j/4AAQSkZJRg==");
}

TEST_F(AnthropicTranslationTest, MessagesStreamFailuresEndWithAnAnthropicErrorEvent) {
  // The provider's own error chunk mid-stream.
  ASSERT_TRUE(mock.control("error_event", 1, "/v1/chat"));
  StreamResult s = messages_stream(messages_body(kFastModel, "one two three", true));
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_TRUE(s.complete) << s.describe();
  MessageStream m = assemble_messages(s);
  ASSERT_FALSE(m.error.is_null()) << s.describe();
  EXPECT_EQ(m.types.back(), "error") << s.describe();
  EXPECT_EQ(m.error["type"].str(), "error");
  EXPECT_FALSE(m.error["error"]["type"].str().empty());
  EXPECT_FALSE(m.error["error"]["message"].str().empty());

  // A cut inside a tool call.
  ASSERT_TRUE(mock.control("cut_in_tool,arg_chunk:4", 1, "/v1/chat"));
  s = messages_stream(
      with(messages_body(kFastModel, "Weather in Oslo", true), "tools", anthropic_tools()));
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_TRUE(s.complete) << "a clean end after the error event\n" << s.describe();
  m = assemble_messages(s);
  EXPECT_EQ(m.types.back(), "error") << s.describe();
  EXPECT_NE(m.stop_reason, "tool_use") << "a cut call must not look finished";
}

TEST_F(AnthropicTranslationTest, MessagesProviderErrorsAreRetriedThenAnthropicShaped) {
  ASSERT_TRUE(mock.control("status:503", 2, "/v1/chat"));
  auto r = messages(messages_body(kFastModel, "x"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->describe();
  Json j = r->json().value_or(Json());
  EXPECT_EQ(j["type"].str(), "error") << r->describe();
  EXPECT_EQ(j["error"]["type"].str(), "api_error");
  EXPECT_EQ(upstream_statuses("/v1/chat/completions"), (std::vector<int64_t>{503, 503}));

  // The provider refusing the request (a 400 in OpenAI's shape) is an Anthropic 400.
  ASSERT_TRUE(mock.control("status:400", 1, "/v1/chat"));
  r = messages(messages_body(kFastModel, "x"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->describe();
  EXPECT_EQ(r->json().value_or(Json())["error"]["type"].str(), "invalid_request_error");
}

}  // namespace
}  // namespace sluice::test
