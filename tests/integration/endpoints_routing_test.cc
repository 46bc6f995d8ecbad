// The other OpenAI endpoints are routed like chat (DESIGN §5: /v1/completions,
// /v1/embeddings, /v1/responses "OpenAI shapes, routed the same way"): the logical model is
// resolved, the request goes to the same path on the provider, the answer comes back.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

class EndpointsRoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // Posts `body` to `path` as bob, expects 200 routed to `physical`, returns the body.
  Json call(const std::string& path, const std::string& body, const std::string& physical) {
    HttpClient client = sluice.client();
    auto r = client.post_json(path, body, bearer(kBobKey));
    EXPECT_TRUE(r) << client.error() << "\n" << sluice.describe();
    if (!r) return Json();
    EXPECT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(r->header("x-sluice-model"), physical) << r->describe();
    EXPECT_EQ(r->header("x-sluice-provider"), "mockai") << r->describe();
    Json seen = last_upstream_request(mock);
    EXPECT_EQ(seen["path"].str(), path) << seen.dump();
    EXPECT_EQ(Json::parse(seen["body"].str()).value_or(Json())["model"].str(), physical)
        << seen.dump();
    return r->json().value_or(Json());
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(EndpointsRoutingTest, Completions) {
  Json body = call("/v1/completions",
                   std::string(R"({"model":")") + kSmartModel + R"(","prompt":"finish this"})",
                   kSmartPhysical);
  EXPECT_EQ(body["object"].str(), "text_completion") << body.dump();
  EXPECT_EQ(body["choices"][0]["text"].str(), std::string("[") + kSmartPhysical + "] finish this");
}

TEST_F(EndpointsRoutingTest, Embeddings) {
  Json body = call("/v1/embeddings",
                   std::string(R"({"model":")") + kEmbedModel + R"(","input":["a","b c"]})",
                   kEmbedPhysical);
  EXPECT_EQ(body["object"].str(), "list") << body.dump();
  ASSERT_EQ(body["data"].size(), 2u) << body.dump();
  EXPECT_EQ(body["data"][1]["index"].as_int(), 1);
  EXPECT_EQ(body["data"][0]["embedding"].size(), 8u);
}

TEST_F(EndpointsRoutingTest, Responses) {
  Json body = call("/v1/responses",
                   std::string(R"({"model":")") + kFastModel + R"(","input":"respond please"})",
                   kFastPhysical);
  EXPECT_EQ(body["object"].str(), "response") << body.dump();
  EXPECT_EQ(body["output"][0]["content"][0]["text"].str(),
            std::string("[") + kFastPhysical + "] respond please");
}

}  // namespace
}  // namespace sluice::test
