// `type: lua` tools through the agents' API (DESIGN §5 "Tools", §9), with real sockets: the
// shipped shout_tool and fetch_json_tool and tools written here, called over REST
// (POST /v1/tools/{name}) and MCP (tools/call) — text, JSON, the tool's own errors, error()
// with its line, the instruction budget; sluice.http against the mock provider's /tools/
// endpoint, answering, failing and hanging past the deadline (the deadline ends the call,
// nothing is stuck); a client leaving mid-call; a syntax error refused at start and at reload
// (the old config keeps serving); and bursts of calls on two workers while the config reloads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

std::string shipped(const std::string& name) {
  return std::string(SLUICE_SOURCE_DIR) + "/plugins/lua/" + name;
}

// Answers as its `mode` argument says (a tool written for these tests).
const char* const kModesTool = R"(local calls = 0
return {
  name = "modes",
  description = "Answers as its mode says",
  input_schema = {type = "object", required = {"mode"},
                  properties = {mode = {type = "string",
                                        enum = {"text", "json", "error", "nil", "loop"}}}},
  call = function(args, ctx)
    calls = calls + 1
    if args.mode == "text" then return "plain text" end
    if args.mode == "json" then
      return {agent = ctx.agent, tool = ctx.tool, request_id = ctx.request_id}
    end
    if args.mode == "error" then error("boom") end
    if args.mode == "nil" then return nil, "city not found" end
    while true do end
  end,
}
)";

// Counts its calls in sluice.shared after a sluice.http to the mock: every call that answered
// did both.
const char* const kCountTool = R"(return {
  schema = {url = {type = "string", required = true}, version = {type = "string", default = "v1"}},
  call = function(args, ctx)
    local r, err = sluice.http{url = ctx.config.url, timeout = 3000}
    if not r then return nil, err end
    if r.status ~= 200 then return nil, "status " .. r.status end
    return {n = sluice.shared:incr("tools_lua_test_count", 1), version = ctx.config.version}
  end,
}
)";

class LuaToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    sluice.dir().write("modes.lua", kModesTool);
    sluice.dir().write("count.lua", kCountTool);
  }

  std::string mock_root() { return "http://127.0.0.1:" + std::to_string(mock.port()); }

  std::string config(const std::string& count_version = "v1", int workers = 2) {
    GatewayConfig c;
    c.provider_base_url = mock.base_url();
    c.workers = workers;
    c.alice_extra = "    tools: [\"text.*\", \"weather.*\", lua.modes, lua.count]\n";
    c.bob_extra = "    tools: [text.shout]\n";
    std::string y = "tools:\n";
    y += "  text.shout: {type: lua, file: " + shipped("shout_tool.lua") +
         ", config: {suffix: \"!\"}}\n";
    y += "  weather.now:\n    type: lua\n    file: " + shipped("fetch_json_tool.lua") + "\n";
    y += "    description: What the service says of a city\n";
    y += "    input_schema: {type: object, properties: {city: {type: string}}, required: [city]}\n";
    y += "    timeout: 600ms\n";
    y += "    config: {url: \"" + mock_root() + "/tools/{city}\", fields: [tool, method]}\n";
    y += "  lua.modes: {type: lua, file: modes.lua, max_instructions: 100000}\n";
    y += "  lua.count: {type: lua, file: count.lua, config: {url: \"" + mock_root() +
         "/tools/count\", version: " + count_version + "}}\n";
    c.extra = y;
    return c.to_yaml();
  }

  void start(int workers = 2) { ASSERT_TRUE(sluice.start(sluice_binary(), config("v1", workers))); }

  std::optional<HttpResponse> call(const std::string& tool, const std::string& args,
                                   const std::string& key = kAliceKey, Headers extra = {}) {
    HttpClient client = sluice.client();
    client.set_timeout(10s);
    Headers h = bearer(key);
    h.insert(h.end(), extra.begin(), extra.end());
    return client.post_json("/v1/tools/" + tool, args, h);
  }

  // One JSON-RPC tools/call to /mcp (stateless: no session).
  std::optional<Json> mcp_call(const std::string& tool, const std::string& arguments) {
    Headers h = bearer(kAliceKey);
    h.emplace_back("Accept", "application/json, text/event-stream");
    HttpClient client = sluice.client();
    client.set_timeout(10s);
    auto r =
        client.post_json("/mcp",
                         R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":")" +
                             tool + R"(","arguments":)" + arguments + "}}",
                         h);
    if (!r || r->status != 200) {
      ADD_FAILURE() << (r ? r->describe() : "no response");
      return std::nullopt;
    }
    return r->json();
  }

  double plugin_errors(const std::string& plugin) {
    auto r = sluice.admin_client().get("/metrics");
    if (!r) return -1;
    const std::string key = "sluice_plugin_errors_total{hook=\"call\",plugin=\"" + plugin + "\"} ";
    size_t at = r->body.find(key);
    if (at == std::string::npos) return 0;
    return std::stod(r->body.substr(at + key.size()));
  }

  static std::string error_message(const std::optional<HttpResponse>& r) {
    auto body = r ? r->json() : std::nullopt;
    return body ? (*body)["error"]["message"].str() : "";
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(LuaToolsTest, ShoutAnswersTextOverRestAndMcp) {
  start();
  auto r = call("text.shout", R"({"text":"hello"})", kBobKey);
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : sluice.describe());
  EXPECT_EQ(r->body, R"({"result":"HELLO!"})");
  auto by_function = call("text_shout", R"({"text":"hi"})", kBobKey);
  ASSERT_TRUE(by_function && by_function->status == 200);
  EXPECT_EQ((*by_function->json())["result"].str(), "HI!");

  auto m = mcp_call("text.shout", R"({"text":"mcp"})");
  ASSERT_TRUE(m);
  EXPECT_FALSE((*m)["result"]["isError"].as_bool()) << m->dump();
  EXPECT_EQ((*m)["result"]["content"].items()[0]["text"].str(), "MCP!");
  EXPECT_TRUE((*m)["result"]["structuredContent"].is_null());
}

TEST_F(LuaToolsTest, TheFilesDescriptionAndSchemaAreListedAndChecked) {
  start();
  HttpClient client = sluice.client();
  auto list = client.get("/v1/tools", bearer(kBobKey));
  ASSERT_TRUE(list && list->status == 200) << (list ? list->describe() : "");
  auto body = list->json();
  ASSERT_EQ((*body)["data"].items().size(), 1u) << list->body;
  const Json& f = (*body)["data"].items()[0]["function"];
  EXPECT_EQ(f["name"].str(), "text_shout");
  EXPECT_EQ(f["description"].str(), "Answers the given text in upper case");
  EXPECT_EQ(f["parameters"]["required"].items()[0].str(), "text");

  auto missing = call("text.shout", R"({"words":"hello"})", kBobKey);
  ASSERT_TRUE(is_openai_error(missing, 400, "invalid_arguments"));
  EXPECT_NE(error_message(missing).find("text"), std::string::npos) << missing->body;
  auto wrong = call("lua.modes", R"({"mode":"shout"})");
  ASSERT_TRUE(is_openai_error(wrong, 400, "invalid_arguments"));
  EXPECT_NE(error_message(wrong).find("mode"), std::string::npos) << wrong->body;
  // Bob may not use the others: they do not exist for him.
  EXPECT_TRUE(is_openai_error(call("lua.modes", R"({"mode":"text"})", kBobKey), 404));
}

TEST_F(LuaToolsTest, JsonTextAndTheToolsOwnErrors) {
  start();
  auto text = call("lua.modes", R"({"mode":"text"})");
  ASSERT_TRUE(text && text->status == 200) << (text ? text->describe() : "");
  EXPECT_EQ(text->body, R"({"result":"plain text"})");

  auto json = call("lua.modes", R"({"mode":"json"})", kAliceKey, {{"x-request-id", "req-lua-7"}});
  ASSERT_TRUE(json && json->status == 200) << (json ? json->describe() : "");
  EXPECT_EQ(json->body,
            R"({"result":{"agent":"alice","request_id":"req-lua-7","tool":"lua.modes"}})");
  auto m = mcp_call("lua.modes", R"({"mode":"json"})");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["result"]["structuredContent"]["tool"].str(), "lua.modes") << m->dump();
  EXPECT_FALSE((*m)["result"]["isError"].as_bool());

  const double errors_before = plugin_errors("modes");
  auto not_found = call("lua.modes", R"({"mode":"nil"})");
  ASSERT_TRUE(is_openai_error(not_found, 502, "tool_error"));
  EXPECT_EQ(error_message(not_found), "tool lua.modes failed: city not found");
  EXPECT_EQ(plugin_errors("modes"), errors_before) << "the tool's own answer is no plugin error";

  auto boom = call("lua.modes", R"({"mode":"error"})");
  ASSERT_TRUE(is_openai_error(boom, 502, "tool_error"));
  EXPECT_NE(error_message(boom).find("modes.lua:14: boom"), std::string::npos) << boom->body;
  m = mcp_call("lua.modes", R"({"mode":"error"})");
  ASSERT_TRUE(m);
  EXPECT_TRUE((*m)["result"]["isError"].as_bool());
  EXPECT_NE((*m)["result"]["content"].items()[0]["text"].str().find("modes.lua:14: boom"),
            std::string::npos)
      << m->dump();
  EXPECT_EQ(plugin_errors("modes"), errors_before + 2);
}

TEST_F(LuaToolsTest, AnEndlessLoopIsStoppedAndTheWorkerServesOn) {
  start(1);
  auto loop = call("lua.modes", R"({"mode":"loop"})");
  ASSERT_TRUE(is_openai_error(loop, 502, "tool_error"));
  EXPECT_EQ(error_message(loop),
            "tool lua.modes failed: instruction budget exceeded (max_instructions: 100000)");
  auto next = call("lua.modes", R"({"mode":"text"})");
  ASSERT_TRUE(next && next->status == 200) << (next ? next->describe() : "");
}

TEST_F(LuaToolsTest, SluiceHttpAsksTheServiceAndReportsItsFailures) {
  start();
  auto r = call("weather.now", R"({"city":"Kyiv"})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "");
  EXPECT_EQ(r->body, R"({"result":{"method":"GET","tool":"Kyiv"}})");
  EXPECT_EQ(last_upstream_request(mock)["path"].str(), "/tools/Kyiv");

  ASSERT_TRUE(mock.control("status:503", 1, "/tools"));
  auto down = call("weather.now", R"({"city":"Kyiv"})");
  ASSERT_TRUE(is_openai_error(down, 502, "tool_error"));
  EXPECT_NE(error_message(down).find("the service answered 503"), std::string::npos) << down->body;
}

TEST_F(LuaToolsTest, AHangingServiceEndsAtTheDeadlineAndNothingIsStuck) {
  start(1);
  ASSERT_TRUE(mock.control("hang", 1, "/tools"));
  const auto started = std::chrono::steady_clock::now();
  auto slow = call("weather.now", R"({"city":"Kyiv"})");
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(is_openai_error(slow, 504, "tool_timeout"));
  EXPECT_NE(error_message(slow).find("tool weather.now timed out after 600ms"), std::string::npos)
      << slow->body;
  EXPECT_GE(took, 550ms);
  EXPECT_LT(took, 3s);

  ASSERT_TRUE(mock.control("hang", 1, "/tools"));
  auto m = mcp_call("weather.now", R"({"city":"Kyiv"})");
  ASSERT_TRUE(m);
  EXPECT_TRUE((*m)["result"]["isError"].as_bool());
  EXPECT_NE((*m)["result"]["content"].items()[0]["text"].str().find("timed out"),
            std::string::npos);

  auto next = call("weather.now", R"({"city":"Lviv"})");
  ASSERT_TRUE(next && next->status == 200) << (next ? next->describe() : "");
  EXPECT_EQ((*next->json())["result"]["tool"].str(), "Lviv");
}

TEST_F(LuaToolsTest, AClientLeavingMidCallLeavesNothingBehind) {
  start(1);
  // Connections open at the mock (its own stats request among them), polled.
  auto open_now = [&] {
    auto stats = mock.stats();
    return stats ? static_cast<int>((*stats)["connections_open"].as_number()) : -1;
  };
  const int quiet = open_now();
  ASSERT_TRUE(mock.control("hang", 1, "/tools"));
  {
    HttpClient c = sluice.client();
    const std::string body = R"({"city":"Gone"})";
    ASSERT_TRUE(c.send_raw(
        "POST /v1/tools/weather.now HTTP/1.1\r\nHost: x\r\nAuthorization: "
        "Bearer " +
        std::string(kAliceKey) + "\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body));
    // The tool waits in sluice.http on its own connection to the hanging mock.
    ASSERT_TRUE(eventually([&] { return open_now() == quiet + 1; }, 2s)) << open_now();
  }  // hangs up while the tool waits
  // The tool's request is aborted with the call: its connection closes.
  EXPECT_TRUE(eventually([&] { return open_now() == quiet; }, 3s)) << open_now();
  auto next = call("weather.now", R"({"city":"Here"})");
  ASSERT_TRUE(next && next->status == 200) << (next ? next->describe() : "");
}

TEST_F(LuaToolsTest, ASyntaxErrorIsRefusedAtStartAndAtReload) {
  // At start (sluice validate says the same as a start would).
  sluice.dir().write("broken.lua",
                     "return {\n  call = function(args)\n    if then end\n  end,\n}\n");
  GatewayConfig c;
  c.provider_base_url = mock.base_url();
  c.extra = "tools:\n  lua.broken: {type: lua, file: broken.lua}\n";
  const std::string path = sluice.dir().write("broken.yaml", c.to_yaml());
  auto validate =
      Process::start({sluice_binary(), "validate", "-c", path}, sluice.dir().file("validate"));
  ASSERT_TRUE(validate);
  EXPECT_EQ(validate->wait_exit(10s), 1);
  const std::string said = validate->stdout_text() + validate->stderr_text();
  EXPECT_NE(said.find("tools.lua.broken.file"), std::string::npos) << said;
  EXPECT_NE(said.find("broken.lua:3:"), std::string::npos) << said;

  // At reload: refused whole, the old tool keeps answering.
  start();
  sluice.dir().write("modes.lua", "return {call = function(args) return 'v2' end");
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload);
  EXPECT_NE(reload->status, 200) << reload->describe();
  EXPECT_NE(reload->body.find("tools.lua.modes.file"), std::string::npos) << reload->body;
  EXPECT_NE(reload->body.find("modes.lua:1:"), std::string::npos) << reload->body;
  auto still = call("lua.modes", R"({"mode":"text"})");
  ASSERT_TRUE(still && still->status == 200) << (still ? still->describe() : "");
  EXPECT_EQ(still->body, R"({"result":"plain text"})");

  sluice.dir().write("modes.lua", "return {call = function(args) return 'v2' end}");
  reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->status, 200) << reload->describe();
  EXPECT_TRUE(eventually(
      [&] {
        auto r = call("lua.modes", R"({"mode":"text"})");
        return r && r->body == R"({"result":"v2"})";
      },
      5s));
}

TEST_F(LuaToolsTest, AReloadRemovingAToolLetsTheCallInFlightFinish) {
  start(1);
  // The call waits in sluice.http for a slow answer while the tool is removed.
  ASSERT_TRUE(mock.control("slow:500", 1, "/tools"));
  std::optional<HttpResponse> in_flight;
  std::thread caller([&] { in_flight = call("lua.count", "{}"); });
  std::this_thread::sleep_for(150ms);
  GatewayConfig c;
  c.provider_base_url = mock.base_url();
  c.alice_extra = "    tools: [\"text.*\"]\n";
  c.extra = "tools:\n  text.shout: {type: lua, file: " + shipped("shout_tool.lua") + "}\n";
  sluice.dir().write("sluice.yaml", c.to_yaml());
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload && reload->status == 200) << (reload ? reload->describe() : "");
  caller.join();
  ASSERT_TRUE(in_flight && in_flight->status == 200) << (in_flight ? in_flight->describe() : "");
  EXPECT_NE(in_flight->body.find("\"n\":"), std::string::npos) << in_flight->body;
  // Gone for new calls.
  EXPECT_TRUE(is_openai_error(call("lua.count", "{}"), 404, "tool_not_found"));
  auto shout = call("text.shout", R"({"text":"still"})");
  ASSERT_TRUE(shout && shout->status == 200) << (shout ? shout->describe() : "");
}

TEST_F(LuaToolsTest, BurstsOnTwoWorkersWhileTheConfigReloads) {
  start(2);
  constexpr int kClients = 8;
  constexpr int kMinCallsEach = 25;
  constexpr int kReloads = 30;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::atomic<int> reloads_done{0};
  std::atomic<bool> saw_v1{false};
  std::atomic<bool> saw_v2{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      // Until every reload is done, and at least kMinCallsEach calls.
      for (int n = 0; n < kMinCallsEach || reloads_done < kReloads; ++n) {
        auto r = call("lua.count", "{}");
        if (r && r->status == 200 && r->body.find("\"n\":") != std::string::npos) {
          ++ok;
          (r->body.find("\"v2\"") != std::string::npos ? saw_v2 : saw_v1) = true;
        } else {
          ++failed;
          ADD_FAILURE() << (r ? r->describe() : "no response");
        }
      }
    });
  }
  // Meanwhile, reloads that change the tool's config: each builds new Lua states for both
  // workers; the calls in flight finish on the old ones, which close after them.
  for (int i = 0; i < kReloads; ++i) {
    sluice.dir().write("sluice.yaml", config(i % 2 == 0 ? "v2" : "v1"));
    auto r = sluice.admin_client().request("POST", "/reload");
    if (!r || r->status != 200) ADD_FAILURE() << (r ? r->describe() : "no reload answer");
    ++reloads_done;
    std::this_thread::sleep_for(10ms);
  }
  for (auto& t : clients) t.join();
  EXPECT_GE(ok.load(), kClients * kMinCallsEach);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_TRUE(saw_v1 && saw_v2) << "the reloads did not reach the tool";
  // Every call reached the service and counted exactly once.
  auto last = call("lua.count", "{}");
  ASSERT_TRUE(last && last->status == 200) << (last ? last->describe() : "");
  EXPECT_EQ((*last->json())["result"]["n"].as_number(), ok.load() + 1);
  EXPECT_TRUE(sluice.running()) << sluice.describe();
}

}  // namespace
}  // namespace sluice::test
