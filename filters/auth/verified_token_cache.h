// A small per-worker-thread memory of JWTs that verified, so a long-lived token is not
// RSA-verified again on every request it carries (an RS256 check is ~25 µs of CPU, `openssl speed
// rsa2048`; a lookup here is one SHA-256 of the token, ~0.2 µs).
//
// What is remembered: SHA-256(token) → the agent it named and the instant it stops being
// valid (exp + clock_skew). Only tokens that passed every check are stored, and every check but
// expiry depends on the token's bytes and the verifier's settings alone, so a hit is as good as
// a full verification as long as it is (a) from the same verifier and (b) not yet expired. (a)
// is the verifier's id, unique for the process's life: a reload builds a new verifier and so
// never sees the entries of the old one (whose agent pointers it could not vouch for).
//
// Direct-mapped, 64 slots per thread, no locks: a colliding token just evicts the other.
#pragma once

#include <cstdint>

#include "core/config/config.h"

namespace sluice::filters::auth {

class VerifiedTokenCache {
 public:
  static constexpr size_t kSlots = 64;

  // A fresh id for a verifier (never 0, never reused).
  static uint64_t next_verifier_id();

  // The agent a token verified for, if this thread remembers it for `verifier` and
  // now_ms < its valid_until_ms; else nullptr.
  static const config::Agent* find(uint64_t verifier, const config::KeyDigest& token_digest,
                                   int64_t now_ms);
  static void remember(uint64_t verifier, const config::KeyDigest& token_digest,
                       const config::Agent* agent, int64_t valid_until_ms);
};

}  // namespace sluice::filters::auth
