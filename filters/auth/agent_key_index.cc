#include "filters/auth/agent_key_index.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

namespace sluice::filters::auth {

namespace {

uint64_t prefix_of(const config::KeyDigest& digest) {
  uint64_t prefix;
  std::memcpy(&prefix, digest.bytes.data(), sizeof prefix);
  return prefix;
}

bool same_digest(const config::KeyDigest& a, const config::KeyDigest& b) {
  return CRYPTO_memcmp(a.bytes.data(), b.bytes.data(), a.bytes.size()) == 0;
}

}  // namespace

AgentKeyIndex::AgentKeyIndex(const std::map<std::string, config::Agent>& agents) {
  for (const auto& [name, agent] : agents) {
    for (const config::KeyDigest& digest : agent.keys) {
      entries_.push_back({prefix_of(digest), digest, &agent});
    }
  }
  // Stable: among equal digests the agent first by name stays first.
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : a.digest.bytes < b.digest.bytes;
  });
  // Equal digests are now adjacent. The same key twice for one agent is harmless; for two
  // agents it is ambiguous (the caller refuses the config).
  auto equal = [this](const Entry& kept, const Entry& next) {
    if (kept.digest.bytes != next.digest.bytes) return false;
    if (kept.agent != next.agent && !conflict_)
      conflict_.emplace(kept.agent->name, next.agent->name);
    return true;
  };
  entries_.erase(std::unique(entries_.begin(), entries_.end(), equal), entries_.end());
}

const config::Agent* AgentKeyIndex::find(const config::KeyDigest& digest) const {
  uint64_t prefix = prefix_of(digest);
  auto it = std::lower_bound(entries_.begin(), entries_.end(), prefix,
                             [](const Entry& e, uint64_t p) { return e.prefix < p; });
  for (; it != entries_.end() && it->prefix == prefix; ++it) {
    if (same_digest(it->digest, digest)) return it->agent;
  }
  return nullptr;
}

}  // namespace sluice::filters::auth
