// Shared-object plugin filters in a running sluice (DESIGN §9, issue 11 item 4): the C example
// adds its header and refuses a request without the required one; an async plugin that STOPs
// on a host timer resumes the chain, answers or fails (500 plugin_error, counted); a plugin
// rewrites response chunks; a changed .so is loaded on reload while a stream in flight
// finishes on the old one; a broken .so is refused whole and the old keeps serving.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class PluginFilterTest : public ::testing::Test {
 protected:
  // Starts sluice with plugins: `plugins_yaml` (lines under plugins:) and `filter_lines` in the
  // standard chain after auth (where DESIGN §2 puts plugin filters).
  void start(const std::string& plugins_yaml, const std::string& filter_lines) {
    ASSERT_TRUE(mock.ok());
    config.provider_base_url = mock.base_url();
    config.filters_after_auth = filter_lines;
    config.extra = "plugins:\n" + plugins_yaml;
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  std::optional<HttpResponse> chat(const Headers& extra = {}, const std::string& text = "hello") {
    Headers headers = bearer(kAliceKey);
    headers.insert(headers.end(), extra.begin(), extra.end());
    HttpClient c = sluice.client();
    return c.post_json("/v1/chat/completions", chat_body(kFastModel, text), headers);
  }

  std::string metrics() {
    auto r = sluice.admin_client().get("/metrics");
    return r ? r->body : "";
  }

  MockProvider mock{mock_provider_binary()};
  GatewayConfig config;
  SluiceServer sluice;
};

TEST_F(PluginFilterTest, HelloFilterAddsItsHeaderAndRefusesRequestsWithoutTheRequiredOne) {
  start("  hello: {file: \"" SLUICE_TEST_PLUGIN_SLUICE_HELLO_FILTER "\"}\n",
        "  - plugin: {name: hello, config: {greeting: hi, require_header: x-team}}\n");

  auto ok = chat({{"X-Team", "infra"}});
  ASSERT_TRUE(ok) << sluice.describe();
  EXPECT_EQ(ok->status, 200) << ok->describe();
  EXPECT_EQ(ok->header("x-hello"), "hi") << ok->describe();

  const int64_t upstream_before = mock.stats().value()["requests_total"].as_int(-1);
  auto refused = chat();
  EXPECT_TRUE(is_openai_error(refused, 400, "missing_header"));
  ASSERT_TRUE(refused);
  auto body = refused->json();
  ASSERT_TRUE(body) << refused->describe();
  EXPECT_EQ((*body)["error"]["type"].str(), "invalid_request_error");
  EXPECT_EQ((*body)["error"]["message"].str(), "missing required header x-team");
  EXPECT_EQ(mock.stats().value()["requests_total"].as_int(-1), upstream_before)
      << "a refused request must not reach the provider";
}

TEST_F(PluginFilterTest, AStoppedRequestResumesFromAHostTimerWithItsEdits) {
  start("  t: {file: \"" SLUICE_TEST_PLUGIN_FILTERS "\"}\n",
        "  - plugin: {name: async, config: {mode: resume}}\n");
  auto r = chat();
  ASSERT_TRUE(r) << sluice.describe();
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-async"), "resumed") << r->describe();
  Json upstream = last_upstream_request(mock);
  EXPECT_EQ(upstream["headers"]["x-async-tag"].str(), "resumed") << upstream.dump();
  // on_complete ran after the response, with the final status and the per-request data.
  EXPECT_TRUE(eventually(
      [&] {
        return sluice.stderr_text().find("async on_complete: request " + r->header("x-request-id") +
                                         " status=200 input=") != std::string::npos;
      },
      5s))
      << sluice.stderr_text();
  EXPECT_NE(sluice.stderr_text().find("data=allocated in on_request"), std::string::npos);
}

TEST_F(PluginFilterTest, AStoppedRequestCanBeAnsweredByThePlugin) {
  start("  t: {file: \"" SLUICE_TEST_PLUGIN_FILTERS "\"}\n",
        "  - plugin: {name: async, config: {mode: respond}}\n");
  auto r = chat();
  EXPECT_TRUE(is_openai_error(r, 403, "policy_blocked"));
  EXPECT_EQ(last_upstream_request(mock).dump(), "null");
}

TEST_F(PluginFilterTest, AFailingPluginIsA500PluginErrorCountedByPluginAndHook) {
  start("  t: {file: \"" SLUICE_TEST_PLUGIN_FILTERS "\"}\n",
        "  - plugin: {name: async, config: {mode: fail}}\n");
  auto r = chat();
  EXPECT_TRUE(is_openai_error(r, 500, "plugin_error"));
  ASSERT_TRUE(r);
  auto body = r->json();
  ASSERT_TRUE(body);
  EXPECT_EQ((*body)["error"]["type"].str(), "api_error");
  EXPECT_EQ((*body)["error"]["message"].str(),
            "plugin filter \"async\" failed in on_request: the policy service said no");
  EXPECT_NE(metrics().find("sluice_plugin_errors_total{hook=\"on_request\",plugin=\"async\"} 1"),
            std::string::npos)
      << metrics();
  // The worker keeps serving.
  auto again = chat();
  EXPECT_TRUE(is_openai_error(again, 500, "plugin_error"));
}

TEST_F(PluginFilterTest, AStoppedRequestResumesWhenItsHttpCallAnswers) {
  // The mock provider's own stats endpoint plays the policy service.
  start("  t: {file: \"" SLUICE_TEST_PLUGIN_FILTERS "\"}\n",
        "  - plugin: {name: async, config: {mode: http, url: \"http://127.0.0.1:" +
            std::to_string(mock.port()) + "/__stats\"}}\n");
  auto r = chat();
  ASSERT_TRUE(r) << sluice.describe();
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-http-status"), "200") << r->describe();
}

TEST_F(PluginFilterTest, AnHttpCallThatFailsGivesTheRequestAClear500) {
  start("  t: {file: \"" SLUICE_TEST_PLUGIN_FILTERS "\"}\n",
        "  - plugin: {name: async, config: {mode: http, url: \"http://127.0.0.1:" +
            std::to_string(unused_port()) + "/policy\"}}\n");
  auto r = chat();
  EXPECT_TRUE(is_openai_error(r, 500, "plugin_error"));
  ASSERT_TRUE(r);
  auto body = r->json();
  ASSERT_TRUE(body) << r->describe();
  EXPECT_EQ((*body)["error"]["message"].str().rfind(
                "plugin filter \"async\" failed in on_request: policy service: ", 0),
            0u)
      << r->body;
  auto again = chat({}, "still serving");
  EXPECT_TRUE(is_openai_error(again, 500, "plugin_error")) << "the worker must keep serving";
}

TEST_F(PluginFilterTest, TheSharedDictionaryCountsAcrossRequestsAndWorkers) {
  config.workers = 2;
  start("  t: {file: \"" SLUICE_TEST_PLUGIN_FILTERS "\"}\n",
        "  - plugin: {name: async, config: {mode: count}}\n");
  for (int i = 1; i <= 4; ++i) {
    auto r = chat();  // a new connection each time: either worker may take it
    ASSERT_TRUE(r) << sluice.describe();
    EXPECT_EQ(r->header("x-hits"), std::to_string(i)) << r->describe();
  }
}

TEST_F(PluginFilterTest, APluginRewritesEveryResponseChunk) {
  start("  t: {file: \"" SLUICE_TEST_PLUGIN_FILTERS "\"}\n", "  - plugin: {name: shout}\n");
  auto r = chat({}, "quiet words");
  ASSERT_TRUE(r) << sluice.describe();
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-upstream-status"), "200") << r->describe();
  EXPECT_NE(r->body.find("QUIET WORDS"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("quiet words"), std::string::npos) << r->body;
}

class PluginReloadTest : public PluginFilterTest {
 protected:
  void SetUp() override {
    plugin_path_ = sluice.dir().file("libversioned.so");
    install(SLUICE_TEST_PLUGIN_VERSIONED_V1);
    start("  v: {file: libversioned.so}\n", "  - plugin: {name: versioned}\n");
  }
  // As an operator deploying a new build: the file at the configured path is replaced.
  void install(const char* from) {
    const std::string tmp = plugin_path_ + ".new";
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
    fs::rename(tmp, plugin_path_);
  }
  std::string version() {
    auto r = chat();
    return r && r->status == 200 ? r->header("x-plugin-version") : "<failed>";
  }
  std::string plugin_path_;
};

TEST_F(PluginReloadTest, AChangedPluginIsLoadedOnReloadWhileAStreamFinishesOnTheOldOne) {
  EXPECT_EQ(version(), "v1");
  ASSERT_TRUE(mock.control("slow_chunks:200,chunks:6"));
  HttpClient streamer = sluice.client();
  streamer.set_timeout(20s);
  auto head = streamer.start_request("POST", "/v1/chat/completions",
                                     chat_body(kFastModel, "long story", true),
                                     {{"Authorization", std::string("Bearer ") + kAliceKey},
                                      {"Content-Type", "application/json"}});
  ASSERT_TRUE(head) << streamer.error() << "\n" << sluice.describe();
  ASSERT_EQ(head->status, 200) << head->describe();
  EXPECT_EQ(head->header("x-plugin-version"), "v1");
  ASSERT_TRUE(streamer.read_sse_event()) << streamer.error();

  install(SLUICE_TEST_PLUGIN_VERSIONED_V2);
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload && reload->status == 200) << (reload ? reload->describe() : sluice.describe());
  EXPECT_EQ(version(), "v2");

  // The stream still runs its plugin filter's code from the old library, to its end.
  std::vector<SseEvent> events;
  while (auto ev = streamer.read_sse_event()) events.push_back(*ev);
  EXPECT_TRUE(streamer.body_complete()) << streamer.error();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(version(), "v2");
}

TEST_F(PluginReloadTest, ABrokenPluginOnReloadIsRefusedWholeAndTheOldOneKeepsServing) {
  EXPECT_EQ(version(), "v1");
  install(SLUICE_TEST_PLUGIN_WRONG_ABI);
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload) << sluice.describe();
  EXPECT_EQ(reload->status, 400) << reload->describe();
  EXPECT_NE(
      reload->body.find("was built for sluice plugin ABI 2.0, but this sluice speaks ABI 1.2"),
      std::string::npos)
      << reload->describe();
  EXPECT_NE(reload->body.find("plugins.v.file"), std::string::npos) << reload->describe();

  auto status = sluice.admin_client().get("/status");
  ASSERT_TRUE(status);
  auto s = status->json();
  ASSERT_TRUE(s) << status->describe();
  EXPECT_FALSE((*s)["last_reload"]["ok"].as_bool()) << s->dump();
  EXPECT_NE((*s)["last_reload"]["error"].str().find("ABI 2.0"), std::string::npos) << s->dump();
  EXPECT_EQ(version(), "v1") << "a refused reload must change nothing";

  // A fixed plugin reloads fine afterwards.
  install(SLUICE_TEST_PLUGIN_VERSIONED_V2);
  reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload && reload->status == 200) << (reload ? reload->describe() : "");
  EXPECT_EQ(version(), "v2");
}

}  // namespace
}  // namespace sluice::test
