#include "filters/auth/jwt_verifier.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <optional>

#include "core/http/request.h"
#include "filters/auth/base64url.h"
#include "filters/auth/hmac_sha256.h"
#include "filters/auth/key_hasher.h"
#include "filters/auth/verified_token_cache.h"

namespace sluice::filters::auth {

namespace {

constexpr size_t kMaxDecodedBytes = base64url_decoded_size(kMaxJwtBytes);
// Token text quoted back in a message (an issuer, an agent name) is cut to this many bytes.
constexpr size_t kMaxQuotedBytes = 100;

// One per worker thread, sized for the largest header or payload a token can carry.
simdjson::dom::parser& json_parser() {
  thread_local simdjson::dom::parser parser(kMaxDecodedBytes);
  return parser;
}

// A decoded part of the token, with the padding simdjson reads past the end.
struct DecodedPart {
  unsigned char bytes[kMaxDecodedBytes + simdjson::SIMDJSON_PADDING];
  size_t size = 0;
};

bool decode_part(std::string_view encoded, DecodedPart& part) {
  ptrdiff_t n = base64url_decode(encoded, part.bytes);
  if (n < 0) return false;
  part.size = static_cast<size_t>(n);
  return true;
}

// `text` in double quotes for a message, cut on a UTF-8 boundary when long.
std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  if (text.size() <= kMaxQuotedBytes) {
    out.append(text);
  } else {
    size_t cut = kMaxQuotedBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    out.append(text.substr(0, cut)).append("...");
  }
  out.push_back('"');
  return out;
}

JwtVerdict refused(JwtStatus status, std::string message) {
  JwtVerdict verdict;
  verdict.status = status;
  verdict.message = std::move(message);
  return verdict;
}

JwtVerdict malformed(const std::string& why) {
  return refused(JwtStatus::Malformed, "Malformed JWT: " + why);
}

// A NumericDate (seconds since the epoch, possibly fractional) in milliseconds; nullopt when
// not a number. Clamped to ±10^12 s (tens of millennia) so the arithmetic cannot overflow.
std::optional<int64_t> numeric_date_ms(simdjson::dom::element value) {
  double seconds;
  if (value.get_double().get(seconds) != simdjson::SUCCESS || !std::isfinite(seconds))
    return std::nullopt;
  seconds = std::clamp(seconds, -1e12, 1e12);
  return static_cast<int64_t>(std::llround(seconds * 1000.0));
}

// The claims sluice reads, found in one pass over the payload object.
struct Claims {
  std::optional<simdjson::dom::element> exp, nbf, iss, aud, agent;
};

}  // namespace

const char* to_string(JwtStatus status) {
  switch (status) {
    case JwtStatus::Ok:
      return "ok";
    case JwtStatus::TooLarge:
      return "too_large";
    case JwtStatus::Malformed:
      return "malformed";
    case JwtStatus::BadAlgorithm:
      return "bad_algorithm";
    case JwtStatus::BadSignature:
      return "bad_signature";
    case JwtStatus::MissingExpiry:
      return "missing_expiry";
    case JwtStatus::Expired:
      return "expired";
    case JwtStatus::NotYetValid:
      return "not_yet_valid";
    case JwtStatus::WrongIssuer:
      return "wrong_issuer";
    case JwtStatus::WrongAudience:
      return "wrong_audience";
    case JwtStatus::NoAgentClaim:
      return "no_agent_claim";
    case JwtStatus::UnknownAgent:
      return "unknown_agent";
  }
  return "?";
}

const char* code_of(JwtStatus status) {
  return status == JwtStatus::Expired ? "expired_jwt" : "invalid_jwt";
}

std::string format_utc(int64_t unix_ms) {
  int64_t seconds = unix_ms >= 0 ? unix_ms / 1000 : -((-unix_ms + 999) / 1000);  // floor
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  char text[64];
  if (gmtime_r(&t, &tm) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return std::to_string(seconds) + " (Unix time)";
  }
  return text;
}

JwtVerifier::JwtVerifier(JwtSettings settings, const AgentNames& agents)
    : settings_(std::move(settings)), agents_(agents), id_(VerifiedTokenCache::next_verifier_id()) {
  if (settings_.algorithm == JwtAlgorithm::HS256)
    hmac_ = std::make_unique<HmacSha256Key>(settings_.hs256_secret);
}

JwtVerdict JwtVerifier::verify(std::string_view token, int64_t now_ms) const {
  if (token.size() > kMaxJwtBytes) {
    return refused(JwtStatus::TooLarge,
                   "JWT is larger than " + std::to_string(kMaxJwtBytes) + " bytes");
  }
  std::optional<config::KeyDigest> digest = sha256_of(token);
  if (digest) {
    if (const config::Agent* agent = VerifiedTokenCache::find(id_, *digest, now_ms)) {
      JwtVerdict verdict;
      verdict.status = JwtStatus::Ok;
      verdict.agent = agent;
      verdict.from_cache = true;
      return verdict;
    }
  }

  // header.payload.signature
  size_t first_dot = token.find('.');
  size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos)
    return malformed("expected three base64url parts separated by dots");
  std::string_view header_text = token.substr(0, first_dot);
  std::string_view payload_text = token.substr(first_dot + 1, second_dot - first_dot - 1);
  std::string_view signature_text = token.substr(second_dot + 1);

  DecodedPart part;  // the header now, the signature and then the payload later
  if (!decode_part(header_text, part)) return malformed("the header is not base64url");
  simdjson::dom::object header;
  if (json_parser().parse(part.bytes, part.size, false).get_object().get(header) !=
      simdjson::SUCCESS)
    return malformed("the header is not a JSON object");
  std::optional<std::string_view> alg;
  bool alg_twice = false, has_crit = false;
  for (simdjson::dom::key_value_pair field : header) {
    if (field.key == "alg") {
      alg_twice = alg.has_value();
      std::string_view value;
      alg = field.value.get_string().get(value) == simdjson::SUCCESS ? value : "";
    } else if (field.key == "crit") {
      has_crit = true;
    }
  }
  const char* expected = to_string(settings_.algorithm);
  if (alg_twice) return malformed("the header has \"alg\" twice");
  if (!alg || alg->empty())
    return refused(JwtStatus::BadAlgorithm,
                   std::string("JWT header has no \"alg\"; expected ") + expected);
  if (http::iequals(*alg, "none"))
    return refused(
        JwtStatus::BadAlgorithm,
        std::string("JWT algorithm \"none\" (unsigned) is not accepted; expected ") + expected);
  if (*alg != expected)
    return refused(JwtStatus::BadAlgorithm,
                   "JWT algorithm " + in_quotes(*alg) + " is not the configured " + expected);
  // RFC 7515 §4.1.11: extensions marked critical must be understood, and sluice knows none.
  if (has_crit)
    return malformed(
        "the header lists critical extensions (\"crit\"), none of which sluice supports");

  if (!decode_part(signature_text, part)) return malformed("the signature is not base64url");
  if (!signature_verifies(token.substr(0, second_dot), part.bytes, part.size))
    return refused(JwtStatus::BadSignature, "JWT signature does not verify");

  if (!decode_part(payload_text, part)) return malformed("the payload is not base64url");
  int64_t valid_until_ms = 0;
  JwtVerdict verdict = check_claims(part.bytes, part.size, now_ms, &valid_until_ms);
  if (verdict.status == JwtStatus::Ok && digest)
    VerifiedTokenCache::remember(id_, *digest, verdict.agent, valid_until_ms);
  return verdict;
}

bool JwtVerifier::signature_verifies(std::string_view signing_input, const unsigned char* signature,
                                     size_t signature_size) const {
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  switch (settings_.algorithm) {
    case JwtAlgorithm::HS256: {
      HmacSha256Key::Mac mac = hmac_->mac(signing_input);
      // The length is public (always 32); the bytes are compared in constant time.
      return signature_size == mac.size() && CRYPTO_memcmp(mac.data(), signature, mac.size()) == 0;
    }
    case JwtAlgorithm::RS256: {
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      bool ok = ctx != nullptr &&
                EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr,
                                     settings_.rs256_public_key.get()) == 1 &&
                EVP_DigestVerify(ctx, signature, signature_size, data, signing_input.size()) == 1;
      EVP_MD_CTX_free(ctx);
      // A failed verification leaves errors on this thread's OpenSSL queue, where the next TLS
      // call on the worker would find them.
      if (!ok) ERR_clear_error();
      return ok;
    }
  }
  return false;
}

JwtVerdict JwtVerifier::check_claims(const unsigned char* payload, size_t payload_size,
                                     int64_t now_ms, int64_t* valid_until_ms) const {
  simdjson::dom::object object;
  if (json_parser().parse(payload, payload_size, false).get_object().get(object) !=
      simdjson::SUCCESS)
    return malformed("the payload is not a JSON object");

  // RFC 7519 §4: a duplicate claim name must be refused (or the last one used); refusing means
  // sluice and any other reader of the token cannot disagree about it.
  Claims claims;
  const std::string& agent_claim = settings_.agent_claim;
  for (simdjson::dom::key_value_pair field : object) {
    std::optional<simdjson::dom::element>* slot = nullptr;
    if (field.key == agent_claim) {
      slot = &claims.agent;
    } else if (field.key == "exp") {
      slot = &claims.exp;
    } else if (field.key == "nbf") {
      slot = &claims.nbf;
    } else if (field.key == "iss") {
      slot = &claims.iss;
    } else if (field.key == "aud") {
      slot = &claims.aud;
    }
    if (slot == nullptr) continue;
    if (slot->has_value())
      return malformed("the payload has the claim " + in_quotes(field.key) + " twice");
    *slot = field.value;
  }

  // Lifetime.
  if (!claims.exp)
    return refused(JwtStatus::MissingExpiry,
                   "JWT has no \"exp\" claim; sluice accepts only tokens that expire");
  std::optional<int64_t> exp_ms = numeric_date_ms(*claims.exp);
  if (!exp_ms) return malformed("the claim \"exp\" is not a number");
  const int64_t skew_ms = settings_.clock_skew.count();
  if (now_ms >= *exp_ms + skew_ms)
    return refused(JwtStatus::Expired, "JWT expired at " + format_utc(*exp_ms));
  if (claims.nbf) {
    std::optional<int64_t> nbf_ms = numeric_date_ms(*claims.nbf);
    if (!nbf_ms) return malformed("the claim \"nbf\" is not a number");
    if (now_ms < *nbf_ms - skew_ms)
      return refused(JwtStatus::NotYetValid, "JWT is not valid before " + format_utc(*nbf_ms));
  }

  // Who issued it, and for whom.
  if (!settings_.issuer.empty()) {
    std::string_view iss;
    if (!claims.iss)
      return refused(JwtStatus::WrongIssuer,
                     "JWT has no \"iss\" claim; the issuer must be " + in_quotes(settings_.issuer));
    if (claims.iss->get_string().get(iss) != simdjson::SUCCESS)
      return malformed("the claim \"iss\" is not a string");
    if (iss != settings_.issuer)
      return refused(JwtStatus::WrongIssuer,
                     "JWT issuer " + in_quotes(iss) + " is not " + in_quotes(settings_.issuer));
  }
  if (!settings_.audience.empty()) {
    if (!claims.aud)
      return refused(JwtStatus::WrongAudience,
                     "JWT has no \"aud\" claim; it must include " + in_quotes(settings_.audience));
    bool found = false;
    std::string_view one;
    simdjson::dom::array many;
    if (claims.aud->get_string().get(one) == simdjson::SUCCESS) {
      found = one == settings_.audience;
    } else if (claims.aud->get_array().get(many) == simdjson::SUCCESS) {
      for (simdjson::dom::element item : many) {
        if (item.get_string().get(one) != simdjson::SUCCESS)
          return malformed("the claim \"aud\" is not a string or an array of strings");
        found = found || one == settings_.audience;
      }
    } else {
      return malformed("the claim \"aud\" is not a string or an array of strings");
    }
    if (!found)
      return refused(JwtStatus::WrongAudience,
                     "JWT audience does not include " + in_quotes(settings_.audience));
  }

  // The agent.
  if (!claims.agent)
    return refused(JwtStatus::NoAgentClaim,
                   "JWT has no " + in_quotes(agent_claim) + " claim naming the agent");
  std::string_view name;
  if (claims.agent->get_string().get(name) != simdjson::SUCCESS)
    return malformed("the claim " + in_quotes(agent_claim) + " is not a string");
  const config::Agent* agent = agents_.find(name);
  if (agent == nullptr)
    return refused(JwtStatus::UnknownAgent,
                   "JWT names agent " + in_quotes(name) + ", which is not configured");

  JwtVerdict verdict;
  verdict.status = JwtStatus::Ok;
  verdict.agent = agent;
  *valid_until_ms = *exp_ms + skew_ms;
  return verdict;
}

}  // namespace sluice::filters::auth
