// A provider written in Lua, end to end (DESIGN §9, issue 12 item 4): plugins/lua/
// ollama_native.lua declared under plugins:, a provider of its type pointing at the mock
// provider's Ollama API (tests/support/mock/ollama_replies.h), and an OpenAI client on the
// other side. What the client sees: JSON and streamed answers in OpenAI's shapes, tool calls,
// the usage chunk it asked for, Ollama's errors in OpenAI's shape, a cut stream ended by an
// error event, a broken plugin named in a 502; what the provider sees: Ollama's request for
// the target's model; what is charged: Ollama's counts (ledger and GET /usage).
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"
#include "tests/support/process.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kModel = "local-llm";     // logical
constexpr const char* kPhysical = "qwen3:8b";   // what Ollama is asked for
constexpr const char* kBrokenModel = "broken";  // a Lua provider whose transform_response errs

// A second Lua provider: fine until the answer comes back.
constexpr const char* kBrokenPlugin = R"(
local ollama = require("ollama_native")
return {
  name = "broken_ollama",
  stream = "ndjson",
  transform_request = ollama.transform_request,
  transform_response = function(res) error("cannot read " .. #res.body .. " bytes") end,
  transform_chunk = function(ev, config, ctx)
    if ctx.seen then error("the second line broke it") end
    ctx.seen = true
    return ollama.transform_chunk(ev, config, ctx)
  end,
}
)";

class LuaProviderTest : public ::testing::Test {
 protected:
  // `provider_config`: YAML lines under providers.local (4-space indented), e.g. a config:.
  void start(const std::string& provider_config = "") {
    ASSERT_TRUE(mock.ok());
    const std::string ollama_url = "http://127.0.0.1:" + std::to_string(mock.port());
    const std::string plugin = std::string(SLUICE_SOURCE_DIR) + "/plugins/lua/ollama_native.lua";
    // The broken plugin requires ollama_native from its own folder.
    dir.write("ollama_native.lua", read_file(plugin));
    const std::string broken = dir.write("broken_ollama.lua", kBrokenPlugin);
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.extra_providers = "  local:\n    type: ollama_native\n    base_url: " + ollama_url +
                             "\n" + provider_config + "  wreck:\n    type: broken_ollama\n" +
                             "    base_url: " + ollama_url + "\n";
    config.extra_models =
        std::string("  ") + kModel + ":\n    targets:\n      - {provider: " + "local, model: \"" +
        kPhysical + "\"}\n  " + kBrokenModel +
        ":\n    targets:\n      - {provider: wreck, model: \"" + kPhysical + "\"}\n";
    config.extra = "plugins:\n  ollama_native: {file: \"" + plugin +
                   "\", config: {keep_alive: 1m}}\n  broken_ollama: {file: \"" + broken + "\"}\n";
    config.ledger_path = ledger = dir.file("ledger.db");
    ASSERT_TRUE(
        sluice.start(sluice_binary(), config.to_yaml(), {{"SLUICE_PLUGIN_PATH", dir.path()}}))
        << sluice.describe();
  }

  std::optional<HttpResponse> chat(const Json& body) {
    HttpClient c = sluice.client();
    auto r = c.post_json("/v1/chat/completions", body.dump(), bearer(kBobKey));
    EXPECT_TRUE(r) << c.error() << "\n" << sluice.describe();
    return r;
  }

  StreamResult stream(const Json& body) {
    HttpClient c = sluice.client();
    return c.stream_post("/v1/chat/completions", body.dump(), bearer(kBobKey));
  }

  static Json body(const std::string& text, bool streaming = false,
                   const std::string& model = kModel) {
    return Json::parse(chat_body(model, text, streaming)).value();
  }

  // A chat body whose request offers one tool, get_weather(city).
  static Json with_tool(Json b) {
    Json city = Json::object();
    city.set("type", "string");
    Json properties = Json::object();
    properties.set("city", city);
    Json parameters = Json::object();
    parameters.set("type", "object");
    parameters.set("properties", properties);
    Json function = Json::object();
    function.set("name", "get_weather");
    function.set("parameters", parameters);
    Json tool = Json::object();
    tool.set("type", "function");
    tool.set("function", function);
    b.set("tools", Json::array().push_back(tool));
    return b;
  }

  // The text of a stream's content deltas, joined.
  static std::string streamed_text(const StreamResult& s) {
    std::string text;
    for (const auto& e : s.events) {
      auto chunk = Json::parse(e.data);
      if (chunk) text += (*chunk)["choices"][0]["delta"]["content"].str();
    }
    return text;
  }

  LedgerTestRow row_of(const std::string& request_id) {
    auto row = await_ledger_row(ledger, request_id, 5s);
    EXPECT_TRUE(row) << "no ledger row for " << request_id;
    return row.value_or(LedgerTestRow{});
  }

  TempDir dir;
  std::string ledger;
  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(LuaProviderTest, AJsonAnswerComesBackAsAChatCompletionAndOllamasCountsAreCharged) {
  start();
  auto r = chat(body("hello there"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "local");
  EXPECT_EQ(r->header("x-sluice-model"), kPhysical);
  auto answer = r->json();
  ASSERT_TRUE(answer) << r->describe();
  EXPECT_EQ((*answer)["object"].str(), "chat.completion");
  EXPECT_EQ((*answer)["model"].str(), kPhysical);
  EXPECT_EQ((*answer)["choices"][0]["message"]["content"].str(),
            std::string("[") + kPhysical + "] hello there");
  EXPECT_EQ((*answer)["choices"][0]["finish_reason"].str(), "stop");
  EXPECT_EQ((*answer)["usage"]["prompt_tokens"].as_int(), 2);
  EXPECT_EQ((*answer)["usage"]["completion_tokens"].as_int(), 3);

  Json upstream = last_upstream_request(mock);
  EXPECT_EQ(upstream["method"].str(), "POST");
  EXPECT_EQ(upstream["path"].str(), "/api/chat") << upstream.dump();
  EXPECT_TRUE(upstream["headers"]["authorization"].is_null()) << upstream.dump();
  auto sent = Json::parse(upstream["body"].str());
  ASSERT_TRUE(sent) << upstream.dump();
  EXPECT_EQ((*sent)["model"].str(), kPhysical);
  EXPECT_FALSE((*sent)["stream"].as_bool(true));
  EXPECT_EQ((*sent)["keep_alive"].str(), "1m");  // the plugins: entry's config
  EXPECT_EQ((*sent)["messages"][0]["content"].str(), "hello there");

  LedgerTestRow row = row_of(r->header("x-request-id"));
  EXPECT_EQ(row.provider, "local") << describe(row);
  EXPECT_EQ(row.input, 2) << describe(row);
  EXPECT_EQ(row.output, 3) << describe(row);
  EXPECT_EQ(row.estimated, 0) << describe(row);

  auto usage = sluice.admin_client().get("/usage?by=provider&since=1h");
  ASSERT_TRUE(usage && usage->status == 200) << (usage ? usage->describe() : "no response");
  const Json report = usage->json().value_or(Json());
  bool seen = false;
  for (const Json& u : report["rows"].items()) {
    if (u["key"].str() != "local") continue;
    seen = true;
    EXPECT_EQ(u["requests"].as_int(), 1) << usage->body;
  }
  EXPECT_TRUE(seen) << usage->body;
}

TEST_F(LuaProviderTest, AStreamBecomesOpenAiChunksWithTheUsageChunkItAskedFor) {
  start();
  Json b = body("one two three", true);
  Json options = Json::object();
  options.set("include_usage", true);
  b.set("stream_options", options);
  StreamResult s = stream(b);
  ASSERT_TRUE(s.head) << s.describe();
  ASSERT_EQ(s.head->status, 200) << s.describe();
  EXPECT_TRUE(s.head->header("content-type").starts_with("text/event-stream")) << s.describe();
  ASSERT_TRUE(s.complete) << s.describe();
  ASSERT_GE(s.events.size(), 4u) << s.describe();
  auto first = Json::parse(s.events[0].data);
  ASSERT_TRUE(first) << s.describe();
  EXPECT_EQ((*first)["object"].str(), "chat.completion.chunk");
  EXPECT_EQ((*first)["choices"][0]["delta"]["role"].str(), "assistant");
  EXPECT_EQ(streamed_text(s), std::string("[") + kPhysical + "] one two three");
  EXPECT_EQ(s.events.back().data, "[DONE]");
  auto usage = Json::parse(s.events[s.events.size() - 2].data);
  ASSERT_TRUE(usage) << s.describe();
  EXPECT_EQ((*usage)["choices"].size(), 0u) << s.describe();
  EXPECT_EQ((*usage)["usage"]["prompt_tokens"].as_int(), 3) << s.describe();
  EXPECT_EQ((*usage)["usage"]["completion_tokens"].as_int(), 4) << s.describe();
  auto finish = Json::parse(s.events[s.events.size() - 3].data);
  EXPECT_EQ((*finish)["choices"][0]["finish_reason"].str(), "stop") << s.describe();

  auto sent = Json::parse(last_upstream_request(mock)["body"].str());
  EXPECT_TRUE((*sent)["stream"].as_bool(false));

  LedgerTestRow row = row_of(s.head->header("x-request-id"));
  EXPECT_EQ(row.input, 3) << describe(row);
  EXPECT_EQ(row.output, 4) << describe(row);
  EXPECT_EQ(row.estimated, 0) << describe(row);
}

TEST_F(LuaProviderTest, WithoutIncludeUsageNoUsageChunkReachesTheClientButItIsCharged) {
  start();
  StreamResult s = stream(body("a b", true));
  ASSERT_TRUE(s.complete) << s.describe();
  for (const auto& e : s.events) {
    auto chunk = Json::parse(e.data);
    if (chunk) {
      EXPECT_FALSE((*chunk).contains("usage")) << e.data;
    }
  }
  LedgerTestRow row = row_of(s.head->header("x-request-id"));
  EXPECT_EQ(row.input, 2) << describe(row);
  EXPECT_EQ(row.estimated, 0) << describe(row);
}

TEST_F(LuaProviderTest, ToolCallsComeBackInOpenAisShape) {
  start();
  auto r = chat(with_tool(body("Lviv")));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  const Json answer = r->json().value_or(Json());
  const Json& choice = answer["choices"][0];
  EXPECT_EQ(choice["finish_reason"].str(), "tool_calls") << r->describe();
  const Json& call = choice["message"]["tool_calls"][0];
  EXPECT_EQ(call["type"].str(), "function") << r->describe();
  EXPECT_EQ(call["function"]["name"].str(), "get_weather") << r->describe();
  EXPECT_EQ(call["function"]["arguments"].str(), R"({"city":"Lviv"})") << r->describe();
  EXPECT_FALSE(call["id"].str().empty()) << r->describe();
  auto sent = Json::parse(last_upstream_request(mock)["body"].str());
  EXPECT_EQ((*sent)["tools"][0]["function"]["name"].str(), "get_weather");

  StreamResult s = stream(with_tool(body("Kyiv", true)));
  ASSERT_TRUE(s.complete) << s.describe();
  bool called = false;
  for (const auto& e : s.events) {
    auto chunk = Json::parse(e.data);
    if (!chunk) continue;
    const Json& delta_call = (*chunk)["choices"][0]["delta"]["tool_calls"][0];
    if (delta_call.is_object()) {
      called = true;
      EXPECT_EQ(delta_call["index"].as_int(-1), 0) << e.data;
      EXPECT_EQ(delta_call["function"]["arguments"].str(), R"({"city":"Kyiv"})") << e.data;
    }
  }
  EXPECT_TRUE(called) << s.describe();
}

TEST_F(LuaProviderTest, ToolResultsGoBackToOllamaNamedAndItsAnswerComesBack) {
  start();
  auto conversation = Json::parse(R"([
      {"role": "user", "content": "Lviv"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_9", "type": "function",
       "function": {"name": "get_weather", "arguments": "{\"city\":\"Lviv\"}"}}]},
      {"role": "tool", "tool_call_id": "call_9", "content": "21 degrees"}])");
  Json b = with_tool(body("x"));
  b.set("messages", *conversation);
  auto r = chat(b);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  const Json answer = r->json().value_or(Json());
  EXPECT_EQ(answer["choices"][0]["message"]["content"].str(),
            std::string("[") + kPhysical + "] 21 degrees")
      << r->describe();
  EXPECT_EQ(answer["choices"][0]["finish_reason"].str(), "stop") << r->describe();
  auto sent = Json::parse(last_upstream_request(mock)["body"].str());
  ASSERT_TRUE(sent);
  const Json& messages = (*sent)["messages"];
  EXPECT_EQ(messages[1]["tool_calls"][0]["function"]["arguments"]["city"].str(), "Lviv")
      << sent->dump();
  EXPECT_EQ(messages[2]["role"].str(), "tool") << sent->dump();
  EXPECT_EQ(messages[2]["tool_name"].str(), "get_weather") << sent->dump();
}

TEST_F(LuaProviderTest, ImagesGoAsBase64AndWhatOllamaCannotTakeIsA400NamingTheField) {
  start();
  auto content = Json::parse(R"([{"type":"text","text":"see"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}])");
  Json b = body("x");
  Json message = Json::object();
  message.set("role", "user");
  message.set("content", *content);
  b.set("messages", Json::array().push_back(message));
  auto r = chat(b);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_NE((*r->json())["choices"][0]["message"]["content"].str().find("[images: 1]"),
            std::string::npos)
      << r->describe();

  const int64_t before = mock.stats().value()["requests_total"].as_int(-1);
  auto remote = Json::parse(R"([{"type":"image_url","image_url":{"url":"https://x.test/a.png"}}])");
  message.set("content", *remote);
  b.set("messages", Json::array().push_back(message));
  auto refused = chat(b);
  ASSERT_TRUE(is_openai_error(refused, 400, "invalid_request_error"));
  EXPECT_NE(refused->body.find("Lua plugin ollama_native"), std::string::npos)
      << refused->describe();
  EXPECT_NE(refused->body.find("messages[0].content[0].image_url.url"), std::string::npos)
      << refused->describe();
  EXPECT_EQ(mock.stats().value()["requests_total"].as_int(-1), before) << "nothing goes upstream";
}

TEST_F(LuaProviderTest, OllamasErrorsComeBackInOpenAisShape) {
  start();
  ASSERT_TRUE(mock.control("status:404", 1, "/api/chat"));
  auto r = chat(body("hi"));
  ASSERT_TRUE(is_openai_error(r, 404, "not_found_error"));
  EXPECT_NE(r->body.find("ollama: mock provider failure (status 404)"), std::string::npos)
      << r->describe();
}

TEST_F(LuaProviderTest, ACutStreamEndsWithAnErrorEventNotDoneAndIsStillCharged) {
  start();
  ASSERT_TRUE(mock.control("cut", 1, "/api/chat"));
  StreamResult s = stream(body("one two three four five six", true));
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_EQ(s.head->status, 200) << s.describe();
  ASSERT_FALSE(s.events.empty()) << s.describe();
  for (const auto& e : s.events) EXPECT_NE(e.data, "[DONE]") << s.describe();
  EXPECT_NE(s.events.back().data.find("\"error\""), std::string::npos) << s.describe();
  LedgerTestRow row = row_of(s.head->header("x-request-id"));
  EXPECT_EQ(row.estimated, 1) << "cut before Ollama's counts: " << describe(row);
  EXPECT_GT(row.input, 0) << describe(row);
}

TEST_F(LuaProviderTest, AnErrorLineMidStreamEndsTheStreamWithAnErrorEventNamingThePlugin) {
  start();
  ASSERT_TRUE(mock.control("error_event", 1, "/api/chat"));
  StreamResult s = stream(body("one two three four", true));
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_EQ(s.head->status, 200) << s.describe();
  ASSERT_GE(s.events.size(), 2u) << s.describe();
  EXPECT_NE(s.events[0].data.find("\"role\":\"assistant\""), std::string::npos) << s.describe();
  const std::string& last = s.events.back().data;
  EXPECT_NE(last.find("\"error\""), std::string::npos) << s.describe();
  EXPECT_NE(last.find("Lua plugin ollama_native: transform_chunk: ollama: mock provider: the "
                      "model runner stopped unexpectedly"),
            std::string::npos)
      << s.describe();
  for (const auto& e : s.events) EXPECT_NE(e.data, "[DONE]") << s.describe();
}

TEST_F(LuaProviderTest, APluginFailingOnTheAnswerIsA502NamingIt) {
  start();
  auto r = chat(body("hi", false, kBrokenModel));
  ASSERT_TRUE(is_openai_error(r, 502, "upstream_error"));
  EXPECT_NE(r->body.find("Lua plugin broken_ollama: transform_response:"), std::string::npos)
      << r->describe();
  EXPECT_NE(r->body.find("cannot read"), std::string::npos) << r->describe();

  StreamResult s = stream(body("a b c d", true, kBrokenModel));
  ASSERT_TRUE(s.head) << s.describe();
  ASSERT_FALSE(s.events.empty()) << s.describe();
  const std::string& last = s.events.back().data;
  EXPECT_NE(last.find("\"error\""), std::string::npos) << s.describe();
  EXPECT_NE(last.find("Lua plugin broken_ollama: transform_chunk:"), std::string::npos)
      << s.describe();
  EXPECT_NE(last.find("the second line broke it"), std::string::npos) << s.describe();
}

TEST_F(LuaProviderTest, AProviderConfigTheSchemaRefusesIsALoadErrorNamingTheKey) {
  ASSERT_TRUE(mock.ok());
  GatewayConfig config;
  config.provider_base_url = mock.base_url();
  config.extra_providers =
      "  local:\n    type: ollama_native\n    config: {keepalive: 5m}\n";  // default base_url
  config.extra = "plugins:\n  ollama_native: {file: \"" + std::string(SLUICE_SOURCE_DIR) +
                 "/plugins/lua/ollama_native.lua\"}\n";
  const std::string file = dir.write("check.yaml", config.to_yaml());
  auto p = Process::start({sluice_binary(), "validate", "-c", file}, dir.file("validate"),
                          {{"SLUICE_PLUGIN_PATH", dir.path()}});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->wait_exit(20s), 1) << p->describe();
  const std::string out = p->stderr_text();
  EXPECT_NE(out.find("providers.local.config.keepalive"), std::string::npos) << out;
  EXPECT_NE(out.find("did you mean \"keep_alive\"?"), std::string::npos) << out;
}

}  // namespace
}  // namespace sluice::test
