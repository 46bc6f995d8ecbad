// Agent keys are kept only as SHA-256 digests (DESIGN §10): `sluice hash-key` prints
// "sha256:<hex>" for the config, and a plain key given through ${ENV} is hashed at load so the
// plain text does not stay in the Config.
#include <openssl/evp.h>

#include <stdexcept>
#include <string>

#include "core/config/loader.h"

namespace sluice::config {
namespace {

constexpr std::string_view kPrefix = "sha256:";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

KeyDigest digest_of(std::string_view key) {
  KeyDigest digest;
  unsigned int length = 0;
  if (EVP_Digest(key.data(), key.size(), digest.bytes.data(), &length, EVP_sha256(), nullptr) !=
          1 ||
      length != digest.bytes.size()) {
    throw std::runtime_error("SHA-256 failed (OpenSSL)");  // only when libcrypto is broken
  }
  return digest;
}

std::string hash_key(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  const KeyDigest digest = digest_of(key);
  std::string text(kPrefix);
  for (unsigned char byte : digest.bytes) {
    text += kHex[byte >> 4];
    text += kHex[byte & 0x0f];
  }
  return text;
}

std::optional<KeyDigest> parse_key_digest(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view hex = text.substr(kPrefix.size());
  KeyDigest digest;
  if (hex.size() != digest.bytes.size() * 2) return std::nullopt;
  for (size_t i = 0; i < digest.bytes.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest.bytes[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return digest;
}

}  // namespace sluice::config
