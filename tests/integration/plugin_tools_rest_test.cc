// Plugin tools in a running sluice, through POST /v1/tools/{name} and /mcp (DESIGN §5, §9):
// the test plugin's tools (tests/support/plugins/test_tools.cc) answer synchronously, from a
// thread of their own, with an error, or never (the deadline ends the call, and sluice keeps
// serving); and the shipped memory plugin — found by name, configured under plugins: without a
// file — stores and finds texts per agent, with embeddings from the built-in mock provider made
// through sluice as the calling agent (ledger rows under its name), isolated between agents,
// and loses no call when a reload replaces it while calls are in flight.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/support/agent_key.h"
#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCarolKey = "sk-agent-carol-31f0";

class PluginToolsRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    ASSERT_TRUE(sluice.start(sluice_binary(), config(3).to_yaml()));
  }

  GatewayConfig config(int channel_items) {
    GatewayConfig c;
    c.provider_base_url = mock.base_url();
    c.workers = 2;
    c.ledger_path = sluice.dir().file("ledger.db");
    // Memory embeds with the built-in mock (a hashed bag of words): bob and carol may use it.
    c.extra_providers = "  demo: {type: mock}\n";
    c.extra_models = "  memembed: {targets: [{provider: demo, model: mock-embedding}]}\n";
    c.alice_extra = "    tools: [\"t.*\"]\n";
    c.bob_extra = "    tools: [\"memory.*\"]\n";
    c.extra_agents =
        "  carol: {keys: [\"" + agent_key_digest(kCarolKey) + "\"], tools: [\"memory.*\"]}\n";
    c.extra = "plugins:\n";
    c.extra += "  t: {file: \"" SLUICE_TEST_PLUGIN_TOOLS "\"}\n";
    c.extra += "  memory:\n    config:\n      embedding_model: memembed\n";
    c.extra += "      channel_items: " + std::to_string(channel_items) + "\n";
    c.extra += "      knowledge_bases: {handbook: {read: [bob], write: [bob]}}\n";
    c.extra += "tools:\n";
    for (const char* t : {"t.echo", "t.thread", "t.fail"}) {
      c.extra += std::string("  ") + t + ": {type: plugin}\n";
    }
    c.extra += "  t.hang: {type: plugin, timeout: 300ms}\n";
    c.extra += "  memory.store: {type: plugin}\n  memory.query: {type: plugin}\n";
    return c;
  }

  std::optional<HttpResponse> call(const std::string& key, const std::string& tool,
                                   const std::string& args) {
    return sluice.client().post_json("/v1/tools/" + tool, args, bearer(key));
  }

  // memory.query's texts, best first.
  std::vector<std::string> found(const std::string& key, const std::string& args) {
    std::vector<std::string> out;
    auto r = call(key, "memory.query", args);
    EXPECT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    if (!r || r->status != 200) return out;
    const Json body = *r->json();  // kept: the loop below reads into it
    for (const Json& item : body["result"]["results"].items()) {
      out.push_back(item["content"].str());
    }
    return out;
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(PluginToolsRestTest, APluginToolAnswersNowFromAThreadOrWithAnError) {
  auto echo = call(kAliceKey, "t.echo", R"({"x":1})");
  ASSERT_TRUE(echo && echo->status == 200) << (echo ? echo->describe() : sluice.describe());
  const Json result = (*echo->json())["result"];
  EXPECT_EQ(result["agent"].str(), "alice") << echo->body;
  EXPECT_EQ(result["args"]["x"].as_number(), 1);
  EXPECT_EQ(result["request_id"].str(), echo->header("x-request-id"));

  auto thread = call(kAliceKey, "t.thread", R"({"delay_ms":20})");
  ASSERT_TRUE(thread && thread->status == 200) << (thread ? thread->describe() : "");
  EXPECT_EQ((*thread->json())["result"].str(), "from a thread");

  auto failed = call(kAliceKey, "t.fail", "{}");
  EXPECT_TRUE(is_openai_error(failed, 502, "tool_error"));
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->body.find("it failed on purpose"), std::string::npos) << failed->body;
}

TEST_F(PluginToolsRestTest, AToolThatNeverAnswersEndsAtItsDeadlineAndSluiceGoesOn) {
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(is_openai_error(call(kAliceKey, "t.hang", "{}"), 504, "tool_timeout"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  auto next = call(kAliceKey, "t.echo", "{}");
  EXPECT_TRUE(next && next->status == 200);
}

TEST_F(PluginToolsRestTest, OverMcpAPluginToolsJsonIsStructuredContent) {
  Headers h = bearer(kAliceKey);
  h.emplace_back("Accept", "application/json, text/event-stream");
  auto init = sluice.client().post_json(
      "/mcp",
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
      R"("capabilities":{},"clientInfo":{"name":"t","version":"1"}}})",
      h);
  ASSERT_TRUE(init && init->status == 200) << (init ? init->describe() : "");
  h.emplace_back("Mcp-Session-Id", init->header("mcp-session-id"));
  auto r = sluice.client().post_json(
      "/mcp",
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t.echo","arguments":{"y":2}}})",
      h);
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "");
  const Json result = (*r->json())["result"];
  EXPECT_FALSE(result["isError"].as_bool()) << r->body;
  EXPECT_EQ(result["structuredContent"]["args"]["y"].as_number(), 2) << r->body;
}

TEST_F(PluginToolsRestTest, MemoryFindsByMeaningAndKeepsAgentsApart) {
  for (const char* text :
       {"The quarterly report is due on Friday", "Cats purr when they are happy and sleep a lot"}) {
    auto r = call(kBobKey, "memory.store", std::string(R"({"content":")") + text + "\"}");
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : sluice.describe());
    EXPECT_TRUE((*r->json())["result"]["stored"].as_bool()) << r->body;
  }
  std::vector<std::string> bobs = found(kBobKey, R"({"query":"cats"})");
  ASSERT_EQ(bobs.size(), 2u);
  EXPECT_EQ(bobs[0], "Cats purr when they are happy and sleep a lot");
  EXPECT_TRUE(found(kCarolKey, R"({"query":"cats"})").empty()) << "carol reads only her own";

  ASSERT_TRUE(call(kBobKey, "memory.store",
                   R"({"content":"Expenses are filed by the 5th","scope":"kb:handbook"})"));
  auto denied = call(kCarolKey, "memory.query", R"({"query":"expenses","scope":"kb:handbook"})");
  EXPECT_TRUE(is_openai_error(denied, 502, "tool_error"));
  ASSERT_TRUE(denied);
  EXPECT_NE(denied->body.find("may not read knowledge base"), std::string::npos) << denied->body;

  // Short-term context: channel_items 3.
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(
        call(kCarolKey, "memory.store",
             R"({"content":"standup )" + std::to_string(i) + R"(","scope":"channel:daily"})"));
  }
  EXPECT_EQ(found(kCarolKey, R"({"query":"standup","scope":"channel:daily","limit":10})").size(),
            3u);

  // The embeddings were bob's own requests to the model memembed, in the ledger.
  EXPECT_TRUE(eventually(
      [&] {
        auto rows = read_ledger_rows(sluice.dir().file("ledger.db"));
        if (!rows) return false;
        size_t n = 0;
        for (const auto& row : *rows) n += row.agent == "bob" && row.model == "memembed";
        return n >= 4;
      },
      5s));
}

TEST_F(PluginToolsRestTest, AReloadWhileMemoryCallsAreInFlightLosesNone) {
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 6; ++i) {
    callers.emplace_back([&, i] {
      for (int j = 0; j < 5; ++j) {
        auto r = call(kBobKey, "memory.store",
                      R"({"content":"burst )" + std::to_string(i * 10 + j) + "\"}");
        (r && r->status == 200 ? ok : failed)++;
      }
    });
  }
  // Reloads that change the plugin's config: each loads another copy beside the old one.
  for (int n = 4; n <= 6; ++n) {
    sluice.dir().write("sluice.yaml", config(n).to_yaml());
    auto reload = sluice.admin_client().request("POST", "/reload");
    EXPECT_TRUE(reload && reload->status == 200) << (reload ? reload->describe() : "");
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 30);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(found(kBobKey, R"({"query":"burst","limit":50})").size(), 30u);
}

}  // namespace
}  // namespace sluice::test
