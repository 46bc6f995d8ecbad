// A plugin's model call (host->call_model, ABI 1.2) in a running sluice: it goes through the
// whole filter chain as the agent it is made for — the agent's model allow-list, its rpm, the
// cost filter, a ledger row with its name — and the internal credential that carries the agent
// never reaches the provider and cannot be forged by a client. Driven by the test plugin's
// `model_caller` filter (tests/support/plugins/test_tools.cc), which embeds a text as the
// request's agent before letting the request go on, and reports what its model call got.
#include <gtest/gtest.h>

#include "tests/support/agent_key.h"
#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCarolKey = "sk-agent-carol-77aa";  // no embedding model allowed

class PluginModelCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    ledger = sluice.dir().file("ledger.db");
    std::string y;
    y += "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nworkers: 2\n";
    y += "providers:\n  mockai: {type: openai, base_url: " + mock.base_url() +
         ", api_key: " + kProviderApiKey + "}\n";
    y += "models:\n";
    y += std::string("  ") + kFastModel +
         ": {targets: [{provider: mockai, model: " + kFastPhysical + "}]}\n";
    y += std::string("  ") + kEmbedModel +
         ": {targets: [{provider: mockai, model: " + kEmbedPhysical + "}]}\n";
    y += "agents:\n";
    y += "  alice: {keys: [\"" + agent_key_digest(kAliceKey) + "\"], models: [" + kFastModel +
         ", " + kEmbedModel + "], limits: {rpm: 3}}\n";
    y += "  carol: {keys: [\"" + agent_key_digest(kCarolKey) + "\"], models: [" + kFastModel +
         "]}\n";
    y += "filters:\n";
    y += "  - auth: {modes: [api_key]}\n";
    y += "  - plugin: {name: model_caller, config: {model: embed}}\n";
    y += "  - rate_limit: {}\n";
    y += "  - model_alias: {}\n";
    y += "  - cost: {}\n";
    y += "plugins:\n  t: {file: \"" SLUICE_TEST_PLUGIN_TOOLS "\"}\n";
    y += "state: {ledger: " + json_quote(ledger) + ", flush_interval: 10ms}\n";
    y += "access_log: {path: \"\"}\n";
    ASSERT_TRUE(sluice.start(sluice_binary(), y));
  }

  std::optional<HttpResponse> chat(const std::string& key, Headers extra = {}) {
    Headers headers = bearer(key);
    headers.insert(headers.end(), extra.begin(), extra.end());
    return sluice.client().post_json("/v1/chat/completions", chat_body(kFastModel, "hi"), headers);
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
  std::string ledger;
};

TEST_F(PluginModelCallTest, TheModelCallIsTheAgentsRequestWithItsLedgerRow) {
  auto r = chat(kAliceKey);
  ASSERT_TRUE(r) << sluice.describe();
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-model-status"), "200") << r->describe();
  EXPECT_EQ(r->header("x-model-dims"), "8") << "the mock provider's 8-dimensional vector";

  // Its own ledger row: the agent's, for the embedding model, under the request's id + ".m1".
  const std::string id = r->header("x-request-id") + ".m1";
  auto row = await_ledger_row(ledger, id, 5s);
  ASSERT_TRUE(row) << "no ledger row " << id;
  EXPECT_EQ(row->agent, "alice") << describe(*row);
  EXPECT_EQ(row->model, kEmbedModel) << describe(*row);
  EXPECT_EQ(row->physical_model, kEmbedPhysical) << describe(*row);
  EXPECT_EQ(row->status, 200) << describe(*row);

  // What reached the provider: the provider's key, no trace of the internal credential.
  auto requests = mock.requests();
  ASSERT_TRUE(requests);
  bool saw_embedding = false;
  for (const Json& q : requests->items()) {
    EXPECT_TRUE(q["headers"]["x-sluice-internal-caller"].is_null()) << q.dump();
    if (q["path"].str().find("/embeddings") != std::string::npos) {
      saw_embedding = true;
      EXPECT_EQ(q["headers"]["authorization"].str(), std::string("Bearer ") + kProviderApiKey);
    }
  }
  EXPECT_TRUE(saw_embedding);
}

TEST_F(PluginModelCallTest, TheModelCallCountsAgainstTheAgentsRpm) {
  // rpm 3. The filter's model call runs before the rate_limit filter sees its own request:
  // request 1 = model call (1) + request (2); request 2 = model call (3), then the request
  // itself is refused; request 3's model call is refused too.
  auto first = chat(kAliceKey);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200) << first->describe();
  EXPECT_EQ(first->header("x-model-status"), "200") << first->describe();
  auto second = chat(kAliceKey);
  EXPECT_TRUE(is_openai_error(second, 429));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->header("x-model-status"), "200") << second->describe();
  auto third = chat(kAliceKey);
  EXPECT_TRUE(is_openai_error(third, 429));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->header("x-model-status"), "429") << third->describe();
}

TEST_F(PluginModelCallTest, AModelTheAgentMayNotUseIsRefusedToItsModelCallToo) {
  auto r = chat(kCarolKey);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-model-status"), "403") << r->describe();
}

TEST_F(PluginModelCallTest, AClientCannotForgeTheInternalCredential) {
  // Without a key, a made-up credential naming alice is dropped: the request has no agent.
  auto anonymous =
      sluice.client().post_json("/v1/chat/completions", chat_body(kFastModel, "hi"),
                                {{"x-sluice-internal-caller", std::string(64, 'a') + " alice"}});
  EXPECT_TRUE(is_openai_error(anonymous, 401));
  // With carol's key and a credential naming alice, it is still carol (not allowed `embed`).
  auto carol = chat(kCarolKey, {{"x-sluice-internal-caller", std::string(64, '0') + " alice"}});
  ASSERT_TRUE(carol);
  EXPECT_EQ(carol->header("x-model-status"), "403") << carol->describe();
  Json last = last_upstream_request(mock);
  EXPECT_TRUE(last["headers"]["x-sluice-internal-caller"].is_null()) << last.dump();
}

}  // namespace
}  // namespace sluice::test
