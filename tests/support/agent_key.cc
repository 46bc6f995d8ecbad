#include "tests/support/agent_key.h"

#include <openssl/sha.h>

namespace sluice::test {

std::string agent_key_digest(std::string_view key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace sluice::test
