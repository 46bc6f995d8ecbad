// The `jwt:` block of the auth filter (DESIGN §4), parsed and checked at config load:
//   jwt: {hs256_secret: ${S} | rs256_public_key_file: keys/pub.pem,
//         issuer: ..., audience: ..., agent_claim: sub, clock_skew: 60s}
// The RS256 key file is read and parsed here, once, so a missing or wrong key fails the load
// (and `sluice validate`) instead of every request.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/config/node_reader.h"

namespace sluice::filters::auth {

enum class JwtAlgorithm : uint8_t { HS256, RS256 };
const char* to_string(JwtAlgorithm algorithm);

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
inline constexpr size_t kMinHs256SecretBytes = 32;
// RFC 7518 §3.3: RS256 keys of 2048 bits or more.
inline constexpr int kMinRsaBits = 2048;
// A public key file is a few hundred bytes; anything far larger is the wrong file.
inline constexpr size_t kMaxKeyFileBytes = 64 * 1024;
inline constexpr config::Duration kMaxClockSkew{3'600'000};

struct JwtSettings {
  JwtAlgorithm algorithm = JwtAlgorithm::HS256;  // which of the two key settings was given
  std::string hs256_secret;                      // secret: HS256 only
  EvpPkeyPtr rs256_public_key;                   // RS256 only: an RSA public key
  std::string issuer;                            // `iss` must equal it; "" = not checked
  std::string audience;                          // `aud` must contain it; "" = not checked
  std::string agent_claim = "sub";
  config::Duration clock_skew{60'000};  // tolerance on exp and nbf
};

// Reads the `jwt:` mapping (reader is over it; finish() is called here). Throws ConfigError.
JwtSettings parse_jwt_settings(config::NodeReader& reader, const config::Config& config);

// The public key in PEM text (SubjectPublicKeyInfo "BEGIN PUBLIC KEY" or PKCS#1 "BEGIN RSA
// PUBLIC KEY"); on failure nullptr and `error` says why in a sentence.
EvpPkeyPtr parse_rsa_public_key_pem(const std::string& pem, std::string& error);

}  // namespace sluice::filters::auth
