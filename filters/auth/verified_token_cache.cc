#include "filters/auth/verified_token_cache.h"

#include <openssl/crypto.h>

#include <array>
#include <atomic>

namespace sluice::filters::auth {

namespace {

struct Slot {
  uint64_t verifier = 0;  // 0 = empty
  config::KeyDigest digest;
  const config::Agent* agent = nullptr;
  int64_t valid_until_ms = 0;
};

thread_local std::array<Slot, VerifiedTokenCache::kSlots> slots;

Slot& slot_for(const config::KeyDigest& digest) {
  return slots[digest.bytes[0] % VerifiedTokenCache::kSlots];
}

}  // namespace

uint64_t VerifiedTokenCache::next_verifier_id() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

const config::Agent* VerifiedTokenCache::find(uint64_t verifier,
                                              const config::KeyDigest& token_digest,
                                              int64_t now_ms) {
  const Slot& slot = slot_for(token_digest);
  if (slot.verifier != verifier || now_ms >= slot.valid_until_ms) return nullptr;
  // Constant time, like the agent-key index: the digest is of a bearer credential.
  if (CRYPTO_memcmp(slot.digest.bytes.data(), token_digest.bytes.data(),
                    token_digest.bytes.size()) != 0)
    return nullptr;
  return slot.agent;
}

void VerifiedTokenCache::remember(uint64_t verifier, const config::KeyDigest& token_digest,
                                  const config::Agent* agent, int64_t valid_until_ms) {
  slot_for(token_digest) = Slot{verifier, token_digest, agent, valid_until_ms};
}

}  // namespace sluice::filters::auth
