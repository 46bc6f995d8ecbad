// The admin API (DESIGN §6) and the metrics it serves (§7), without an admin_token.
// /config must not show secrets (§10).
#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

// A sample line of metric `name` (with or without labels) in Prometheus text.
bool has_sample(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(name, 0) == 0 && line.size() > name.size() &&
        (line[name.size()] == ' ' || line[name.size()] == '{'))
      return true;
  return false;
}

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  std::optional<HttpResponse> admin_get(const std::string& path) {
    HttpClient admin = sluice.admin_client();
    auto r = admin.get(path);
    EXPECT_TRUE(r) << path << ": " << admin.error() << "\n" << sluice.describe();
    return r;
  }

  void one_chat() {
    HttpClient client = sluice.client();
    auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, "count me"),
                              bearer(kAliceKey));
    ASSERT_TRUE(r) << client.error();
    ASSERT_EQ(r->status, 200) << r->describe();
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(AdminApiTest, HealthAndReadiness) {
  auto health = admin_get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->describe();
  auto ready = admin_get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->describe();
}

// §7: after one request the request counter has a child with its labels, and the duration
// histogram and active-requests gauge are exported.
TEST_F(AdminApiTest, MetricsCountTheRequest) {
  one_chat();
  // The request's series line, or "" when the scrape has none.
  auto counted_line = [](const std::string& body) {
    std::istringstream lines(body);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("sluice_requests_total{", 0) == 0 &&
          line.find("agent=\"alice\"") != std::string::npos &&
          line.find("model=\"fast\"") != std::string::npos &&
          line.find("provider=\"mockai\"") != std::string::npos &&
          line.find("status=\"200\"") != std::string::npos)
        return line;
    }
    return std::string();
  };
  auto value_of = [](const std::string& line) {
    return std::stod(line.substr(line.rfind(' ') + 1));
  };
  // A worker counts a request as it finishes it, which can be a moment after the client has the
  // last byte, and a scrape may see the series made before its increment (at 0): scrape until
  // it counts the request (as Prometheus would on its next scrape).
  std::optional<HttpResponse> r;
  eventually(
      [&] {
        r = admin_get("/metrics");
        if (!r) return false;
        const std::string line = counted_line(r->body);
        return !line.empty() && value_of(line) >= 1.0;
      },
      std::chrono::seconds(3));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_NE(r->header("content-type").find("text/plain"), std::string::npos) << r->describe();

  const std::string counted = counted_line(r->body);
  ASSERT_FALSE(counted.empty()) << "no sluice_requests_total{agent=\"alice\",model=\"fast\","
                                   "provider=\"mockai\",status=\"200\"} in:\n"
                                << r->body;
  EXPECT_EQ(value_of(counted), 1.0) << counted;
  EXPECT_TRUE(has_sample(r->body, "sluice_request_duration_seconds_bucket")) << r->body;
  EXPECT_TRUE(has_sample(r->body, "sluice_request_duration_seconds_count")) << r->body;
  EXPECT_TRUE(has_sample(r->body, "sluice_active_requests")) << r->body;
}

// §6: /status is JSON with the providers and the config generation.
TEST_F(AdminApiTest, StatusShowsProvidersAndConfigGeneration) {
  one_chat();
  auto r = admin_get("/status");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  auto status = r->json();
  ASSERT_TRUE(status) << r->describe();
  EXPECT_TRUE(status->contains("providers")) << r->body;
  EXPECT_NE(r->body.find("\"mockai\""), std::string::npos) << r->body;
  EXPECT_TRUE(contains_key(*status, "generation")) << r->body;
}

// §6, §10: /config is the effective config with the provider key redacted.
TEST_F(AdminApiTest, ConfigHidesTheProviderKey) {
  auto r = admin_get("/config");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_NE(r->body.find("mockai"), std::string::npos) << "not the effective config: " << r->body;
  EXPECT_EQ(r->body.find(kProviderApiKey), std::string::npos) << r->body;
}

TEST_F(AdminApiTest, UnknownAdminPathIs404) {
  auto r = admin_get("/no-such-admin-page");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->describe();
}

}  // namespace
}  // namespace sluice::test
