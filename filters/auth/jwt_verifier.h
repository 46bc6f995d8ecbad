// Verifies a JWT (RFC 7519, JWS compact form, RFC 7515) presented as "Authorization: Bearer
// <jwt>" and names the agent it was issued for. Immutable after construction and shared by
// every worker thread (OpenSSL keys are safe to use concurrently for verification).
//
// The checks, in order (the first failure is the answer):
//   size ≤ kMaxJwtBytes; three base64url parts; the header a JSON object whose "alg" is the
//   configured algorithm ("none" and every other value refused) and without "crit"; the
//   signature (HS256: HMAC-SHA256, hmac_sha256.h, compared in constant time; RS256:
//   RSASSA-PKCS1-v1_5 with SHA-256 against the configured public key); the payload a JSON object;
//   `exp` present and now < exp + clock_skew; `nbf`, if present, ≤ now + clock_skew; `iss` equal to
//   `issuer` and `aud` (a string or an array of strings) containing `audience`, when those are
//   configured; the claim `agent_claim` a string naming a configured agent.
// The signature is checked before any claim is read, so an unsigned or forged token never
// learns anything about the claims sluice expects.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "filters/auth/agent_names.h"
#include "filters/auth/hmac_sha256.h"
#include "filters/auth/jwt_settings.h"

namespace sluice::filters::auth {

// Larger tokens are refused before any decoding (a JWT is a few hundred bytes; an ID token with
// many claims a few KiB).
inline constexpr size_t kMaxJwtBytes = 8 * 1024;

// Why a token was refused. Every status but Ok is a 401 authentication_error whose code is
// code_of(status) and whose message is JwtVerdict::message.
enum class JwtStatus : uint8_t {
  Ok,             // verdict.agent is set
  TooLarge,       // over kMaxJwtBytes
  Malformed,      // not three base64url parts, header/payload not JSON objects, a claim of the
                  // wrong type or given twice, "crit" extensions
  BadAlgorithm,   // "alg" missing, "none", or not the configured algorithm
  BadSignature,   // the signature does not verify with the configured key
  MissingExpiry,  // no `exp`: sluice accepts only tokens that end
  Expired,        // now ≥ exp + clock_skew
  NotYetValid,    // now < nbf − clock_skew
  WrongIssuer,    // `iss` absent or not the configured issuer
  WrongAudience,  // `aud` absent or without the configured audience
  NoAgentClaim,   // the agent claim is absent
  UnknownAgent,   // the agent claim names no configured agent
};

const char* to_string(JwtStatus status);
// "expired_jwt" for Expired (a client should fetch a new token), "invalid_jwt" otherwise.
const char* code_of(JwtStatus status);

struct JwtVerdict {
  JwtStatus status = JwtStatus::Malformed;
  const config::Agent* agent = nullptr;  // when Ok
  std::string message;                   // when not Ok: the 401's message
  bool from_cache = false;               // Ok from VerifiedTokenCache, no signature checked
};

class JwtVerifier {
 public:
  // `agents` must outlive the verifier (both belong to one config snapshot).
  JwtVerifier(JwtSettings settings, const AgentNames& agents);

  // `now_ms`: Unix time in milliseconds (the filter passes the system clock; tests their own).
  JwtVerdict verify(std::string_view token, int64_t now_ms) const;

  const JwtSettings& settings() const { return settings_; }

 private:
  bool signature_verifies(std::string_view signing_input, const unsigned char* signature,
                          size_t signature_size) const;
  JwtVerdict check_claims(const unsigned char* payload, size_t payload_size, int64_t now_ms,
                          int64_t* valid_until_ms) const;

  JwtSettings settings_;
  const AgentNames& agents_;
  std::unique_ptr<HmacSha256Key> hmac_;  // HS256: the secret's precomputed HMAC states
  uint64_t id_;                          // this verifier's key in VerifiedTokenCache
};

// "2026-11-21T10:00:00Z" for a Unix time in milliseconds (seconds, floored).
std::string format_utc(int64_t unix_ms);

}  // namespace sluice::filters::auth
