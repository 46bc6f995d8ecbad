// RedisScript: EVALSHA names a script by the SHA-1 of its source, the digest Redis computes
// in SCRIPT LOAD; computing it here lets the first call go out as EVALSHA (no round trip to
// learn it, and no script text on the wire while Redis has it cached).
#include <openssl/evp.h>

#include "core/redis/redis_client.h"

namespace sluice::redis {

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(source_.data(), source_.size(), digest, &len, EVP_sha1(), nullptr) != 1) {
    return;  // leaves sha1_ empty: every EVALSHA then fails NOSCRIPT and the script is loaded
  }
  static constexpr char kHex[] = "0123456789abcdef";
  sha1_.reserve(static_cast<size_t>(len) * 2);
  for (unsigned int i = 0; i < len; ++i) {
    sha1_.push_back(kHex[digest[i] >> 4]);
    sha1_.push_back(kHex[digest[i] & 0xf]);
  }
}

}  // namespace sluice::redis
