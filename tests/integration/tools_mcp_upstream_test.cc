// An upstream MCP server federated under a prefix (DESIGN §4 `type: mcp`, issue 13), through
// sluice itself: a `github` entry pointing at sluice_mock_mcp offers its tools as github.<tool>
// over GET /v1/tools, POST /v1/tools/{name} and /mcp, to the agents whose allow-lists say so.
// Sluice starts and serves models while that server is down, picks its tools up when it comes
// back, renews a session it dropped, follows its list changes while calls are in flight, keeps
// one session across hundreds of reloads, and turns its faults into the tool errors agents
// expect.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "tests/support/integration_env.h"
#include "tests/support/mock_mcp_server.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUpstreamToken = "gh-upstream-secret-77";

std::string github_entry(const std::string& url, const std::string& timeout = "1s") {
  return "tools:\n"
         "  github:\n"
         "    type: mcp\n"
         "    url: " +
         url +
         "\n"
         "    headers: {Authorization: \"Bearer " +
         std::string(kUpstreamToken) +
         "\"}\n"
         "    timeout: " +
         timeout +
         "\n"
         "    max_response: 64KiB\n";
}

class McpUpstreamThroughSluice : public ::testing::Test {
 protected:
  // Starts sluice with the github entry pointing at `url` (the mock's, unless a test wants a
  // port where nothing listens yet).
  void start(const std::string& url, int workers = 1) {
    ASSERT_TRUE(provider.ok());
    config.provider_base_url = provider.base_url();
    config.workers = workers;
    config.alice_extra = "    tools: [\"github.*\"]\n";
    config.bob_extra = "    tools: [github.echo]\n";
    config.extra = github_entry(url);
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // The function names GET /v1/tools shows `key`'s agent.
  std::set<std::string> functions(const std::string& key) {
    HttpClient client = sluice.client();
    auto r = client.get("/v1/tools", bearer(key));
    std::set<std::string> names;
    if (!r || r->status != 200) return names;
    auto body = r->json();
    if (!body) return names;
    for (const Json& t : (*body)["data"].items()) names.insert(t["function"]["name"].str());
    return names;
  }

  bool github_listed(size_t count, std::chrono::milliseconds within = 10s) {
    return eventually([&] { return functions(kAliceKey).size() == count; }, within);
  }

  std::optional<HttpResponse> call(const std::string& tool, const std::string& args,
                                   const std::string& key = kAliceKey) {
    HttpClient client = sluice.client();
    client.set_timeout(15s);
    return client.post_json("/v1/tools/" + tool, args, bearer(key));
  }

  // One JSON-RPC message to sluice's /mcp.
  std::optional<HttpResponse> mcp(const std::string& body, const std::string& session = "") {
    Headers h = bearer(kAliceKey);
    if (!session.empty()) h.emplace_back("Mcp-Session-Id", session);
    h.emplace_back("Accept", "application/json, text/event-stream");
    HttpClient client = sluice.client();
    return client.post_json("/mcp", body, h);
  }

  bool reload() {
    auto r = sluice.admin_client().request("POST", "/reload");
    return r && r->status == 200 && (*r->json())["ok"].as_bool();
  }

  MockProvider provider{mock_provider_binary()};
  std::unique_ptr<MockMcpServer> upstream;
  GatewayConfig config;
  SluiceServer sluice;
};

constexpr size_t kMockTools = 6;  // echo add fail sleep big image

TEST_F(McpUpstreamThroughSluice, AgentsListAndCallTheUpstreamsToolsOverRestAndMcp) {
  upstream = std::make_unique<MockMcpServer>(mock_mcp_binary());
  ASSERT_TRUE(upstream->ok());
  start(upstream->url());
  ASSERT_TRUE(github_listed(kMockTools)) << sluice.describe();
  EXPECT_EQ(functions(kAliceKey),
            (std::set<std::string>{"github_echo", "github_add", "github_fail", "github_sleep",
                                   "github_big", "github_image"}));
  EXPECT_EQ(functions(kBobKey), (std::set<std::string>{"github_echo"}));

  HttpClient client = sluice.client();
  auto list = client.get("/v1/tools", bearer(kAliceKey));
  ASSERT_TRUE(list);
  EXPECT_EQ(list->body.find(kUpstreamToken), std::string::npos) << "the upstream's token leaked";
  EXPECT_NE(list->body.find("Echoes its text"), std::string::npos) << list->body;

  // REST, by tool name and by function name.
  auto r = call("github.echo", R"({"text":"over rest"})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
  EXPECT_EQ((*r->json())["result"].str(), "over rest");
  r = call("github_add", R"({"a":20,"b":22})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
  EXPECT_EQ((*r->json())["result"]["sum"].as_number(), 42);
  // Bob may use echo only: add does not exist for him.
  EXPECT_TRUE(
      is_openai_error(call("github.add", R"({"a":1,"b":2})", kBobKey), 404, "tool_not_found"));

  // MCP: the official SDKs' sequence.
  auto init = mcp(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  ASSERT_TRUE(init && init->status == 200) << (init ? init->describe() : "no answer");
  const std::string session = init->header("mcp-session-id");
  mcp(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", session);
  auto tools = mcp(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})", session);
  ASSERT_TRUE(tools && tools->status == 200);
  auto tools_body = tools->json();
  ASSERT_TRUE(tools_body) << tools->body;
  std::set<std::string> names;
  for (const Json& t : (*tools_body)["result"]["tools"].items()) {
    names.insert(t["name"].str());
    if (t["name"].str() == "github.add") {
      EXPECT_EQ(t["inputSchema"]["required"].size(), 2u) << t.dump();
    }
  }
  EXPECT_EQ(names.count("github.add"), 1u) << tools->body;
  EXPECT_EQ(names.size(), kMockTools);

  auto added = mcp(
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"github.add","arguments":{"a":1,"b":2}}})",
      session);
  ASSERT_TRUE(added && added->status == 200);
  auto added_body = added->json();
  ASSERT_TRUE(added_body) << added->body;
  EXPECT_FALSE((*added_body)["result"]["isError"].as_bool(true)) << added->body;
  EXPECT_EQ((*added_body)["result"]["structuredContent"]["sum"].as_number(), 3) << added->body;

  auto failed = mcp(
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"github.fail","arguments":{}}})",
      session);
  ASSERT_TRUE(failed && failed->status == 200);
  auto failed_body = failed->json();
  ASSERT_TRUE(failed_body);
  EXPECT_TRUE((*failed_body)["result"]["isError"].as_bool()) << failed->body;
  EXPECT_EQ((*failed_body)["result"]["content"][0]["text"].str(), "the tool failed on purpose");

  auto image = mcp(
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"github.image","arguments":{}}})",
      session);
  ASSERT_TRUE(image && image->status == 200);
  auto image_body = image->json();
  ASSERT_TRUE(image_body);
  EXPECT_EQ((*image_body)["result"]["content"][0]["mimeType"].str(), "image/png")
      << "the upstream's content did not pass verbatim: " << image->body;

  // The upstream got the entry's token, never an agent's key; one session served it all.
  auto requests = upstream->requests();
  ASSERT_TRUE(requests);
  for (const Json& req : requests->items()) {
    EXPECT_EQ(req["headers"]["authorization"].str(), std::string("Bearer ") + kUpstreamToken);
  }
  EXPECT_EQ(upstream->count("initialize"), 1);
}

TEST_F(McpUpstreamThroughSluice, ArgumentsAreCheckedAgainstTheUpstreamsSchemaFirst) {
  upstream = std::make_unique<MockMcpServer>(mock_mcp_binary());
  ASSERT_TRUE(upstream->ok());
  start(upstream->url());
  ASSERT_TRUE(github_listed(kMockTools)) << sluice.describe();
  auto missing = call("github.echo", "{}");
  ASSERT_TRUE(is_openai_error(missing, 400, "invalid_arguments"));
  EXPECT_NE(missing->body.find("text"), std::string::npos) << missing->body;
  auto wrong = call("github.add", R"({"a":"one","b":2})");
  ASSERT_TRUE(is_openai_error(wrong, 400, "invalid_arguments"));
  EXPECT_EQ(upstream->count("tools/call"), 0) << "a call failing its schema reached the server";
}

TEST_F(McpUpstreamThroughSluice, StartsAndServesModelsWhileTheUpstreamIsDownThenPicksItUp) {
  const uint16_t port = unused_port();
  const auto started = std::chrono::steady_clock::now();
  start("http://127.0.0.1:" + std::to_string(port) + "/mcp");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);

  HttpClient client = sluice.client();
  auto chat =
      client.post_json("/v1/chat/completions", chat_body(kFastModel, "hello"), bearer(kAliceKey));
  ASSERT_TRUE(chat && chat->status == 200) << (chat ? chat->describe() : client.error());
  auto models = client.get("/v1/models", bearer(kAliceKey));
  ASSERT_TRUE(models && models->status == 200);
  EXPECT_TRUE(functions(kAliceKey).empty());
  EXPECT_TRUE(is_openai_error(call("github.echo", R"({"text":"x"})"), 404, "tool_not_found"));

  upstream = std::make_unique<MockMcpServer>(mock_mcp_binary(), std::vector<std::string>{}, port);
  ASSERT_TRUE(upstream->ok());
  ASSERT_TRUE(github_listed(kMockTools, 15s)) << sluice.describe();
  auto r = call("github.echo", R"({"text":"it came back"})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
  EXPECT_EQ((*r->json())["result"].str(), "it came back");
}

TEST_F(McpUpstreamThroughSluice, UpstreamFaultsReachTheAgentAsToolErrors) {
  upstream = std::make_unique<MockMcpServer>(mock_mcp_binary());
  ASSERT_TRUE(upstream->ok());
  start(upstream->url());
  ASSERT_TRUE(github_listed(kMockTools)) << sluice.describe();

  // A dropped session: renewed, the call succeeds.
  ASSERT_TRUE(upstream->drop_sessions());
  auto r = call("github.echo", R"({"text":"renewed"})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
  EXPECT_EQ(upstream->count("initialize"), 2);

  // A hanging call: the entry's timeout (1s) ends it; the next call is fine.
  ASSERT_TRUE(upstream->fault("hang", "tools/call"));
  const auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(is_openai_error(call("github.echo", R"({"text":"hang"})"), 504, "tool_timeout"));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 4s);

  ASSERT_TRUE(upstream->fault("status:503", "tools/call"));
  auto unavailable = call("github.echo", R"({"text":"5xx"})");
  ASSERT_TRUE(is_openai_error(unavailable, 503, "tool_unavailable"));
  EXPECT_NE(unavailable->body.find("HTTP 503"), std::string::npos) << unavailable->body;

  EXPECT_TRUE(is_openai_error(call("github.fail", "{}"), 502, "tool_error"));

  auto too_large = call("github.big", R"({"bytes":200000})");
  ASSERT_TRUE(is_openai_error(too_large, 503, "tool_unavailable"));
  EXPECT_NE(too_large->body.find("too large"), std::string::npos) << too_large->body;

  ASSERT_TRUE(upstream->fault("malformed:wrong_version", "tools/call"));
  auto malformed = call("github.echo", R"({"text":"x"})");
  ASSERT_TRUE(is_openai_error(malformed, 503, "tool_unavailable"));
  EXPECT_NE(malformed->body.find("malformed"), std::string::npos) << malformed->body;

  r = call("github.echo", R"({"text":"still here"})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
}

TEST_F(McpUpstreamThroughSluice, ListChangesWhileCallsAreInFlight) {
  upstream = std::make_unique<MockMcpServer>(mock_mcp_binary());
  ASSERT_TRUE(upstream->ok());
  start(upstream->url(), /*workers=*/2);
  ASSERT_TRUE(github_listed(kMockTools)) << sluice.describe();
  std::vector<std::future<std::optional<HttpResponse>>> calls;
  for (int i = 0; i < 6; ++i) {
    calls.push_back(
        std::async(std::launch::async, [this] { return call("github.sleep", R"({"ms":500})"); }));
  }
  std::this_thread::sleep_for(150ms);
  ASSERT_TRUE(upstream->add_tool("triage"));
  ASSERT_TRUE(upstream->remove_tool("big"));
  EXPECT_TRUE(eventually(
      [&] {
        auto f = functions(kAliceKey);
        return f.count("github_triage") == 1 && f.count("github_big") == 0;
      },
      5s));
  for (auto& c : calls) {
    auto r = c.get();
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
    EXPECT_EQ((*r->json())["result"].str(), "slept 500ms");
  }
  auto r = call("github.triage", R"({"text":"new"})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
}

TEST_F(McpUpstreamThroughSluice, HundredsOfReloadsKeepOneSessionAndARemovedEntryEndsIt) {
  upstream = std::make_unique<MockMcpServer>(mock_mcp_binary());
  ASSERT_TRUE(upstream->ok());
  start(upstream->url(), /*workers=*/2);
  ASSERT_TRUE(github_listed(kMockTools)) << sluice.describe();

  // A burst of calls across both workers while the config reloads again and again.
  std::vector<std::future<bool>> burst;
  for (int i = 0; i < 4; ++i) {
    burst.push_back(std::async(std::launch::async, [this, i] {
      bool all_ok = true;
      for (int n = 0; n < 25; ++n) {
        auto r = call("github.echo", R"({"text":"burst )" + std::to_string(i) + "\"}");
        all_ok = all_ok && r && r->status == 200;
      }
      return all_ok;
    }));
  }
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(reload()) << "reload " << i << sluice.describe();
  for (auto& b : burst) EXPECT_TRUE(b.get()) << "a call failed during the reloads";
  EXPECT_EQ(functions(kAliceKey).size(), kMockTools);
  EXPECT_EQ(upstream->count("initialize"), 1) << "a reload of an unchanged entry made a session";
  EXPECT_EQ(upstream->count("DELETE"), 0);

  // A reload that removes the entry while a call runs: the call completes; the tools go; the
  // session is ended.
  auto slow =
      std::async(std::launch::async, [this] { return call("github.sleep", R"({"ms":600})"); });
  std::this_thread::sleep_for(150ms);
  GatewayConfig without = config;
  without.extra.clear();
  without.alice_extra.clear();  // an allow-list naming no tool of the config is a load error
  without.bob_extra.clear();
  sluice.dir().write("sluice.yaml", without.to_yaml());
  ASSERT_TRUE(reload()) << sluice.describe();
  EXPECT_TRUE(functions(kAliceKey).empty());
  auto r = slow.get();
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
  EXPECT_EQ((*r->json())["result"].str(), "slept 600ms");
  EXPECT_TRUE(eventually([&] { return upstream->count("DELETE") >= 1; }, 5s));
  EXPECT_TRUE(eventually(
      [&] { return upstream->stats().value_or(Json())["get_streams_open"].as_int() == 0; }, 5s));

  // Back again: a new session.
  sluice.dir().write("sluice.yaml", config.to_yaml());
  ASSERT_TRUE(reload()) << sluice.describe();
  ASSERT_TRUE(github_listed(kMockTools)) << sluice.describe();
  EXPECT_EQ(upstream->count("initialize"), 2);
}

}  // namespace
}  // namespace sluice::test
