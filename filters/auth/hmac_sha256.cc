#include "filters/auth/hmac_sha256.h"

#include <openssl/crypto.h>

#include <cstring>

namespace sluice::filters::auth {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

constexpr size_t kBlockBytes = 64;  // SHA-256's block size

}  // namespace

HmacSha256Key::HmacSha256Key(std::string_view key) {
  // RFC 2104 §2: a key longer than the block is replaced by its hash; then it is zero-padded
  // to the block size.
  unsigned char block[kBlockBytes] = {};
  if (key.size() > kBlockBytes) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[kBlockBytes];
  for (size_t i = 0; i < kBlockBytes; ++i) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&inner_);
  SHA256_Update(&inner_, pad, kBlockBytes);
  for (size_t i = 0; i < kBlockBytes; ++i) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&outer_);
  SHA256_Update(&outer_, pad, kBlockBytes);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
}

HmacSha256Key::~HmacSha256Key() {
  OPENSSL_cleanse(&inner_, sizeof inner_);
  OPENSSL_cleanse(&outer_, sizeof outer_);
}

HmacSha256Key::Mac HmacSha256Key::mac(std::string_view message) const {
  Mac inner_hash;
  SHA256_CTX ctx = inner_;
  SHA256_Update(&ctx, message.data(), message.size());
  SHA256_Final(inner_hash.data(), &ctx);
  Mac out;
  ctx = outer_;
  SHA256_Update(&ctx, inner_hash.data(), inner_hash.size());
  SHA256_Final(out.data(), &ctx);
  return out;
}

#pragma GCC diagnostic pop

}  // namespace sluice::filters::auth
