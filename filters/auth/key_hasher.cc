#include "filters/auth/key_hasher.h"

#include <openssl/sha.h>

namespace sluice::filters::auth {

namespace {

// OpenSSL 3 marks the low-level SHA256_* calls deprecated in favour of EVP, but EVP_DigestInit
// walks the provider machinery on every call: ~3k instructions per request against ~1k for the
// compression itself (bench/profile.sh). The low-level functions are the same vetted code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
bool sha256_raw(std::string_view key, unsigned char* out) {
  SHA256_CTX ctx;
  return SHA256_Init(&ctx) == 1 && SHA256_Update(&ctx, key.data(), key.size()) == 1 &&
         SHA256_Final(out, &ctx) == 1;
}
#pragma GCC diagnostic pop

}  // namespace

std::optional<config::KeyDigest> sha256_of(std::string_view key) {
  config::KeyDigest digest;
  static_assert(sizeof digest.bytes == SHA256_DIGEST_LENGTH);
  if (!sha256_raw(key, digest.bytes.data())) return std::nullopt;
  return digest;
}

}  // namespace sluice::filters::auth
