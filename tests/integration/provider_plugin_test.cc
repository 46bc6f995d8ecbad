// Provider types from shared-object plugins, as core drives them (DESIGN §9, issue 12 item 1),
// with the test plugin `relay` (tests/support/plugins/test_provider.cc): the translated
// request reaches the provider (path, plugin headers, the target's model; none of the
// client's headers), JSON and stream answers come back translated, the usage the plugin
// reports is what is charged, a request the plugin cannot express is a 400 naming the field,
// a plugin that fails is a 502 (or an error event mid-stream) naming the plugin, and an
// unknown type is a load error.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"
#include "tests/support/process.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRelayModel = "relayed";

class ProviderPluginTest : public ::testing::Test {
 protected:
  void start(const std::string& mode = "ok") {
    ASSERT_TRUE(mock.ok());
    config.provider_base_url = mock.base_url();
    config.extra_providers = "  relay:\n    type: relay\n    base_url: " + mock.base_url() +
                             "\n    config: {mode: " + mode + "}\n";
    config.extra_models = std::string("  ") + kRelayModel +
                          ":\n    targets:\n      - {provider: relay, model: relay-physical}\n";
    config.extra_agents = "";
    config.extra = "plugins:\n  relay: {file: \"" SLUICE_TEST_PLUGIN_PROVIDER "\"}\n";
    std::string yaml = config.to_yaml();
    // The ledger, to see what was charged.
    ledger = dir.file("ledger.db");
    yaml.replace(yaml.find("state: {ledger: \"\"}"), 19,
                 "state: {ledger: \"" + ledger + "\", flush_interval: 10ms}");
    ASSERT_TRUE(sluice.start(sluice_binary(), yaml, {{"SLUICE_PLUGIN_PATH", dir.path()}}))
        << sluice.describe();
  }

  std::optional<HttpResponse> chat(const std::string& text = "hello there",
                                   const Headers& extra = {}) {
    Headers headers = bearer(kBobKey);
    headers.insert(headers.end(), extra.begin(), extra.end());
    HttpClient c = sluice.client();
    return c.post_json("/v1/chat/completions", chat_body(kRelayModel, text), headers);
  }

  StreamResult stream(const std::string& text = "one two three four") {
    HttpClient c = sluice.client();
    return c.stream_post("/v1/chat/completions", chat_body(kRelayModel, text, true),
                         bearer(kBobKey));
  }

  // `sluice validate` on `yaml`: its stderr, after checking that it refused the file.
  std::string validate(const std::string& yaml) {
    const std::string file = dir.write("check.yaml", yaml);
    auto p = Process::start({sluice_binary(), "validate", "-c", file}, dir.file("validate"),
                            {{"SLUICE_PLUGIN_PATH", dir.path()}});
    if (!p) return "validate did not start";
    EXPECT_EQ(p->wait_exit(20s), 1) << p->describe();
    return p->stderr_text();
  }

  LedgerTestRow row_of(const std::string& request_id) {
    LedgerTestRow row;
    eventually(
        [&] {
          auto rows = ledger_rows_by_id(ledger);
          auto it = rows.find(request_id);
          if (it == rows.end()) return false;
          row = it->second;
          return true;
        },
        5s);
    return row;
  }

  TempDir dir;
  std::string ledger;
  MockProvider mock{mock_provider_binary()};
  GatewayConfig config;
  SluiceServer sluice;
};

TEST_F(ProviderPluginTest, AJsonAnswerIsTranslatedAndTheReportedUsageIsCharged) {
  start();
  auto r = chat("hello there", {{"x-client-only", "secret-ish"}});
  ASSERT_TRUE(r) << sluice.describe();
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->header("x-sluice-provider"), "relay");
  auto body = r->json();
  ASSERT_TRUE(body) << r->describe();
  EXPECT_EQ((*body)["object"].str(), "chat.completion") << r->describe();

  Json upstream = last_upstream_request(mock);
  EXPECT_EQ(upstream["path"].str(), "/v1/chat/completions") << upstream.dump();
  EXPECT_EQ(upstream["headers"]["x-relay"].str(), "relay-physical") << upstream.dump();
  EXPECT_TRUE(upstream["headers"]["x-client-only"].is_null())
      << "a translated request carries none of the client's headers: " << upstream.dump();
  EXPECT_TRUE(upstream["headers"]["authorization"].is_null()) << upstream.dump();
  auto sent = Json::parse(upstream["body"].str());
  ASSERT_TRUE(sent) << upstream.dump();
  EXPECT_EQ((*sent)["model"].str(), "relay-physical");

  LedgerTestRow row = row_of(r->header("x-request-id"));
  EXPECT_EQ(row.input, 11) << describe(row);
  EXPECT_EQ(row.output, 7) << describe(row);
  EXPECT_EQ(row.cached, 2) << describe(row);
  EXPECT_EQ(row.cache_write, 3) << describe(row);
  EXPECT_EQ(row.estimated, 0) << describe(row);
}

TEST_F(ProviderPluginTest, AStreamIsTranslatedEventByEvent) {
  start();
  StreamResult s = stream();
  ASSERT_TRUE(s.head) << s.describe();
  ASSERT_EQ(s.head->status, 200) << s.describe();
  EXPECT_TRUE(s.head->header("content-type").starts_with("text/event-stream")) << s.describe();
  ASSERT_TRUE(s.complete) << s.describe();
  ASSERT_GE(s.events.size(), 3u) << s.describe();
  EXPECT_EQ(s.events.back().data, "[DONE]") << s.describe();
  size_t done = 0;
  for (const auto& e : s.events) done += e.data == "[DONE]";
  EXPECT_EQ(done, 1u) << "the plugin's [DONE] only: " << s.describe();

  LedgerTestRow row = row_of(s.head->header("x-request-id"));
  EXPECT_EQ(row.input, 5) << describe(row);
  EXPECT_EQ(row.output, 9) << describe(row);
  EXPECT_EQ(row.estimated, 0) << describe(row);
}

TEST_F(ProviderPluginTest, ARequestThePluginCannotExpressIsA400NamingTheField) {
  start("invalid_request");
  const int64_t before = mock.stats().value()["requests_total"].as_int(-1);
  auto r = chat();
  ASSERT_TRUE(is_openai_error(r, 400, "unsupported_for_target"));
  EXPECT_NE(r->body.find("messages[0].content"), std::string::npos) << r->describe();
  EXPECT_NE(r->body.find("plugin relay"), std::string::npos) << r->describe();
  EXPECT_EQ(mock.stats().value()["requests_total"].as_int(-1), before) << "nothing goes upstream";
}

TEST_F(ProviderPluginTest, APluginFailingOnTheRequestIsA502NamingIt) {
  start("fail_request");
  auto r = chat();
  ASSERT_TRUE(is_openai_error(r, 502, "upstream_error"));
  EXPECT_NE(r->body.find("plugin relay"), std::string::npos) << r->describe();
  EXPECT_NE(r->body.find("on_request broke"), std::string::npos) << r->describe();
}

TEST_F(ProviderPluginTest, APluginFailingOnTheAnswerIsA502NamingIt) {
  start("fail_response");
  auto r = chat();
  ASSERT_TRUE(is_openai_error(r, 502, "upstream_error"));
  EXPECT_NE(r->body.find("plugin relay"), std::string::npos) << r->describe();
  EXPECT_NE(r->body.find("the answer made no sense"), std::string::npos) << r->describe();
  // The connection sluice aborted is not reused for a half-read answer: the next works.
  auto again = chat();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 502) << again->describe();
}

TEST_F(ProviderPluginTest, APluginFailingMidStreamEndsTheStreamWithAnErrorEvent) {
  start("fail_event");
  StreamResult s = stream("a b c d e f g h");
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_EQ(s.head->status, 200) << s.describe();
  ASSERT_FALSE(s.events.empty()) << s.describe();
  const std::string& last = s.events.back().data;
  EXPECT_NE(last.find("\"error\""), std::string::npos) << s.describe();
  EXPECT_NE(last.find("plugin relay"), std::string::npos) << s.describe();
  EXPECT_NE(last.find("event 2 was unreadable"), std::string::npos) << s.describe();
}

TEST_F(ProviderPluginTest, AMappedErrorStatusIsRetriedLikeAnyOther) {
  ASSERT_TRUE(mock.ok());
  config.filters_after_auth = "  - retry: {attempts: 2, fallback: true}\n";
  start("overloaded");
  auto r = chat();
  ASSERT_TRUE(r) << sluice.describe();
  EXPECT_EQ(r->status, 503) << r->describe();
  EXPECT_EQ(r->header("x-sluice-attempts"), "2") << r->describe();
}

TEST_F(ProviderPluginTest, AnUnknownTypeIsALoadErrorNamingIt) {
  ASSERT_TRUE(mock.ok());
  config.provider_base_url = mock.base_url();
  config.extra_providers = "  odd:\n    type: relai\n    base_url: " + mock.base_url() + "\n";
  config.extra = "plugins:\n  relay: {file: \"" SLUICE_TEST_PLUGIN_PROVIDER "\"}\n";
  const std::string out = validate(config.to_yaml());
  EXPECT_NE(out.find("unknown provider type \"relai\""), std::string::npos) << out;
  EXPECT_NE(out.find("did you mean \"relay\""), std::string::npos) << out;
  EXPECT_NE(out.find("providers.odd.type"), std::string::npos) << out;
}

TEST_F(ProviderPluginTest, APluginRefusingTheProviderEntryIsALoadError) {
  ASSERT_TRUE(mock.ok());
  config.provider_base_url = mock.base_url();
  config.extra_providers = "  relay:\n    type: relay\n    base_url: " + mock.base_url() +
                           "\n    config: {mode: refuse_config}\n";
  config.extra = "plugins:\n  relay: {file: \"" SLUICE_TEST_PLUGIN_PROVIDER "\"}\n";
  const std::string out = validate(config.to_yaml());
  EXPECT_NE(out.find("mode refuse_config refuses every provider"), std::string::npos) << out;
}

TEST_F(ProviderPluginTest, MessagesToAnOpenAiProviderWithoutTheAnthropicPluginIsRefused) {
  // No plugin offers Anthropic's API here (SLUICE_PLUGIN_PATH is an empty directory).
  start();
  HttpClient c = sluice.client();
  auto r = c.post_json("/v1/messages", messages_body(kFastModel, "hi"), bearer(kAliceKey));
  ASSERT_TRUE(r) << sluice.describe();
  EXPECT_EQ(r->status, 503) << r->describe();
  EXPECT_NE(r->body.find("does not speak the Anthropic Messages API"), std::string::npos)
      << r->describe();
}

}  // namespace
}  // namespace sluice::test
