#include "filters/auth/key_hasher.h"

#include <openssl/evp.h>

namespace sluice::filters::auth {

namespace {

// Fetched once: EVP_sha256() with EVP_Digest looks the algorithm up on every call. Never
// freed on purpose — it lives as long as the process, and freeing it from a static
// destructor could run after OpenSSL's own atexit cleanup.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// One digest context per thread, reused by every request of its worker loop.
struct ThreadDigestContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~ThreadDigestContext() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::optional<config::KeyDigest> sha256_of(std::string_view key) {
  thread_local ThreadDigestContext local;
  const EVP_MD* md = sha256_md();
  config::KeyDigest digest;
  unsigned int length = 0;
  if (md == nullptr || local.ctx == nullptr || EVP_DigestInit_ex(local.ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(local.ctx, key.data(), key.size()) != 1 ||
      EVP_DigestFinal_ex(local.ctx, digest.bytes.data(), &length) != 1 ||
      length != digest.bytes.size()) {
    return std::nullopt;
  }
  return digest;
}

}  // namespace sluice::filters::auth
