// The auth filter with modes jwt and header, alone and combined with api_key (DESIGN §4), as a
// client meets it: which credential identifies which agent, that a bad credential is refused
// with its own mode's 401 instead of falling through to another mode, the 401 when nothing was
// sent, and the configs refused at load. Built through the registry, as a snapshot builds it;
// tokens are signed with the real clock (exp an hour ahead or behind).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/config/loader.h"
#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/filter/request_context.h"
#include "core/filter/snapshot.h"
#include "core/http/request.h"
#include "filters/auth/auth_settings.h"
#include "tests/support/jwt_maker.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

const std::string kSecret = "an-hs256-secret-that-is-long-enough-0123";
const std::string kDottedKey = "key.with.dots";  // an API key in JWT shape

config::Agent agent(std::string name, std::vector<std::string> keys) {
  config::Agent a;
  a.name = std::move(name);
  for (const auto& key : keys) a.keys.push_back(config::digest_of(key));
  return a;
}

// A private directory for key files, removed afterwards.
struct KeyDir {
  KeyDir() {
    char tmpl[] = "/tmp/sluice-auth-test-XXXXXX";
    path = mkdtemp(tmpl);
    std::filesystem::create_directories(path + "/keys");
  }
  ~KeyDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
    return path + "/" + name;
  }
  std::string path;
};

const test::RsaKeyPair& rsa_key() {
  static const test::RsaKeyPair key(2048);
  return key;
}

class AuthModesTest : public ::testing::Test {
 protected:
  AuthModesTest() {
    config_.source_path = keys_.path + "/sluice.yaml";
    config_.base_dir = keys_.path;
    config_.listen.push_back({"127.0.0.1", 8080});
    config_.agents.emplace("sofia", agent("sofia", {"sk-sofia-1"}));
    config_.agents.emplace("bob", agent("bob", {"sk-bob-1", kDottedKey}));
    keys_.write("keys/pub.pem", rsa_key().public_pem());
  }

  std::unique_ptr<filter::FilterFactory> build(const std::string& yaml) {
    const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("auth");
    if (builder == nullptr) throw std::runtime_error("auth is not registered");
    config::NodeReader reader(YAML::Load(yaml), "filters[0].auth", "sluice.yaml");
    return (*builder)(reader, config_);
  }
  std::string build_error(const std::string& yaml) {
    try {
      build(yaml);
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  }

  const config::Agent* sofia() const { return &config_.agents.at("sofia"); }
  const config::Agent* bob() const { return &config_.agents.at("bob"); }

  KeyDir keys_;
  config::Config config_;
};

void add_header(http::HttpRequest& r, std::string_view name, std::string_view value) {
  http::HeaderRef ref;
  ref.name_off = r.head_storage.size();
  ref.name_len = name.size();
  r.head_storage.append(name).append(": ");
  ref.value_off = r.head_storage.size();
  ref.value_len = value.size();
  r.head_storage.append(value).append("\r\n");
  r.headers_.push_back(ref);
}

struct Outcome {
  filter::RequestStatus status;
  const config::Agent* agent;
  filter::LocalReply reply;
  std::string extra_headers;
};

Outcome run(const filter::FilterFactory& factory,
            std::vector<std::pair<std::string, std::string>> headers) {
  http::HttpRequest request;
  for (const auto& [name, value] : headers) add_header(request, name, value);
  filter::RequestContext ctx;
  ctx.request = &request;
  ctx.endpoint = filter::Endpoint::ChatCompletions;
  filter::Filter* f = factory.create(ctx);
  Outcome out{f->on_request(ctx), ctx.agent, ctx.local_reply(),
              std::string(ctx.extra_response_headers())};
  f->on_complete(ctx);
  return out;
}

void expect_401(const Outcome& r, const std::string& code, const std::string& message) {
  EXPECT_EQ(r.status, filter::RequestStatus::Respond);
  EXPECT_EQ(r.agent, nullptr);
  EXPECT_EQ(r.reply.status, 401);
  EXPECT_EQ(r.reply.type, "authentication_error");
  EXPECT_EQ(r.reply.code, code);
  EXPECT_EQ(r.reply.message, message);
  EXPECT_THAT(r.extra_headers, HasSubstr("www-authenticate: Bearer"));
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string claims(const std::string& sub, int64_t exp_from_now = 3600) {
  return "{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(unix_now() + exp_from_now) + "}";
}

std::pair<std::string, std::string> bearer(const std::string& token) {
  return {"Authorization", "Bearer " + token};
}

const std::string kHs256 = "{modes: [jwt], jwt: {hs256_secret: " + kSecret + "}}";

// ---- jwt -------------------------------------------------------------------------------------

TEST_F(AuthModesTest, Hs256TokenIdentifiesTheAgent) {
  auto auth = build(kHs256);
  Outcome r = run(*auth, {bearer(test::hs256_jwt(claims("sofia"), kSecret))});
  EXPECT_EQ(r.status, filter::RequestStatus::Continue) << r.reply.message;
  EXPECT_EQ(r.agent, sofia());
}

TEST_F(AuthModesTest, Rs256KeyFileIsRelativeToTheConfig) {
  auto auth = build("{modes: [jwt], jwt: {rs256_public_key_file: keys/pub.pem}}");
  Outcome r = run(*auth, {bearer(rsa_key().rs256_jwt(claims("bob")))});
  EXPECT_EQ(r.status, filter::RequestStatus::Continue) << r.reply.message;
  EXPECT_EQ(r.agent, bob());
}

TEST_F(AuthModesTest, ExpiredTokenIs401WithTheReason) {
  auto auth = build(kHs256);
  Outcome r = run(*auth, {bearer(test::hs256_jwt(claims("sofia", -3600), kSecret))});
  EXPECT_EQ(r.reply.code, "expired_jwt");
  EXPECT_THAT(r.reply.message, ::testing::StartsWith("JWT expired at 20"));
  EXPECT_EQ(r.agent, nullptr);
  EXPECT_THAT(r.extra_headers, HasSubstr("www-authenticate: Bearer error=\"invalid_token\"\r\n"));
}

TEST_F(AuthModesTest, JwtAloneRefusesOtherBearerTokens) {
  auto auth = build(kHs256);
  expect_401(run(*auth, {bearer("sk-sofia-1")}), "invalid_jwt",
             "Malformed JWT: expected three base64url parts separated by dots");
  // x-api-key is not read when api_key is not a mode.
  expect_401(run(*auth, {{"x-api-key", "sk-sofia-1"}}), "missing_credentials",
             "Missing credentials: send a JWT as \"Authorization: Bearer <jwt>\"");
}

// ---- api_key + jwt ---------------------------------------------------------------------------

TEST_F(AuthModesTest, ApiKeyAndJwtTogether) {
  for (const char* yaml : {"{modes: [api_key, jwt], jwt: {hs256_secret: SECRET}}",
                           "{modes: [jwt, api_key], jwt: {hs256_secret: SECRET}}"}) {
    std::string text = yaml;
    text.replace(text.find("SECRET"), 6, kSecret);
    SCOPED_TRACE(text);
    auto auth = build(text);
    EXPECT_EQ(run(*auth, {bearer("sk-sofia-1")}).agent, sofia());
    EXPECT_EQ(run(*auth, {{"x-api-key", "sk-bob-1"}}).agent, bob());
    EXPECT_EQ(run(*auth, {bearer(test::hs256_jwt(claims("bob"), kSecret))}).agent, bob());
    // A configured key with two dots is an API key, whichever mode comes first.
    EXPECT_EQ(run(*auth, {bearer(kDottedKey)}).agent, bob());
    // An unknown key without dots is an API key: refused as one.
    expect_401(run(*auth, {bearer("sk-nobody")}), "invalid_api_key", "Invalid API key");
    // A bad JWT is refused as a JWT, with its reason (not as an invalid API key).
    expect_401(run(*auth, {bearer(test::hs256_jwt(claims("sofia"), kSecret + "x"))}), "invalid_jwt",
               "JWT signature does not verify");
    // Nothing at all: what would have been accepted.
    expect_401(run(*auth, {}), "missing_credentials",
               std::string("Missing credentials: send ") +
                   (text.find("[api_key") != std::string::npos
                        ? "an API key as \"Authorization: Bearer <key>\" or \"x-api-key\", or a "
                          "JWT as \"Authorization: Bearer <jwt>\""
                        : "a JWT as \"Authorization: Bearer <jwt>\", or an API key as "
                          "\"Authorization: Bearer <key>\" or \"x-api-key\""));
  }
}

TEST_F(AuthModesTest, OrderDecidesBetweenAJwtAndAnXApiKey) {
  std::string jwt = test::hs256_jwt(claims("bob"), kSecret);
  auto jwt_first = build("{modes: [jwt, api_key], jwt: {hs256_secret: " + kSecret + "}}");
  EXPECT_EQ(run(*jwt_first, {bearer(jwt), {"x-api-key", "sk-sofia-1"}}).agent, bob());
  auto key_first = build("{modes: [api_key, jwt], jwt: {hs256_secret: " + kSecret + "}}");
  EXPECT_EQ(run(*key_first, {bearer(jwt), {"x-api-key", "sk-sofia-1"}}).agent, sofia());
}

TEST_F(AuthModesTest, UnsupportedSchemeListsWhatIsAccepted) {
  auto auth = build("{modes: [api_key, jwt], jwt: {hs256_secret: " + kSecret + "}}");
  expect_401(run(*auth, {{"Authorization", "Basic Zm9vOmJhcg=="}}), "missing_credentials",
             "Unsupported Authorization scheme: send an API key as \"Authorization: Bearer "
             "<key>\" or \"x-api-key\", or a JWT as \"Authorization: Bearer <jwt>\"");
}

// ---- header ----------------------------------------------------------------------------------

TEST_F(AuthModesTest, HeaderModeNamesTheAgent) {
  auto auth = build("{modes: [header]}");
  EXPECT_EQ(run(*auth, {{"x-agent-id", "sofia"}}).agent, sofia());
  EXPECT_EQ(run(*auth, {{"X-Agent-ID", "bob"}}).agent, bob());
  expect_401(run(*auth, {{"x-agent-id", "mallory"}}), "unknown_agent",
             "Header \"x-agent-id\" names agent \"mallory\", which is not configured");
  expect_401(run(*auth, {}), "missing_credentials",
             "Missing credentials: send the agent's name in \"x-agent-id\"");
  expect_401(run(*auth, {{"x-agent-id", ""}}), "missing_credentials",
             "Missing credentials: send the agent's name in \"x-agent-id\"");
  expect_401(run(*auth, {{"x-agent-id", "sofia"}, {"x-agent-id", "bob"}}), "invalid_agent_header",
             "Header \"x-agent-id\" is sent more than once");
}

TEST_F(AuthModesTest, HeaderModeWithItsOwnHeaderName) {
  auto auth = build("{modes: [header], header: {name: X-Sluice-Agent}}");
  EXPECT_EQ(run(*auth, {{"x-sluice-agent", "bob"}}).agent, bob());
  EXPECT_EQ(run(*auth, {{"x-agent-id", "bob"}}).reply.status, 401);
}

TEST_F(AuthModesTest, ABadCredentialNeverFallsThroughToALaterMode) {
  auto auth = build("{modes: [jwt, api_key, header], jwt: {hs256_secret: " + kSecret + "}}");
  std::pair<std::string, std::string> as_sofia{"x-agent-id", "sofia"};
  // A bad JWT with a valid header: refused for the JWT.
  Outcome expired =
      run(*auth, {bearer(test::hs256_jwt(claims("sofia", -3600), kSecret)), as_sofia});
  EXPECT_EQ(expired.agent, nullptr);
  EXPECT_EQ(expired.reply.code, "expired_jwt");
  EXPECT_THAT(expired.reply.message, ::testing::StartsWith("JWT expired at "));
  // A bad API key with a valid header: refused for the key.
  expect_401(run(*auth, {bearer("sk-wrong"), as_sofia}), "invalid_api_key", "Invalid API key");
  // Nothing for jwt and api_key: header mode decides.
  EXPECT_EQ(run(*auth, {as_sofia}).agent, sofia());
  // Earlier modes win when both are good.
  EXPECT_EQ(run(*auth, {bearer("sk-bob-1"), as_sofia}).agent, bob());
}

// ---- config errors ---------------------------------------------------------------------------

TEST_F(AuthModesTest, JwtNeedsExactlyOneKey) {
  EXPECT_THAT(build_error("{modes: [jwt], jwt: {hs256_secret: " + kSecret +
                          ", rs256_public_key_file: keys/pub.pem}}"),
              HasSubstr("give either hs256_secret or rs256_public_key_file, not both"));
  std::string neither = build_error("{modes: [jwt], jwt: {issuer: x}}");
  EXPECT_THAT(neither, HasSubstr("filters[0].auth.jwt"));
  EXPECT_THAT(neither, HasSubstr("needs a key: hs256_secret"));
  EXPECT_THAT(build_error("{modes: [jwt]}"), HasSubstr("mode \"jwt\" needs a jwt block"));
  EXPECT_THAT(build_error("{modes: [jwt], jwt: {hs256_secret: short}}"),
              HasSubstr("is 5 bytes; HS256 needs at least 32"));
}

TEST_F(AuthModesTest, BlocksWithoutTheirModeAndUnknownKeys) {
  EXPECT_THAT(build_error("{modes: [api_key], jwt: {hs256_secret: " + kSecret + "}}"),
              HasSubstr("settings for mode \"jwt\", which is not in modes"));
  EXPECT_THAT(build_error("{header: {name: x-agent}}"),
              HasSubstr("settings for mode \"header\", which is not in modes"));
  std::string typo =
      build_error("{modes: [jwt], jwt: {hs256_secret: " + kSecret + ", audiance: sluice}}");
  EXPECT_THAT(typo, HasSubstr("filters[0].auth.jwt.audiance"));
  EXPECT_THAT(typo, HasSubstr("did you mean \"audience\""));
  EXPECT_THAT(build_error("{modes: [header], header: {nmae: x}}"),
              HasSubstr("did you mean \"name\""));
  EXPECT_THAT(build_error("{modes: [api_key, jwt, api_key], jwt: {hs256_secret: " + kSecret + "}}"),
              HasSubstr("mode \"api_key\" is listed twice"));
  EXPECT_THAT(build_error("{modes: [jwt], jwt: {hs256_secret: " + kSecret + ", clock_skew: 2h}}"),
              HasSubstr("more than 1h"));
  EXPECT_THAT(build_error("{modes: [header], header: {name: \"x agent\"}}"),
              HasSubstr("is not a header name"));
  EXPECT_THAT(build_error("{modes: [header], header: {name: Authorization}}"),
              HasSubstr("carries API keys and JWTs"));
}

TEST_F(AuthModesTest, KeyFileProblemsAreLoadErrors) {
  std::string missing = build_error("{modes: [jwt], jwt: {rs256_public_key_file: keys/nope.pem}}");
  EXPECT_THAT(missing, HasSubstr("filters[0].auth.jwt.rs256_public_key_file"));
  EXPECT_THAT(missing, HasSubstr("cannot read public key file \"keys/nope.pem\" (" + keys_.path +
                                 "/keys/nope.pem): No such file or directory"));

  keys_.write("keys/garbage.pem", "hello\n");
  EXPECT_THAT(build_error("{modes: [jwt], jwt: {rs256_public_key_file: keys/garbage.pem}}"),
              HasSubstr("is not a PEM public key"));

  keys_.write("keys/private.pem", rsa_key().private_pem());
  EXPECT_THAT(build_error("{modes: [jwt], jwt: {rs256_public_key_file: keys/private.pem}}"),
              HasSubstr("holds a private key"));

  EVP_PKEY* ec = EVP_EC_gen("P-256");
  ASSERT_NE(ec, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), ec);
  EVP_PKEY_free(ec);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  keys_.write("keys/ec.pem", std::string(data, size));
  EXPECT_THAT(build_error("{modes: [jwt], jwt: {rs256_public_key_file: keys/ec.pem}}"),
              HasSubstr("not an RSA key"));

  keys_.write("keys/small.pem", test::RsaKeyPair(1024).public_pem());
  EXPECT_THAT(build_error("{modes: [jwt], jwt: {rs256_public_key_file: keys/small.pem}}"),
              HasSubstr("1024-bit RSA key; RS256 needs at least 2048 bits"));

  // An absolute path works too.
  auto auth =
      build("{modes: [jwt], jwt: {rs256_public_key_file: " + keys_.path + "/keys/pub.pem}}");
  EXPECT_EQ(run(*auth, {bearer(rsa_key().rs256_jwt(claims("bob")))}).agent, bob());
}

TEST_F(AuthModesTest, HeaderModeOnANonLoopbackAddressIsRefused) {
  config_.listen = {{"0.0.0.0", 8080}};
  std::string e = build_error("{modes: [api_key, header]}");
  EXPECT_THAT(e, HasSubstr("listen address 0.0.0.0:8080 is not loopback"));
  EXPECT_THAT(e, HasSubstr("any client that reaches it could claim to be any agent"));
  EXPECT_THAT(e, HasSubstr("header.allow_remote: true"));
  // Allowed when the operator says so.
  auto auth = build("{modes: [header], header: {allow_remote: true}}");
  EXPECT_EQ(run(*auth, {{"x-agent-id", "bob"}}).agent, bob());
  // One non-loopback address among loopback ones is enough to refuse.
  config_.listen = {{"127.0.0.1", 8080}, {"10.1.2.3", 8080}};
  EXPECT_THAT(build_error("{modes: [header]}"), HasSubstr("10.1.2.3:8080 is not loopback"));
  config_.listen = {{"::", 8080}};
  EXPECT_THAT(build_error("{modes: [header]}"), HasSubstr("is not loopback"));
  // Loopback in every spelling is fine.
  config_.listen = {{"127.0.0.1", 8080}, {"::1", 8081}, {"localhost", 8082}, {"127.9.9.9", 8083}};
  EXPECT_NO_THROW(build("{modes: [header]}"));
}

TEST(AuthLoopback, WhichHostsAreLoopback) {
  using filters::auth::is_loopback_host;
  for (const char* host :
       {"127.0.0.1", "127.255.0.1", "::1", "localhost", "LocalHost", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback_host(host)) << host;
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::2", "localhost.evil.com",
                           "example.com", "::ffff:10.0.0.1", ""})
    EXPECT_FALSE(is_loopback_host(host)) << host;
}

// ---- through the loader, as `sluice validate` and start-up see it ------------------------------

TEST(AuthModesConfigFile, SecretFromTheEnvironmentAndHeaderModeRefusal) {
  const std::string yaml = R"(
listen: LISTEN
providers:
  demo: {type: mock}
default_provider: demo
agents:
  sofia: {keys: ["sk-sofia"]}
filters:
  - auth: {modes: [jwt, header], jwt: {hs256_secret: "${JWT_SECRET}", audience: sluice}}
)";
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "JWT_SECRET") return kSecret;
    return std::nullopt;
  };
  auto with_listen = [&](const std::string& listen) {
    std::string text = yaml;
    text.replace(text.find("LISTEN"), 6, listen);
    return config::load_config_text(text, "sluice.yaml", env);
  };
  auto snapshot = filter::ConfigSnapshot::build(with_listen("127.0.0.1:0"), 1);
  const filter::FilterFactory& auth = *snapshot->filters()[0];
  std::string token = test::hs256_jwt(
      "{\"sub\":\"sofia\",\"aud\":\"sluice\",\"exp\":" + std::to_string(unix_now() + 60) + "}",
      kSecret);
  EXPECT_EQ(run(auth, {bearer(token)}).agent, &snapshot->config().agents.at("sofia"));

  try {
    filter::ConfigSnapshot::build(with_listen("0.0.0.0:8080"), 2);
    FAIL() << "header mode on 0.0.0.0 was accepted";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("sluice.yaml:9:"));
    EXPECT_THAT(e.what(), HasSubstr("filters[0].auth.modes"));
    EXPECT_THAT(e.what(), HasSubstr("0.0.0.0:8080 is not loopback"));
  }
}

}  // namespace
}  // namespace sluice
