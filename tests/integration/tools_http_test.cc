// Tools over REST and MCP (DESIGN §5 "Tools"), with `type: http` tools served by the mock
// provider's /tools/ endpoints: GET /v1/tools shows an agent only its tools as OpenAI
// function tools; POST /v1/tools/{name} and /mcp tools/call check arguments against
// input_schema before the tool is called, bound every call by its timeout and report a
// failing tool as an error, never a hang; a tool the agent may not use does not exist for it.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

std::string tools_yaml(const std::string& base) {
  std::string y = "tools:\n";
  y += "  echo.post:\n";
  y += "    type: http\n";
  y += "    description: Echoes its arguments\n";
  y += "    url: " + base + "/tools/echo\n";
  y += "    timeout: 2s\n";
  y += "    headers: {X-Tool-Secret: s3cret}\n";
  y += "    input_schema:\n";
  y += "      type: object\n";
  y += "      properties:\n";
  y += "        city: {type: string}\n";
  y += "        days: {type: integer, minimum: 1, maximum: 7}\n";
  y += "      required: [city]\n";
  y += "  echo.get:\n";
  y += "    type: http\n";
  y += "    method: GET\n";
  y += "    url: " + base + "/tools/search\n";
  y += "  text.echo: {type: http, url: " + base + "/tools/text}\n";
  y += "  big.one: {type: http, url: " + base + "/tools/big, max_response: 64KiB}\n";
  y += "  slow.one: {type: http, url: " + base + "/tools/slow, timeout: 300ms}\n";
  y += "  admin.only: {type: http, url: " + base + "/tools/admin}\n";
  return y;
}

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    ASSERT_TRUE(sluice.start(sluice_binary(), config().to_yaml()));
  }

  GatewayConfig config() {
    GatewayConfig c;
    c.provider_base_url = mock.base_url();
    c.alice_extra = "    tools: [\"echo.*\", text.echo, big.one, slow.one]\n";
    c.bob_extra = "    tools: [echo.post]\n    limits: {rpm: 3}\n";
    c.filters_after_auth = "  - rate_limit: {}\n";
    c.ledger_path = sluice.dir().file("ledger.db");
    c.access_log_path = sluice.dir().file("access.log");
    c.extra = tools_yaml(mock_root());
    return c;
  }
  std::string mock_root() { return "http://127.0.0.1:" + std::to_string(mock.port()); }

  std::optional<HttpResponse> call(const std::string& key, const std::string& tool,
                                   const std::string& args) {
    HttpClient client = sluice.client();
    return client.post_json("/v1/tools/" + tool, args, bearer(key));
  }

  // One JSON-RPC message to /mcp.
  std::optional<HttpResponse> mcp(const std::string& key, const std::string& body,
                                  const std::string& session = "") {
    Headers h = bearer(key);
    if (!session.empty()) h.emplace_back("Mcp-Session-Id", session);
    h.emplace_back("Accept", "application/json, text/event-stream");
    HttpClient client = sluice.client();
    return client.post_json("/mcp", body, h);
  }

  std::string initialize(const std::string& key, const std::string& version = "2025-06-18") {
    auto r =
        mcp(key, R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":")" +
                     version + R"(","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    return r ? r->header("mcp-session-id") : "";
  }

  size_t mock_calls(const std::string& prefix) {
    auto requests = mock.requests();
    size_t n = 0;
    if (!requests) return 0;
    for (const Json& r : requests->items()) {
      if (r["path"].str().rfind(prefix, 0) == 0) ++n;
    }
    return n;
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(ToolsTest, ListShowsOnlyTheAgentsToolsAsOpenAiFunctions) {
  HttpClient client = sluice.client();
  auto r = client.get("/v1/tools", bearer(kAliceKey));
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : client.error());
  auto body = r->json();
  ASSERT_TRUE(body);
  std::set<std::string> names;
  for (const Json& t : (*body)["data"].items()) {
    EXPECT_EQ(t["type"].str(), "function");
    names.insert(t["function"]["name"].str());
    EXPECT_TRUE(t["function"]["parameters"].is_object()) << t.dump();
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"echo_post", "echo_get", "text_echo", "big_one", "slow_one"}));
  EXPECT_EQ(r->body.find("s3cret"), std::string::npos) << "a tool's header leaked";
  EXPECT_EQ(r->body.find("admin"), std::string::npos);

  auto bob = client.get("/v1/tools", bearer(kBobKey));
  ASSERT_TRUE(bob && bob->status == 200);
  auto bob_body = bob->json();
  ASSERT_EQ((*bob_body)["data"].items().size(), 1u) << bob->body;
  const Json& f = (*bob_body)["data"].items()[0]["function"];
  EXPECT_EQ(f["name"].str(), "echo_post");
  EXPECT_EQ(f["description"].str(), "Echoes its arguments");
  EXPECT_EQ(f["parameters"]["required"].items()[0].str(), "city");
}

TEST_F(ToolsTest, RestCallSendsArgumentsAndSecretHeaderAndAnswersResult) {
  auto r = call(kAliceKey, "echo.post", R"({"city":"Kyiv","days":3})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "");
  auto body = r->json();
  ASSERT_TRUE(body) << r->body;
  EXPECT_EQ((*body)["result"]["tool"].str(), "echo");
  EXPECT_EQ((*body)["result"]["arguments"]["city"].str(), "Kyiv");
  EXPECT_EQ((*body)["result"]["arguments"]["days"].as_number(), 3);
  auto requests = mock.requests();
  ASSERT_TRUE(requests);
  const Json& last = requests->items().back();
  EXPECT_EQ(last["headers"]["x-tool-secret"].str(), "s3cret");
  EXPECT_EQ(last["headers"]["x-sluice-agent"].str(), "alice");
  EXPECT_TRUE(last["headers"]["authorization"].is_null()) << "the agent's key went to the tool";

  // The function name works too.
  auto by_function = call(kAliceKey, "echo_post", R"({"city":"Lviv"})");
  ASSERT_TRUE(by_function && by_function->status == 200) << by_function->describe();
}

TEST_F(ToolsTest, GetToolSendsArgumentsAsQueryString) {
  auto r = call(kAliceKey, "echo.get", R"({"q":"a b&c","n":2,"tags":["x","y"]})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "");
  auto requests = mock.requests();
  ASSERT_TRUE(requests);
  const Json& last = requests->items().back();
  EXPECT_EQ(last["method"].str(), "GET");
  EXPECT_EQ(last["path"].str(), "/tools/search?q=a%20b%26c&n=2&tags=x&tags=y");
}

TEST_F(ToolsTest, TextAnswerIsAString) {
  auto r = call(kAliceKey, "text.echo", R"({"say":"hi"})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "");
  EXPECT_EQ((*r->json())["result"].str(), R"(echo: {"say":"hi"})");
}

TEST_F(ToolsTest, UnknownAndForbiddenToolsAreTheSameError) {
  auto unknown = call(kBobKey, "no.such", "{}");
  auto forbidden = call(kBobKey, "text.echo", "{}");
  EXPECT_TRUE(is_openai_error(unknown, 404, "tool_not_found"));
  EXPECT_TRUE(is_openai_error(forbidden, 404, "tool_not_found"));
  EXPECT_EQ(mock_calls("/tools/text"), 0u);
}

TEST_F(ToolsTest, ArgumentsFailingTheSchemaNeverReachTheTool) {
  auto missing = call(kAliceKey, "echo.post", R"({"days":3})");
  ASSERT_TRUE(is_openai_error(missing, 400, "invalid_arguments"));
  EXPECT_NE(missing->body.find("city"), std::string::npos) << missing->body;
  auto wrong = call(kAliceKey, "echo.post", R"({"city":"Kyiv","days":"3"})");
  ASSERT_TRUE(is_openai_error(wrong, 400, "invalid_arguments"));
  EXPECT_NE(wrong->body.find("days"), std::string::npos) << wrong->body;
  auto too_many = call(kAliceKey, "echo.post", R"({"city":"Kyiv","days":30})");
  ASSERT_TRUE(is_openai_error(too_many, 400, "invalid_arguments"));
  auto not_object = call(kAliceKey, "echo.post", R"(["Kyiv"])");
  EXPECT_TRUE(is_openai_error(not_object, 400, "invalid_request_error"));
  EXPECT_EQ(mock_calls("/tools/echo"), 0u);
}

TEST_F(ToolsTest, FailingToolsAreErrorsAndAHangingOneTimesOut) {
  ASSERT_TRUE(mock.control("status:503", 1, "/tools"));
  EXPECT_TRUE(is_openai_error(call(kAliceKey, "text.echo", "{}"), 502, "tool_error"));

  ASSERT_TRUE(mock.control("hang", 1, "/tools"));
  const auto started = std::chrono::steady_clock::now();
  auto slow = call(kAliceKey, "slow.one", "{}");
  EXPECT_TRUE(is_openai_error(slow, 504, "tool_timeout"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "the timeout did not bound it";

  EXPECT_TRUE(is_openai_error(call(kAliceKey, "big.one", "{}"), 503, "tool_unavailable"));
  // Nothing is stuck: the next call works.
  auto ok = call(kAliceKey, "text.echo", R"({"n":1})");
  EXPECT_TRUE(ok && ok->status == 200) << (ok ? ok->describe() : "");
}

TEST_F(ToolsTest, ToolCallsCountAgainstRpmButListingDoesNot) {
  HttpClient client = sluice.client();
  for (int i = 0; i < 3; ++i) {
    auto list = client.get("/v1/tools", bearer(kBobKey));
    ASSERT_TRUE(list && list->status == 200);
  }
  for (int i = 0; i < 3; ++i) {
    auto r = call(kBobKey, "echo.post", R"({"city":"x"})");
    ASSERT_TRUE(r && r->status == 200) << r->describe();
  }
  auto refused = call(kBobKey, "echo.post", R"({"city":"x"})");
  EXPECT_TRUE(is_openai_error(refused, 429, "rate_limit_exceeded"));
  EXPECT_FALSE(refused->header("retry-after").empty());
}

TEST_F(ToolsTest, McpSessionListAndCall) {
  const std::string session = initialize(kAliceKey);
  ASSERT_EQ(session.size(), 32u);

  auto list = mcp(kAliceKey, R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})", session);
  ASSERT_TRUE(list && list->status == 200) << list->describe();
  auto lb = list->json();
  std::set<std::string> names;
  for (const Json& t : (*lb)["result"]["tools"].items()) {
    names.insert(t["name"].str());
    EXPECT_TRUE(t["inputSchema"].is_object());
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"echo.post", "echo.get", "text.echo", "big.one", "slow.one"}));

  auto ok = mcp(
      kAliceKey,
      R"({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"echo.post","arguments":{"city":"Kyiv"}}})",
      session);
  ASSERT_TRUE(ok && ok->status == 200) << ok->describe();
  auto ob = ok->json();
  EXPECT_EQ((*ob)["id"].str(), "c1");
  EXPECT_FALSE((*ob)["result"]["isError"].as_bool());
  EXPECT_EQ((*ob)["result"]["structuredContent"]["arguments"]["city"].str(), "Kyiv");
  EXPECT_EQ((*ob)["result"]["content"].items()[0]["type"].str(), "text");

  ASSERT_TRUE(mock.control("status:500", 1, "/tools"));
  auto failed = mcp(
      kAliceKey, R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"text.echo"}})",
      session);
  ASSERT_TRUE(failed && failed->status == 200) << failed->describe();
  EXPECT_TRUE((*failed->json())["result"]["isError"].as_bool()) << failed->body;

  auto bad_args = mcp(
      kAliceKey,
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo.post","arguments":{}}})",
      session);
  ASSERT_TRUE(bad_args && bad_args->status == 200);
  EXPECT_TRUE((*bad_args->json())["result"]["isError"].as_bool());
  EXPECT_NE(bad_args->body.find("city"), std::string::npos) << bad_args->body;

  auto unknown = mcp(
      kAliceKey, R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"admin.only"}})",
      session);
  ASSERT_TRUE(unknown && unknown->status == 200);
  EXPECT_EQ((*unknown->json())["error"]["code"].as_number(), -32602) << unknown->body;
}

TEST_F(ToolsTest, McpProtocolRules) {
  // Version negotiation: a supported version is echoed; an unknown one gets the newest.
  auto old = mcp(
      kAliceKey,
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26"}})");
  ASSERT_TRUE(old && old->status == 200);
  EXPECT_EQ((*old->json())["result"]["protocolVersion"].str(), "2025-03-26");
  auto future = mcp(
      kAliceKey,
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2099-01-01"}})");
  EXPECT_EQ((*future->json())["result"]["protocolVersion"].str(), "2025-11-25");
  const std::string session = future->header("mcp-session-id");

  // Notifications: 202, no body.
  auto note = mcp(kAliceKey, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", session);
  ASSERT_TRUE(note);
  EXPECT_EQ(note->status, 202);
  EXPECT_TRUE(note->body.empty());

  auto ping = mcp(kAliceKey, R"({"jsonrpc":"2.0","id":7,"method":"ping"})", session);
  EXPECT_EQ(ping->body, R"({"jsonrpc":"2.0","id":7,"result":{}})");

  // Another agent cannot use alice's session; an unknown one is 404 (initialize again).
  auto stolen = mcp(kBobKey, R"({"jsonrpc":"2.0","id":8,"method":"ping"})", session);
  EXPECT_EQ(stolen->status, 404);
  auto unknown = mcp(kAliceKey, R"({"jsonrpc":"2.0","id":8,"method":"ping"})",
                     "00000000000000000000000000000000");
  EXPECT_EQ(unknown->status, 404);

  // Malformed JSON-RPC.
  auto batch = mcp(kAliceKey, R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", session);
  EXPECT_EQ(batch->status, 400);
  EXPECT_EQ((*batch->json())["error"]["code"].as_number(), -32600);
  auto version = mcp(kAliceKey, R"({"jsonrpc":"1.0","id":1,"method":"ping"})", session);
  EXPECT_EQ((*version->json())["error"]["code"].as_number(), -32600);
  auto not_json = mcp(kAliceKey, "{oops", session);
  EXPECT_EQ((*not_json->json())["error"]["code"].as_number(), -32700);
  auto no_method = mcp(kAliceKey, R"({"jsonrpc":"2.0","id":1})", session);
  EXPECT_EQ((*no_method->json())["error"]["code"].as_number(), -32600);
  auto missing = mcp(kAliceKey, R"({"jsonrpc":"2.0","id":9,"method":"resources/list"})", session);
  EXPECT_EQ((*missing->json())["error"]["code"].as_number(), -32601);

  // GET: no server stream (405); DELETE ends the session.
  HttpClient client = sluice.client();
  Headers h = bearer(kAliceKey);
  h.emplace_back("Mcp-Session-Id", session);
  auto get = client.request("GET", "/mcp", "", h);
  EXPECT_EQ(get->status, 405);
  auto del = client.request("DELETE", "/mcp", "", h);
  EXPECT_EQ(del->status, 200);
  auto after = mcp(kAliceKey, R"({"jsonrpc":"2.0","id":10,"method":"ping"})", session);
  EXPECT_EQ(after->status, 404);

  // Authentication as for every agent request: 401 stays an HTTP 401.
  HttpClient anon = sluice.client();
  auto no_key = anon.post_json("/mcp", R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  ASSERT_TRUE(no_key);
  EXPECT_EQ(no_key->status, 401);
  EXPECT_EQ((*no_key->json())["jsonrpc"].str(), "2.0") << no_key->body;
}

TEST_F(ToolsTest, McpRefusalsAreJsonRpcErrors) {
  const std::string session = initialize(kBobKey);
  const std::string call_body =
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo.post","arguments":{"city":"x"}}})";
  for (int i = 0; i < 3; ++i) {
    auto r = mcp(kBobKey, call_body, session);
    ASSERT_TRUE(r && r->status == 200) << r->describe();
    EXPECT_FALSE((*r->json())["result"]["isError"].as_bool()) << r->body;
  }
  auto refused = mcp(kBobKey, call_body, session);
  ASSERT_TRUE(refused && refused->status == 200) << refused->describe();
  auto body = refused->json();
  EXPECT_EQ((*body)["error"]["code"].as_number(), -32000) << refused->body;
  EXPECT_EQ((*body)["error"]["data"]["status"].as_number(), 429);
  EXPECT_EQ((*body)["error"]["data"]["code"].str(), "rate_limit_exceeded");
  // tools/list is not a call: still served.
  auto list = mcp(kBobKey, R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})", session);
  EXPECT_TRUE((*list->json())["result"]["tools"].is_array()) << list->body;
}

TEST_F(ToolsTest, EveryCallIsCountedLoggedAndInTheLedger) {
  ASSERT_TRUE(call(kAliceKey, "echo.post", R"({"city":"Kyiv"})")->status == 200);
  ASSERT_TRUE(mock.control("status:500", 1, "/tools"));
  ASSERT_EQ(call(kAliceKey, "text.echo", "{}")->status, 502);
  ASSERT_EQ(call(kAliceKey, "echo.post", "{}")->status, 400);

  // The worker counts a request just after its last byte went out: poll until the last one is in.
  HttpClient admin = sluice.admin_client();
  std::optional<HttpResponse> metrics;
  eventually(
      [&] {
        metrics = admin.get("/metrics");
        // The series appears at 0 before its increment: wait for the count itself.
        return metrics &&
               metrics->body.find(
                   R"(sluice_tool_calls_total{agent="alice",result="invalid_arguments",tool="echo.post"} 1)") !=
                   std::string::npos;
      },
      5s);
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_NE(metrics->body.find(
                R"(sluice_tool_calls_total{agent="alice",result="ok",tool="echo.post"} 1)"),
            std::string::npos)
      << metrics->body.substr(0, 4000);
  EXPECT_NE(metrics->body.find(
                R"(sluice_tool_calls_total{agent="alice",result="error",tool="text.echo"} 1)"),
            std::string::npos);
  EXPECT_NE(
      metrics->body.find(
          R"(sluice_tool_calls_total{agent="alice",result="invalid_arguments",tool="echo.post"} 1)"),
      std::string::npos);
  EXPECT_NE(metrics->body.find("sluice_tool_call_duration_seconds_count{tool=\"echo.post\"}"),
            std::string::npos);

  // The access log has one line per call with the tool and its result.
  std::string log;
  for (int i = 0; i < 50 && log.find("\"tool_result\":\"invalid_arguments\"") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(50ms);
    std::ifstream in(sluice.dir().file("access.log"));
    std::stringstream ss;
    ss << in.rdbuf();
    log = ss.str();
  }
  EXPECT_NE(log.find(R"("tool":"echo.post","tool_result":"ok")"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("tool":"text.echo","tool_result":"error")"), std::string::npos) << log;
}

TEST_F(ToolsTest, AClientLeavingDuringACallCancelsItAndNothingIsStuck) {
  ASSERT_TRUE(mock.control("hang", 1, "/tools"));
  {
    HttpClient client = sluice.client();
    ASSERT_TRUE(client.connect());
    ASSERT_TRUE(
        client.send_raw("POST /v1/tools/text.echo HTTP/1.1\r\nHost: x\r\n"
                        "Authorization: Bearer " +
                        std::string(kAliceKey) + "\r\nContent-Length: 2\r\n\r\n{}"));
    ASSERT_TRUE(eventually([&] { return mock_calls("/tools/text") == 1; }, 5s));
    client.close();  // while the mock holds the call
  }
  ASSERT_TRUE(eventually([&] { return mock_calls("/tools/text") == 1; }, 5s));
  auto next = call(kAliceKey, "text.echo", R"({"n":2})");
  ASSERT_TRUE(next && next->status == 200) << (next ? next->describe() : "");
  std::string log;
  EXPECT_TRUE(eventually(
      [&] {
        std::ifstream in(sluice.dir().file("access.log"));
        std::stringstream ss;
        ss << in.rdbuf();
        log = ss.str();
        return log.find(R"("tool_result":"client_gone")") != std::string::npos;
      },
      5s))
      << log;
}

TEST_F(ToolsTest, AReloadRemovingAToolLetsItsCallInFlightFinish) {
  ASSERT_TRUE(mock.control("slow:600", 1, "/tools"));
  std::optional<HttpResponse> in_flight;
  std::thread caller([&] { in_flight = call(kAliceKey, "text.echo", R"({"n":1})"); });
  ASSERT_TRUE(eventually([&] { return mock_calls("/tools/text") == 1; }, 5s));
  GatewayConfig without = config();
  without.alice_extra = "    tools: [\"echo.*\"]\n";
  without.extra = "tools:\n  echo.post: {type: http, url: " + mock_root() + "/tools/echo}\n";
  sluice.dir().write("sluice.yaml", without.to_yaml());
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload && reload->status == 200) << (reload ? reload->describe() : "");
  caller.join();
  ASSERT_TRUE(in_flight && in_flight->status == 200) << (in_flight ? in_flight->describe() : "");
  EXPECT_EQ((*in_flight->json())["result"].str(), R"(echo: {"n":1})");
  EXPECT_TRUE(is_openai_error(call(kAliceKey, "text.echo", "{}"), 404, "tool_not_found"));
}

}  // namespace
}  // namespace sluice::test
