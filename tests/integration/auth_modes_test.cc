// Auth modes jwt and header end to end (DESIGN §4 filters.auth, §5 row 401): a real sluice on a
// real socket in front of the mock provider. Which agent a request ran as is proven by what
// that agent may do — alice's allow-list has fast and embed, bob's has everything — so a JWT
// naming alice gets 403 for `smart` and bob's gets 200. Refused requests never reach the
// provider. `sluice validate` refuses header mode on a non-loopback listen address.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "tests/support/integration_env.h"
#include "tests/support/jwt_maker.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// The standard config with `auth_line` as the auth filter (and `listen` replaced if given).
std::string config_with_auth(const std::string& base_url, const std::string& auth_line,
                             const std::string& listen = "") {
  GatewayConfig config;
  config.provider_base_url = base_url;
  std::string yaml = config.to_yaml();
  const std::string standard = "  - auth: {modes: [api_key]}\n";
  size_t at = yaml.find(standard);
  EXPECT_NE(at, std::string::npos) << yaml;
  yaml.replace(at, standard.size(), "  - auth: " + auth_line + "\n");
  if (!listen.empty()) {
    const std::string loopback = "listen: 127.0.0.1:0\n";
    yaml.replace(yaml.find(loopback), loopback.size(), "listen: " + listen + "\n");
  }
  return yaml;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string claims(const std::string& agent, int64_t exp_from_now = 600) {
  return "{\"sub\":\"" + agent + "\",\"iss\":\"https://id.example\",\"aud\":\"sluice\",\"exp\":" +
         std::to_string(unix_now() + exp_from_now) + "}";
}

class JwtModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    // Relative to the config file's directory, where the test writes it.
    sluice.dir().write("issuer-public.pem", key.public_pem());
    ASSERT_TRUE(sluice.start(
        sluice_binary(),
        config_with_auth(mock.base_url(),
                         "{modes: [api_key, jwt], jwt: {rs256_public_key_file: "
                         "issuer-public.pem, issuer: \"https://id.example\", audience: sluice}}")));
  }

  std::optional<HttpResponse> chat(const std::string& model, const Headers& headers) {
    HttpClient client = sluice.client();
    auto r = client.post_json("/v1/chat/completions", chat_body(model, "hi"), headers);
    EXPECT_TRUE(r) << client.error() << "\n" << sluice.describe();
    return r;
  }
  size_t upstream_requests() { return mock.requests().value_or(Json()).size(); }

  RsaKeyPair key{2048};
  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(JwtModeTest, AGoodJwtReachesTheProviderAsTheAgentItNames) {
  std::string alice = key.rs256_jwt(claims("alice"));
  auto ok = chat(kFastModel, bearer(alice));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->describe();
  EXPECT_EQ(upstream_requests(), 1u);
  // The token is the agent's credential: it never goes upstream.
  EXPECT_EQ(last_upstream_request(mock).dump().find(alice), std::string::npos);
  // alice may not use `smart`; bob may.
  EXPECT_TRUE(is_openai_error(chat(kSmartModel, bearer(alice)), 403, "permission_error"));
  auto bob = chat(kSmartModel, bearer(key.rs256_jwt(claims("bob"))));
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->status, 200) << bob->describe();

  // /v1/models lists alice's models for alice's token.
  HttpClient client = sluice.client();
  auto models = client.get("/v1/models", bearer(alice));
  ASSERT_TRUE(models) << client.error();
  ASSERT_EQ(models->status, 200) << models->describe();
  std::set<std::string> ids;
  std::optional<Json> listed = models->json();
  ASSERT_TRUE(listed) << models->describe();
  for (const Json& m : (*listed)["data"].items()) ids.insert(m["id"].str());
  EXPECT_EQ(ids, (std::set<std::string>{kFastModel, kEmbedModel}));
}

TEST_F(JwtModeTest, ApiKeysStillWorkBesideJwts) {
  auto r = chat(kSmartModel, bearer(kBobKey));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_TRUE(is_openai_error(chat(kFastModel, bearer("sk-unknown")), 401, "invalid_api_key"));
}

TEST_F(JwtModeTest, AnExpiredJwtIs401Json) {
  auto r = chat(kFastModel, bearer(key.rs256_jwt(claims("alice", -3600))));
  ASSERT_TRUE(is_openai_error(r, 401, "authentication_error"));
  Json error = (*r->json())["error"];
  EXPECT_EQ(error["code"].str(), "expired_jwt") << r->describe();
  EXPECT_EQ(error["message"].str().rfind("JWT expired at ", 0), 0u) << r->describe();
  EXPECT_EQ(r->header("www-authenticate"), "Bearer error=\"invalid_token\"") << r->describe();
  EXPECT_FALSE(r->header("x-request-id").empty());
  EXPECT_EQ(upstream_requests(), 0u);
}

TEST_F(JwtModeTest, ForgedAndMisaddressedJwtsAre401WithTheReason) {
  RsaKeyPair other(2048);
  auto forged = chat(kFastModel, bearer(other.rs256_jwt(claims("alice"))));
  ASSERT_TRUE(is_openai_error(forged, 401, "invalid_jwt"));
  EXPECT_EQ((*forged->json())["error"]["message"].str(), "JWT signature does not verify");

  std::string wrong_aud =
      "{\"sub\":\"alice\",\"iss\":\"https://id.example\",\"aud\":\"other\","
      "\"exp\":" +
      std::to_string(unix_now() + 600) + "}";
  auto aud = chat(kFastModel, bearer(key.rs256_jwt(wrong_aud)));
  ASSERT_TRUE(is_openai_error(aud, 401, "invalid_jwt"));
  EXPECT_EQ((*aud->json())["error"]["message"].str(), "JWT audience does not include \"sluice\"");

  auto stranger = chat(kFastModel, bearer(key.rs256_jwt(claims("mallory"))));
  ASSERT_TRUE(is_openai_error(stranger, 401, "invalid_jwt"));
  EXPECT_EQ((*stranger->json())["error"]["message"].str(),
            "JWT names agent \"mallory\", which is not configured");
  EXPECT_EQ(upstream_requests(), 0u);
}

TEST_F(JwtModeTest, NoCredentialsSaysWhatIsAccepted) {
  auto r = chat(kFastModel, {});
  ASSERT_TRUE(is_openai_error(r, 401, "missing_credentials"));
  EXPECT_EQ((*r->json())["error"]["message"].str(),
            "Missing credentials: send an API key as \"Authorization: Bearer <key>\" or "
            "\"x-api-key\", or a JWT as \"Authorization: Bearer <jwt>\"");
}

TEST(JwtSecret, WorksFromTheEnvironmentAndIsNeverShownByConfig) {
  const std::string secret = "jwt-secret-from-the-environment-5f4e3d2c1b";
  MockProvider mock{mock_provider_binary()};
  ASSERT_TRUE(mock.ok());
  SluiceServer sluice;
  ASSERT_TRUE(sluice.start(
      sluice_binary(),
      config_with_auth(mock.base_url(), "{modes: [jwt], jwt: {hs256_secret: \"${JWT_SECRET}\"}}"),
      {{"JWT_SECRET", secret}}));
  HttpClient client = sluice.client();
  auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, "hi"),
                            bearer(hs256_jwt(claims("bob"), secret)));
  ASSERT_TRUE(r) << client.error();
  EXPECT_EQ(r->status, 200) << r->describe();

  HttpClient admin = sluice.admin_client();
  auto config = admin.get("/config");
  ASSERT_TRUE(config) << admin.error();
  ASSERT_EQ(config->status, 200) << config->describe();
  EXPECT_EQ(config->body.find(secret), std::string::npos) << config->body;
  EXPECT_NE(config->body.find("hs256_secret"), std::string::npos) << config->body;
}

TEST(HeaderMode, WorksOnLoopback) {
  MockProvider mock{mock_provider_binary()};
  ASSERT_TRUE(mock.ok());
  SluiceServer sluice;
  ASSERT_TRUE(
      sluice.start(sluice_binary(), config_with_auth(mock.base_url(), "{modes: [header]}")));
  HttpClient client = sluice.client();
  auto bob = client.post_json("/v1/chat/completions", chat_body(kSmartModel, "hi"),
                              {{"x-agent-id", "bob"}});
  ASSERT_TRUE(bob) << client.error();
  EXPECT_EQ(bob->status, 200) << bob->describe();
  EXPECT_TRUE(is_openai_error(client.post_json("/v1/chat/completions", chat_body(kSmartModel, "hi"),
                                               {{"x-agent-id", "alice"}}),
                              403, "permission_error"));
  auto unknown = client.post_json("/v1/chat/completions", chat_body(kFastModel, "hi"),
                                  {{"x-agent-id", "mallory"}});
  ASSERT_TRUE(is_openai_error(unknown, 401, "unknown_agent"));
  EXPECT_TRUE(
      is_openai_error(client.post_json("/v1/chat/completions", chat_body(kFastModel, "hi"), {}),
                      401, "missing_credentials"));
  EXPECT_EQ(mock.requests().value_or(Json()).size(), 1u);
}

// `sluice validate -c FILE`: exit code and what it printed.
std::pair<int, std::string> validate(const TempDir& dir, const std::string& yaml) {
  std::string path = dir.write("validate.yaml", yaml);
  auto process = Process::start({sluice_binary(), "validate", "-c", path}, dir.file("validate"));
  if (!process) return {-1, "could not start sluice"};
  std::optional<int> code = process->wait_exit(20s);
  return {code.value_or(-1), process->stderr_text() + process->stdout_text()};
}

TEST(HeaderMode, ValidateRefusesItOnANonLoopbackAddress) {
  TempDir dir;
  auto [code, output] =
      validate(dir, config_with_auth("http://127.0.0.1:9/v1", "{modes: [header]}", "0.0.0.0:8080"));
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("validate.yaml:"), std::string::npos) << output;
  EXPECT_NE(output.find("listen address 0.0.0.0:8080 is not loopback"), std::string::npos)
      << output;
  EXPECT_NE(output.find("could claim to be any agent"), std::string::npos) << output;
  // With allow_remote the operator takes responsibility: valid.
  auto [allowed, allowed_output] = validate(
      dir, config_with_auth("http://127.0.0.1:9/v1",
                            "{modes: [header], header: {allow_remote: true}}", "0.0.0.0:8080"));
  EXPECT_EQ(allowed, 0) << allowed_output;
}

TEST(HeaderMode, StartUpRefusesItOnANonLoopbackAddress) {
  TempDir dir;
  std::string path = dir.write(
      "sluice.yaml", config_with_auth("http://127.0.0.1:9/v1", "{modes: [header]}", "0.0.0.0:0"));
  auto process = Process::start({sluice_binary(), "run", "-c", path}, dir.file("run"));
  ASSERT_TRUE(process);
  std::optional<int> code = process->wait_exit(20s);
  ASSERT_TRUE(code) << "sluice started with header mode on 0.0.0.0";
  EXPECT_NE(*code, 0);
  EXPECT_NE(process->stderr_text().find("is not loopback"), std::string::npos)
      << process->stderr_text();
}

}  // namespace
}  // namespace sluice::test
