// HMAC-SHA256 (RFC 2104) with the key absorbed once, for HS256 JWTs. OpenSSL's one-shot HMAC()
// looks the algorithm up in its provider machinery on every call (~4 µs here); with the inner
// and outer hash states precomputed from the key at config load, a MAC is a copy of each state
// plus the hashing of the message itself (~0.5 µs for a typical token). The hashing is
// OpenSSL's SHA-256; only the two-line HMAC construction is written here.
#pragma once

#include <openssl/sha.h>

#include <array>
#include <string_view>

namespace sluice::filters::auth {

class HmacSha256Key {
 public:
  using Mac = std::array<unsigned char, 32>;

  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();  // wipes the key-dependent states
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;

  // HMAC-SHA256(key, message). Thread-safe: the precomputed states are only copied.
  Mac mac(std::string_view message) const;

 private:
  // The precomputed states are plain structs; OpenSSL 3 marks the low-level SHA-256 API
  // deprecated in favour of EVP (see key_hasher.cc for why it is used on the request path).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  SHA256_CTX inner_;  // after absorbing key ⊕ ipad
  SHA256_CTX outer_;  // after absorbing key ⊕ opad
#pragma GCC diagnostic pop
};

}  // namespace sluice::filters::auth
