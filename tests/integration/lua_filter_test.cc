// The Lua filter host as a user sees it through real sockets: a hook's edits reach the provider,
// a stream is rewritten on the way back, a hostile or broken hook costs its own request a 500
// plugin_error (counted in /metrics) while the worker keeps serving, sluice.http waits for a
// policy service without blocking the worker and gives up at its timeout, and a reload with a
// broken plugin is refused whole while the old one keeps serving.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class LuaFilterTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }

  // Starts sluice with `- lua: {file: filter.lua<extra>}` after auth and `plugin` as the file.
  void start(const std::string& plugin, const std::string& extra = "", int workers = 1) {
    sluice.dir().write("filter.lua", plugin);
    config.provider_base_url = mock.base_url();
    config.workers = workers;
    config.filters_after_auth = "  - lua: {file: filter.lua" + extra + "}\n";
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  std::optional<HttpResponse> chat(const std::string& text, Headers headers = {}) {
    HttpClient c = sluice.client();
    c.set_timeout(10s);
    Headers all = bearer(kBobKey);
    all.insert(all.end(), headers.begin(), headers.end());
    return c.post_json("/v1/chat/completions", chat_body(kFastModel, text), all);
  }

  // sluice_plugin_errors_total{hook=...,plugin=...} from /metrics (0 when absent).
  double plugin_errors(const std::string& plugin, const std::string& hook) {
    auto r = sluice.admin_client().get("/metrics");
    if (!r) return -1;
    const std::string key =
        "sluice_plugin_errors_total{hook=\"" + hook + "\",plugin=\"" + plugin + "\"} ";
    size_t at = r->body.find(key);
    if (at == std::string::npos) return 0;
    return std::stod(r->body.substr(at + key.size()));
  }

  MockProvider mock{mock_provider_binary()};
  GatewayConfig config;
  SluiceServer sluice;
};

TEST_F(LuaFilterTest, HeaderAndBodyEditsReachTheProvider) {
  start(R"(
return {
  name = "editor",
  on_request = function(h, config)
    h:set_header("x-team", "blue")
    local body = h:json()
    body.messages[1].content = body.messages[1].content:upper()
    h:set_json(body)
  end,
  on_response = function(h) h:set_header("x-answered-by", h.provider .. "/" .. h.physical_model) end,
}
)");
  auto r = chat("make me loud");
  ASSERT_TRUE(r) << sluice.describe();
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-answered-by"), std::string("mockai/") + kFastPhysical);
  auto seen = mock.requests();
  ASSERT_TRUE(seen && seen->size() >= 1);
  const Json& last = (*seen)[seen->size() - 1];
  EXPECT_EQ(last["headers"]["x-team"].str(), "blue");
  EXPECT_NE(last["body"].str().find("MAKE ME LOUD"), std::string::npos);
  // The model splice still works on the rewritten body.
  EXPECT_NE(last["body"].str().find(kFastPhysical), std::string::npos);
}

TEST_F(LuaFilterTest, OnChunkRewritesAStream) {
  start(R"(
return {on_chunk = function(h, config, chunk) return (chunk:gsub("secret", "[hidden]")) end}
)");
  HttpClient c = sluice.client();
  StreamResult s = c.stream_post("/v1/chat/completions",
                                 chat_body(kFastModel, "the secret plan", true), bearer(kBobKey));
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_EQ(s.head->status, 200);
  EXPECT_TRUE(s.complete) << s.describe();
  std::string all;
  for (const auto& e : s.events) all += e.data;
  EXPECT_EQ(all.find("secret"), std::string::npos) << all;
  EXPECT_NE(all.find("[hidden]"), std::string::npos) << all;
}

TEST_F(LuaFilterTest, EndlessLoopCostsOnlyItsOwnRequest) {
  start(R"(
return {name = "looper", on_request = function(h)
  if h:header("x-loop") then while true do end end
end}
)",
        ", max_instructions: 200000");
  auto bad = chat("spin", {{"x-loop", "1"}});
  ASSERT_TRUE(bad) << sluice.describe();
  EXPECT_EQ(bad->status, 500);
  auto body = bad->json();
  ASSERT_TRUE(body);
  EXPECT_EQ((*body)["error"]["code"].str(), "plugin_error");
  EXPECT_NE((*body)["error"]["message"].str().find("looper"), std::string::npos);
  EXPECT_NE((*body)["error"]["message"].str().find("on_request"), std::string::npos);
  auto good = chat("fine");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);
  EXPECT_EQ(plugin_errors("looper", "on_request"), 1);
}

TEST_F(LuaFilterTest, HttpCallWaitsWithoutBlockingTheWorker) {
  // The policy service is the mock provider: /v1/policy answers like any path (200 + JSON) or
  // hangs on command.
  start(R"(
return {name = "callout", schema = {url = {type = "string", required = true}},
on_request = function(h, config)
  if not h:header("x-check") then return end
  local res, err = sluice.http{method = "POST", url = config.url, body = "{}", timeout = 400,
                               headers = {["content-type"] = "application/json"}}
  if not res then
    return h:respond(403, {error = {message = "policy service: " .. err,
                                    type = "permission_error", code = "policy_blocked"}})
  end
  h:set_header("x-policy-status", tostring(res.status))
end}
)",
        ", config: {url: \"" + mock.base_url() + "/chat/completions\"}", 1);
  auto ok = chat("checked", {{"x-check", "1"}});
  ASSERT_TRUE(ok) << sluice.describe();
  EXPECT_EQ(ok->status, 200) << ok->describe();

  ASSERT_TRUE(mock.control("hang", 1, "/v1/chat"));
  std::atomic<bool> done{false};
  std::optional<HttpResponse> refused;
  const auto started = std::chrono::steady_clock::now();
  std::thread waiter([&] {
    refused = chat("checked", {{"x-check", "1"}});
    done = true;
  });
  // While the hook waits for the hanging service, the same (only) worker serves others.
  std::this_thread::sleep_for(50ms);
  auto other = chat("not checked");
  const bool other_before_done = !done.load();
  waiter.join();
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_TRUE(other_before_done) << "the worker was blocked by the waiting hook";
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->describe();
  EXPECT_NE(refused->body.find("timeout"), std::string::npos) << refused->body;
  EXPECT_GE(waited, 350ms);
  EXPECT_LT(waited, 5s);
}

TEST_F(LuaFilterTest, ClientLeavingDuringAnHttpCallEndsCleanly) {
  start(R"(
return {on_request = function(h)
  sluice.http{url = "http://127.0.0.1:)" +
        std::to_string(mock.port()) +
        R"(/v1/chat/completions", method = "POST", body = "{}", timeout = 2000}
end}
)");
  ASSERT_TRUE(mock.control("hang", 1, "/v1/chat"));
  {
    HttpClient c = sluice.client();
    ASSERT_TRUE(
        c.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                   std::string(kBobKey) +
                   "\r\nContent-Length: " + std::to_string(chat_body(kFastModel, "bye").size()) +
                   "\r\n\r\n" + chat_body(kFastModel, "bye")));
    std::this_thread::sleep_for(100ms);
  }  // the client hangs up while the hook waits
  std::this_thread::sleep_for(100ms);
  auto after = chat("still here");
  ASSERT_TRUE(after) << sluice.describe();
  EXPECT_EQ(after->status, 200);
}

TEST_F(LuaFilterTest, ReloadWithABrokenPluginIsRefusedWhole) {
  start(R"(return {on_request = function(h) h:respond(200, {version = "one"}) end})");
  auto r = chat("v?");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("\"one\""), std::string::npos);

  sluice.dir().write("filter.lua", "return {on_request = function(h) if then end}");
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload);
  EXPECT_NE(reload->status, 200) << reload->describe();
  EXPECT_NE(reload->body.find("filter.lua:1:"), std::string::npos) << reload->body;
  r = chat("v?");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("\"one\""), std::string::npos) << "the old plugin must keep serving";

  sluice.dir().write("filter.lua",
                     R"(return {on_request = function(h) h:respond(200, {version = "two"}) end})");
  reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->status, 200) << reload->describe();
  EXPECT_TRUE(eventually(
      [&] {
        auto again = chat("v?");
        return again && again->body.find("\"two\"") != std::string::npos;
      },
      5s));
}

TEST_F(LuaFilterTest, HostileHooksCostOnlyTheirOwnRequests) {
  // Each of these crashed or aborted the worker before: a C stack nested by plugin callbacks
  // (LuaJIT bounds only its own stack) and a coroutine resuming a new one without end.
  start(R"(
return {name = "hostile", on_request = function(h)
  local how = h:header("x-hostile")
  if how == "gsub" then
    local function f() return (string.gsub("x", "x", f)) end
    f()
  elseif how == "coroutines" then
    local function f() return coroutine.wrap(f)() end
    f()
  elseif how == "log" then
    local t = setmetatable({}, {__tostring = function(t) sluice.log("info", t) return "" end})
    sluice.log("info", t)
  end
end}
)");
  for (const char* how : {"gsub", "coroutines", "log"}) {
    auto bad = chat("hostile", {{"x-hostile", how}});
    ASSERT_TRUE(bad) << how << ": " << sluice.describe();
    EXPECT_EQ(bad->status, 500) << how;
    EXPECT_NE(bad->body.find("stack overflow"), std::string::npos) << how << ": " << bad->body;
  }
  auto good = chat("fine");
  ASSERT_TRUE(good) << sluice.describe();
  EXPECT_EQ(good->status, 200);
  EXPECT_EQ(plugin_errors("hostile", "on_request"), 3);
}

TEST_F(LuaFilterTest, AReloadWithAPluginTableThatRaisesIsRefusedWhole) {
  start(R"(return {on_request = function(h) h:respond(200, {version = "one"}) end})");
  // Read outside a protected call, this table's __index aborted the process.
  sluice.dir().write("filter.lua", R"(
return setmetatable({}, {__index = function(t, k) error("trap: " .. k) end})
)");
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload) << sluice.describe();
  EXPECT_NE(reload->status, 200) << reload->describe();
  EXPECT_NE(reload->body.find("defines no hook"), std::string::npos) << reload->body;
  auto r = chat("v?");
  ASSERT_TRUE(r) << sluice.describe();
  EXPECT_NE(r->body.find("\"one\""), std::string::npos) << "the old plugin must keep serving";
}

TEST_F(LuaFilterTest, ValidateReportsPluginErrorsWithFileAndLine) {
  sluice.dir().write("filter.lua", "return {\n on_request = 42 }");
  config.provider_base_url = mock.base_url();
  config.filters_after_auth = "  - lua: {file: filter.lua}\n";
  const std::string path = sluice.dir().write("bad.yaml", config.to_yaml());
  auto p = Process::start({sluice_binary(), "validate", "-c", path}, sluice.dir().file("validate"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->wait_exit(10s), 1);
  const std::string out = p->stdout_text() + p->stderr_text();
  EXPECT_NE(out.find("filter.lua"), std::string::npos) << out;
  EXPECT_NE(out.find("on_request must be a function"), std::string::npos) << out;
}

}  // namespace
}  // namespace sluice::test
