// Who may call, and which models (DESIGN §4 agents + the auth and model_alias filters; §5 error
// table rows 401, 403, 404). Refused requests never reach the provider.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

constexpr const char* kCarolKey = "sk-carol-plain-from-env-77";

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    // §4: "a plain ${ENV} key is also accepted".
    config.extra_agents = "  carol:\n    keys: [\"${CAROL_AGENT_KEY}\"]\n";
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml(), {{"CAROL_AGENT_KEY", kCarolKey}}));
  }

  std::optional<HttpResponse> chat(const std::string& model, const Headers& headers) {
    HttpClient client = sluice.client();
    auto r = client.post_json("/v1/chat/completions", chat_body(model, "hi"), headers);
    EXPECT_TRUE(r) << client.error() << "\n" << sluice.describe();
    return r;
  }

  size_t upstream_requests() { return mock.requests().value_or(Json()).size(); }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(AuthTest, MissingKeyIs401) {
  auto r = chat(kFastModel, {});
  EXPECT_TRUE(is_openai_error(r, 401, "authentication_error"));
  // Refusals carry a request id too, so they can be found in the access log (§5).
  if (r) {
    EXPECT_FALSE(r->header("x-request-id").empty()) << r->describe();
  }
  EXPECT_EQ(upstream_requests(), 0u);
}

TEST_F(AuthTest, UnknownKeyIs401) {
  EXPECT_TRUE(
      is_openai_error(chat(kFastModel, bearer("sk-not-a-real-key")), 401, "authentication_error"));
  // A known key's digest is not a key.
  EXPECT_TRUE(is_openai_error(chat(kFastModel, bearer(agent_key_digest(kAliceKey))), 401,
                              "authentication_error"));
  EXPECT_EQ(upstream_requests(), 0u);
}

TEST_F(AuthTest, BearerKeyIsAccepted) {
  auto r = chat(kFastModel, bearer(kAliceKey));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
}

TEST_F(AuthTest, XApiKeyHeaderIsAcceptedAndNotForwarded) {
  auto r = chat(kFastModel, {{"x-api-key", kAliceKey}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  Json seen = last_upstream_request(mock);
  EXPECT_EQ(seen.dump().find(kAliceKey), std::string::npos)
      << "the agent's key went upstream: " << seen.dump();
}

TEST_F(AuthTest, PlainKeyFromTheEnvironmentIsAccepted) {
  auto r = chat(kFastModel, bearer(kCarolKey));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
}

TEST_F(AuthTest, ModelOutsideTheAllowListIs403) {
  EXPECT_TRUE(is_openai_error(chat(kSmartModel, bearer(kAliceKey)), 403, "permission_error"));
  EXPECT_EQ(upstream_requests(), 0u);
  // The same model is fine for an agent without an allow-list.
  auto r = chat(kSmartModel, bearer(kBobKey));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
}

TEST_F(AuthTest, UnknownModelIs404ModelNotFound) {
  EXPECT_TRUE(is_openai_error(chat("no-such-model", bearer(kBobKey)), 404, "model_not_found"));
  EXPECT_EQ(upstream_requests(), 0u);
}

}  // namespace
}  // namespace sluice::test
