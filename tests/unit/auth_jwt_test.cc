// JWT verification as an agent presenting a token meets it (filters/auth/jwt_verifier.h):
// which tokens name which agent, and the precise 401 message for each kind of bad token.
// The clock is injected (verify(token, now_ms)); tokens are made by tests/support/jwt_maker.h,
// written from the RFCs independently of the code under test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "filters/auth/agent_names.h"
#include "filters/auth/base64url.h"
#include "filters/auth/hmac_sha256.h"
#include "filters/auth/jwt_settings.h"
#include "filters/auth/jwt_verifier.h"
#include "tests/support/jwt_maker.h"

namespace sluice {
namespace {

using filters::auth::AgentNames;
using filters::auth::JwtAlgorithm;
using filters::auth::JwtSettings;
using filters::auth::JwtStatus;
using filters::auth::JwtVerdict;
using filters::auth::JwtVerifier;
using test::base64url;
using test::hs256_jwt;
using ::testing::HasSubstr;

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
// 2026-11-21T10:00:00Z
constexpr int64_t kExpiry = 1795255200;
constexpr int64_t kSecond = 1000;
// "now" in the tests: an hour before kExpiry.
constexpr int64_t kNowMs = (kExpiry - 3600) * kSecond;

std::map<std::string, config::Agent> agents() {
  std::map<std::string, config::Agent> out;
  for (const char* name : {"sofia", "bob"}) out[name].name = name;
  return out;
}

// {"sub": <sub>, "exp": <exp>} plus `extra` members (",\"iss\":\"x\"").
std::string claims(const std::string& sub, int64_t exp = kExpiry, const std::string& extra = "") {
  return "{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(exp) + extra + "}";
}

const test::RsaKeyPair& rsa_key() {
  static const test::RsaKeyPair key(2048);
  return key;
}

JwtSettings hs256(std::string issuer = "", std::string audience = "") {
  JwtSettings s;
  s.algorithm = JwtAlgorithm::HS256;
  s.hs256_secret = kSecret;
  s.issuer = std::move(issuer);
  s.audience = std::move(audience);
  return s;
}

JwtSettings rs256(const test::RsaKeyPair& key = rsa_key()) {
  JwtSettings s;
  s.algorithm = JwtAlgorithm::RS256;
  std::string error;
  s.rs256_public_key = filters::auth::parse_rsa_public_key_pem(key.public_pem(), error);
  EXPECT_TRUE(s.rs256_public_key) << error;
  return s;
}

class JwtTest : public ::testing::Test {
 protected:
  std::map<std::string, config::Agent> agents_ = agents();
  AgentNames names_{agents_};

  JwtVerdict verify(JwtSettings settings, const std::string& token, int64_t now = kNowMs) {
    JwtVerifier verifier(std::move(settings), names_);
    return verifier.verify(token, now);
  }
  void expect_refused(const JwtVerdict& v, JwtStatus status, const std::string& message) {
    EXPECT_EQ(v.status, status) << filters::auth::to_string(v.status) << ": " << v.message;
    EXPECT_EQ(v.agent, nullptr);
    EXPECT_EQ(v.message, message);
  }
};

// ---- good tokens -----------------------------------------------------------------------------

TEST_F(JwtTest, Hs256TokenNamesTheAgent) {
  JwtVerdict v = verify(hs256(), hs256_jwt(claims("sofia"), kSecret));
  ASSERT_EQ(v.status, JwtStatus::Ok) << v.message;
  EXPECT_EQ(v.agent, &agents_.at("sofia"));
  EXPECT_FALSE(v.from_cache);
}

TEST_F(JwtTest, Rs256TokenNamesTheAgent) {
  JwtVerdict v = verify(rs256(), rsa_key().rs256_jwt(claims("bob")));
  ASSERT_EQ(v.status, JwtStatus::Ok) << v.message;
  EXPECT_EQ(v.agent, &agents_.at("bob"));
}

TEST_F(JwtTest, IssuerAndAudienceWhenConfigured) {
  std::string token = hs256_jwt(
      claims("sofia", kExpiry, R"(,"iss":"https://id.example","aud":["other","sluice"])"), kSecret);
  JwtVerdict v = verify(hs256("https://id.example", "sluice"), token);
  ASSERT_EQ(v.status, JwtStatus::Ok) << v.message;
  // A single-string audience too.
  std::string single =
      hs256_jwt(claims("sofia", kExpiry, R"(,"iss":"https://id.example","aud":"sluice")"), kSecret);
  EXPECT_EQ(verify(hs256("https://id.example", "sluice"), single).status, JwtStatus::Ok);
}

TEST_F(JwtTest, OtherAgentClaim) {
  JwtSettings s = hs256();
  s.agent_claim = "agent";
  std::string token = hs256_jwt(
      R"({"sub":"user-42","agent":"bob","exp":)" + std::to_string(kExpiry) + "}", kSecret);
  JwtVerdict v = verify(std::move(s), token);
  ASSERT_EQ(v.status, JwtStatus::Ok) << v.message;
  EXPECT_EQ(v.agent, &agents_.at("bob"));
}

TEST_F(JwtTest, FractionalAndNbfInThePast) {
  std::string token = hs256_jwt(
      R"({"sub":"sofia","exp":)" + std::to_string(kExpiry) + R"(.5,"nbf":1700000000,"iat":1})",
      kSecret);
  EXPECT_EQ(verify(hs256(), token).status, JwtStatus::Ok);
}

// ---- lifetime --------------------------------------------------------------------------------

TEST_F(JwtTest, ExpiredTokenSaysWhen) {
  std::string token = hs256_jwt(claims("sofia"), kSecret);
  // Default skew 60 s: at exp + 60 s it is refused.
  JwtVerdict v = verify(hs256(), token, (kExpiry + 60) * kSecond);
  expect_refused(v, JwtStatus::Expired, "JWT expired at 2026-11-21T10:00:00Z");
  EXPECT_STREQ(filters::auth::code_of(v.status), "expired_jwt");
}

TEST_F(JwtTest, WithinTheClockSkewIsAccepted) {
  std::string token = hs256_jwt(claims("sofia"), kSecret);
  EXPECT_EQ(verify(hs256(), token, (kExpiry + 59) * kSecond).status, JwtStatus::Ok);
  // nbf 30 s in the future of a clock that is behind: accepted within the skew.
  std::string early = hs256_jwt(
      claims("sofia", kExpiry, ",\"nbf\":" + std::to_string(kNowMs / kSecond + 30)), kSecret);
  EXPECT_EQ(verify(hs256(), early).status, JwtStatus::Ok);
  // A zero skew is exact.
  JwtSettings exact = hs256();
  exact.clock_skew = config::Duration{0};
  expect_refused(verify(std::move(exact), token, kExpiry * kSecond), JwtStatus::Expired,
                 "JWT expired at 2026-11-21T10:00:00Z");
}

TEST_F(JwtTest, NotBeforeInTheFuture) {
  int64_t nbf = kNowMs / kSecond + 120;  // 2026-11-21T09:02:00Z
  std::string token =
      hs256_jwt(claims("sofia", kExpiry, ",\"nbf\":" + std::to_string(nbf)), kSecret);
  expect_refused(verify(hs256(), token), JwtStatus::NotYetValid,
                 "JWT is not valid before 2026-11-21T09:02:00Z");
}

TEST_F(JwtTest, MissingExpiry) {
  expect_refused(verify(hs256(), hs256_jwt(R"({"sub":"sofia"})", kSecret)),
                 JwtStatus::MissingExpiry,
                 "JWT has no \"exp\" claim; sluice accepts only tokens that expire");
}

// ---- who issued it, for whom, naming whom -----------------------------------------------------

TEST_F(JwtTest, WrongAudience) {
  std::string token = hs256_jwt(claims("sofia", kExpiry, R"(,"aud":["a","b"])"), kSecret);
  expect_refused(verify(hs256("", "sluice"), token), JwtStatus::WrongAudience,
                 "JWT audience does not include \"sluice\"");
  std::string none = hs256_jwt(claims("sofia"), kSecret);
  expect_refused(verify(hs256("", "sluice"), none), JwtStatus::WrongAudience,
                 "JWT has no \"aud\" claim; it must include \"sluice\"");
}

TEST_F(JwtTest, WrongIssuer) {
  std::string token =
      hs256_jwt(claims("sofia", kExpiry, R"(,"iss":"https://evil.example")"), kSecret);
  expect_refused(verify(hs256("https://id.example"), token), JwtStatus::WrongIssuer,
                 "JWT issuer \"https://evil.example\" is not \"https://id.example\"");
  expect_refused(verify(hs256("https://id.example"), hs256_jwt(claims("sofia"), kSecret)),
                 JwtStatus::WrongIssuer,
                 "JWT has no \"iss\" claim; the issuer must be \"https://id.example\"");
}

TEST_F(JwtTest, UnknownAgentClaim) {
  expect_refused(verify(hs256(), hs256_jwt(claims("mallory"), kSecret)), JwtStatus::UnknownAgent,
                 "JWT names agent \"mallory\", which is not configured");
  // Case matters: agent names are YAML keys.
  EXPECT_EQ(verify(hs256(), hs256_jwt(claims("Sofia"), kSecret)).status, JwtStatus::UnknownAgent);
  expect_refused(verify(hs256(), hs256_jwt(R"({"exp":)" + std::to_string(kExpiry) + "}", kSecret)),
                 JwtStatus::NoAgentClaim, "JWT has no \"sub\" claim naming the agent");
  expect_refused(
      verify(hs256(), hs256_jwt(R"({"sub":7,"exp":)" + std::to_string(kExpiry) + "}", kSecret)),
      JwtStatus::Malformed, "Malformed JWT: the claim \"sub\" is not a string");
}

TEST_F(JwtTest, LongClaimIsCutInTheMessage) {
  std::string name(5000, 'x');
  JwtVerdict v = verify(hs256(), hs256_jwt(claims(name), kSecret));
  EXPECT_EQ(v.status, JwtStatus::UnknownAgent);
  EXPECT_LT(v.message.size(), 200u);
}

// ---- signature and algorithm ------------------------------------------------------------------

TEST_F(JwtTest, WrongSignature) {
  const std::string message = "JWT signature does not verify";
  // Signed with another secret.
  expect_refused(verify(hs256(), hs256_jwt(claims("sofia"), kSecret + "x")),
                 JwtStatus::BadSignature, message);
  // Claims changed after signing (sub: bob → sofia), signature kept.
  std::string good = hs256_jwt(claims("bob"), kSecret);
  std::string forged = test::jwt_signing_input(R"({"alg":"HS256","typ":"JWT"})", claims("sofia")) +
                       good.substr(good.rfind('.'));
  expect_refused(verify(hs256(), forged), JwtStatus::BadSignature, message);
  // RS256 signed by another key pair.
  test::RsaKeyPair other(2048);
  expect_refused(verify(rs256(), other.rs256_jwt(claims("bob"))), JwtStatus::BadSignature, message);
  // A signature cut short.
  std::string input = test::jwt_signing_input(R"({"alg":"RS256"})", claims("bob"));
  std::string cut = input + "." + base64url(rsa_key().sign_sha256(input).substr(0, 200));
  expect_refused(verify(rs256(), cut), JwtStatus::BadSignature, message);
}

TEST_F(JwtTest, AlgNoneIsRefused) {
  std::string input = test::jwt_signing_input(R"({"alg":"none"})", claims("sofia"));
  for (const std::string& token : {input + ".", input + "." + base64url("x")}) {
    expect_refused(verify(hs256(), token), JwtStatus::BadAlgorithm,
                   "JWT algorithm \"none\" (unsigned) is not accepted; expected HS256");
  }
  expect_refused(
      verify(rs256(), test::jwt_signing_input(R"({"alg":"NONE"})", claims("sofia")) + "."),
      JwtStatus::BadAlgorithm, "JWT algorithm \"none\" (unsigned) is not accepted; expected RS256");
}

TEST_F(JwtTest, AlgorithmMismatchIsRefused) {
  // The classic confusion: an HS256 token whose "secret" is the RS256 public key.
  std::string pem = rsa_key().public_pem();
  expect_refused(verify(rs256(), hs256_jwt(claims("sofia"), pem)), JwtStatus::BadAlgorithm,
                 "JWT algorithm \"HS256\" is not the configured RS256");
  expect_refused(verify(hs256(), rsa_key().rs256_jwt(claims("sofia"))), JwtStatus::BadAlgorithm,
                 "JWT algorithm \"RS256\" is not the configured HS256");
  expect_refused(verify(hs256(), hs256_jwt(R"({"alg":"hs256"})", claims("sofia"), kSecret)),
                 JwtStatus::BadAlgorithm, "JWT algorithm \"hs256\" is not the configured HS256");
  expect_refused(verify(hs256(), hs256_jwt(R"({"typ":"JWT"})", claims("sofia"), kSecret)),
                 JwtStatus::BadAlgorithm, "JWT header has no \"alg\"; expected HS256");
}

TEST_F(JwtTest, CriticalExtensionsAreRefused) {
  std::string token = hs256_jwt(R"({"alg":"HS256","crit":["exp"]})", claims("sofia"), kSecret);
  EXPECT_EQ(verify(hs256(), token).status, JwtStatus::Malformed);
}

// ---- malformed -------------------------------------------------------------------------------

TEST_F(JwtTest, Malformed) {
  std::string good = hs256_jwt(claims("sofia"), kSecret);
  size_t dot1 = good.find('.'), dot2 = good.rfind('.');
  struct Case {
    std::string token, message;
  };
  std::vector<Case> cases = {
      {"abc", "Malformed JWT: expected three base64url parts separated by dots"},
      {"a.b", "Malformed JWT: expected three base64url parts separated by dots"},
      {good + ".x", "Malformed JWT: expected three base64url parts separated by dots"},
      {"e30!." + good.substr(dot1 + 1), "Malformed JWT: the header is not base64url"},
      // Padding and standard base64's alphabet are not base64url.
      {base64url(R"({"alg":"HS256"})") + "=." + good.substr(dot1 + 1),
       "Malformed JWT: the header is not base64url"},
      {base64url("not json") + good.substr(dot1), "Malformed JWT: the header is not a JSON object"},
      {base64url("[1,2]") + good.substr(dot1), "Malformed JWT: the header is not a JSON object"},
      {good.substr(0, dot2 + 1) + "+/+/", "Malformed JWT: the signature is not base64url"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.token);
    expect_refused(verify(hs256(), c.token), JwtStatus::Malformed, c.message);
  }
  // The payload is checked after the signature: these are correctly signed.
  expect_refused(verify(hs256(), hs256_jwt("not json", kSecret)), JwtStatus::Malformed,
                 "Malformed JWT: the payload is not a JSON object");
  expect_refused(verify(hs256(), hs256_jwt(R"({"sub":"sofia","exp":"tomorrow"})", kSecret)),
                 JwtStatus::Malformed, "Malformed JWT: the claim \"exp\" is not a number");
  expect_refused(verify(hs256(), hs256_jwt(R"({"sub":"bob","sub":"sofia","exp":)" +
                                               std::to_string(kExpiry) + "}",
                                           kSecret)),
                 JwtStatus::Malformed, "Malformed JWT: the payload has the claim \"sub\" twice");
  expect_refused(verify(hs256("", "sluice"),
                        hs256_jwt(claims("sofia", kExpiry, R"(,"aud":["sluice",3])"), kSecret)),
                 JwtStatus::Malformed,
                 "Malformed JWT: the claim \"aud\" is not a string or an array of strings");
}

TEST_F(JwtTest, ForgedTokenLearnsNothingAboutClaims) {
  // A token whose claims are all wrong but whose signature is bad is refused for the signature.
  std::string token = hs256_jwt(R"({"sub":"mallory"})", "wrong-secret-wrong-secret-wrong-secret");
  EXPECT_EQ(verify(hs256("https://id.example", "sluice"), token).status, JwtStatus::BadSignature);
}

TEST_F(JwtTest, OversizedTokenIsRefusedBeforeDecoding) {
  std::string token =
      hs256_jwt(claims("sofia", kExpiry, ",\"pad\":\"" + std::string(9000, 'p') + "\""), kSecret);
  expect_refused(verify(hs256(), token), JwtStatus::TooLarge, "JWT is larger than 8192 bytes");
  // Just under the limit is fine.
  std::string fits =
      hs256_jwt(claims("sofia", kExpiry, ",\"pad\":\"" + std::string(5000, 'p') + "\""), kSecret);
  EXPECT_LT(fits.size(), filters::auth::kMaxJwtBytes);
  EXPECT_EQ(verify(hs256(), fits).status, JwtStatus::Ok);
}

// ---- the per-thread cache of verified tokens --------------------------------------------------

TEST_F(JwtTest, VerifiedTokenIsRememberedUntilItExpires) {
  JwtVerifier verifier(rs256(), names_);
  std::string token = rsa_key().rs256_jwt(claims("bob"));
  JwtVerdict first = verifier.verify(token, kNowMs);
  ASSERT_EQ(first.status, JwtStatus::Ok) << first.message;
  EXPECT_FALSE(first.from_cache);
  JwtVerdict second = verifier.verify(token, kNowMs + kSecond);
  ASSERT_EQ(second.status, JwtStatus::Ok);
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.agent, &agents_.at("bob"));
  // Past exp + skew the remembered verdict no longer counts: the precise expiry message.
  JwtVerdict late = verifier.verify(token, (kExpiry + 60) * kSecond);
  expect_refused(late, JwtStatus::Expired, "JWT expired at 2026-11-21T10:00:00Z");
}

TEST_F(JwtTest, AnotherVerifierDoesNotTrustTheCache) {
  // After a reload (a new verifier), a token verified under the old key is checked again:
  // here the new config has another key, so it no longer verifies.
  std::string token = hs256_jwt(claims("sofia"), kSecret);
  JwtVerifier old_verifier(hs256(), names_);
  ASSERT_EQ(old_verifier.verify(token, kNowMs).status, JwtStatus::Ok);
  ASSERT_TRUE(old_verifier.verify(token, kNowMs).from_cache);
  JwtSettings rotated = hs256();
  rotated.hs256_secret = "another-secret-of-at-least-32-bytes!!";
  JwtVerifier new_verifier(std::move(rotated), names_);
  EXPECT_EQ(new_verifier.verify(token, kNowMs).status, JwtStatus::BadSignature);
  // Same settings, new verifier: verified afresh, not from the old one's memory.
  JwtVerifier same(hs256(), names_);
  JwtVerdict v = same.verify(token, kNowMs);
  EXPECT_EQ(v.status, JwtStatus::Ok);
  EXPECT_FALSE(v.from_cache);
}

TEST_F(JwtTest, RefusedTokensAreNotRemembered) {
  JwtVerifier verifier(hs256(), names_);
  std::string unknown = hs256_jwt(claims("mallory"), kSecret);
  EXPECT_EQ(verifier.verify(unknown, kNowMs).status, JwtStatus::UnknownAgent);
  EXPECT_EQ(verifier.verify(unknown, kNowMs).status, JwtStatus::UnknownAgent);
}

// ---- base64url ---------------------------------------------------------------------------------

TEST(Base64Url, DecodesWhatTheEncoderMade) {
  using namespace std::string_literals;
  for (std::string text :
       {""s, "f"s, "fo"s, "foo"s, "foob"s, "fooba"s, "foobar"s, "\xff\xfe\x00\x01"s}) {
    std::string encoded = base64url(text);
    unsigned char out[64];
    ptrdiff_t n = filters::auth::base64url_decode(encoded, out);
    ASSERT_EQ(n, static_cast<ptrdiff_t>(text.size())) << encoded;
    EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n), text);
  }
}

TEST(Base64Url, RefusesNonCanonicalForms) {
  unsigned char out[64];
  EXPECT_EQ(filters::auth::base64url_decode("Zg==", out), -1);  // padding
  EXPECT_EQ(filters::auth::base64url_decode("Zh", out), -1);    // non-zero spare bits
  EXPECT_EQ(filters::auth::base64url_decode("Z", out), -1);     // 4n+1 characters
  EXPECT_EQ(filters::auth::base64url_decode("a+b/", out), -1);  // standard alphabet
  EXPECT_EQ(filters::auth::base64url_decode("a-b_", out), 3);   // url alphabet
}

// ---- HMAC-SHA256 with precomputed key states ---------------------------------------------------

std::string hex(const filters::auth::HmacSha256Key::Mac& mac) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : mac) out += std::string{digits[b >> 4], digits[b & 15]};
  return out;
}

TEST(HmacSha256, Rfc4231TestVectors) {
  using filters::auth::HmacSha256Key;
  EXPECT_EQ(hex(HmacSha256Key(std::string(20, '\x0b')).mac("Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex(HmacSha256Key("Jefe").mac("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than the block is hashed first.
  EXPECT_EQ(hex(HmacSha256Key(std::string(131, '\xaa'))
                    .mac("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, AgreesWithOpenSslForEveryKeyLength) {
  std::string message = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzb2ZpYSJ9";
  for (size_t length : {0, 1, 32, 63, 64, 65, 200}) {
    std::string key(length, 'k');
    for (size_t i = 0; i < length; ++i) key[i] = static_cast<char>(i * 7);
    filters::auth::HmacSha256Key::Mac mac = filters::auth::HmacSha256Key(key).mac(message);
    EXPECT_EQ(std::string(mac.begin(), mac.end()), test::hmac_sha256(key, message)) << length;
  }
}

}  // namespace
}  // namespace sluice
