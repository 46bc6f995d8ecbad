// admin_token (DESIGN §4: "if non-empty, admin requires Authorization: Bearer <it>"; §10: the
// token is a secret /config does not show).
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

constexpr const char* kAdminToken = "adm-token-3c9d1e";

class AdminAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.admin_token = kAdminToken;
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  std::optional<HttpResponse> admin_get(const std::string& path, const Headers& headers) {
    HttpClient admin = sluice.admin_client();
    auto r = admin.get(path, headers);
    EXPECT_TRUE(r) << path << ": " << admin.error() << "\n" << sluice.describe();
    return r;
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(AdminAuthTest, RequestsWithoutTheTokenAre401) {
  for (const char* path : {"/metrics", "/status", "/config"}) {
    auto none = admin_get(path, {});
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 401) << path << "\n" << none->describe();
    auto wrong = admin_get(path, bearer("not-the-token"));
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401) << path << "\n" << wrong->describe();
  }
}

TEST_F(AdminAuthTest, RequestsWithTheTokenAreServed) {
  for (const char* path : {"/metrics", "/status", "/config"}) {
    auto r = admin_get(path, bearer(kAdminToken));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << path << "\n" << r->describe();
  }
}

TEST_F(AdminAuthTest, ConfigHidesTheAdminTokenAndProviderKey) {
  auto r = admin_get("/config", bearer(kAdminToken));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->body.find(kAdminToken), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find(kProviderApiKey), std::string::npos) << r->body;
}

// The agent API does not accept the admin token as an agent key.
TEST_F(AdminAuthTest, AdminTokenIsNotAnAgentKey) {
  HttpClient client = sluice.client();
  EXPECT_TRUE(is_openai_error(
      client.post_json("/v1/chat/completions", chat_body(kFastModel, "x"), bearer(kAdminToken)),
      401, "authentication_error"));
}

}  // namespace
}  // namespace sluice::test
