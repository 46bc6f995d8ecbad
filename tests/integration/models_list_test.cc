// GET /v1/models (DESIGN §5): the logical models this agent may use, in OpenAI's list shape —
// not the physical names behind them.
#include <gtest/gtest.h>

#include <set>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

class ModelsListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  std::set<std::string> listed_ids(const std::string& key) {
    HttpClient client = sluice.client();
    auto r = client.get("/v1/models", bearer(key));
    EXPECT_TRUE(r) << client.error();
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->describe();
    auto body = r->json();
    EXPECT_TRUE(body) << r->describe();
    if (!body) return {};
    EXPECT_EQ((*body)["object"].str(), "list") << r->describe();
    EXPECT_TRUE((*body)["data"].is_array()) << r->describe();
    std::set<std::string> ids;
    for (const Json& m : (*body)["data"].items()) {
      EXPECT_EQ(m["object"].str(), "model") << m.dump();
      ids.insert(m["id"].str());
    }
    EXPECT_EQ(r->body.find("physical"), std::string::npos)
        << "physical model names leaked: " << r->body;
    return ids;
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(ModelsListTest, AnAgentWithAnAllowListSeesOnlyItsModels) {
  EXPECT_EQ(listed_ids(kAliceKey), (std::set<std::string>{kFastModel, kEmbedModel}));
}

TEST_F(ModelsListTest, AnAgentWithoutAnAllowListSeesEveryModel) {
  EXPECT_EQ(listed_ids(kBobKey), (std::set<std::string>{kFastModel, kSmartModel, kEmbedModel}));
}

TEST_F(ModelsListTest, AnonymousCallersAreRefused) {
  HttpClient client = sluice.client();
  EXPECT_TRUE(is_openai_error(client.get("/v1/models"), 401, "authentication_error"));
}

}  // namespace
}  // namespace sluice::test
