// SHA-256 digest of an agent key → the agent it belongs to. Built once per config snapshot;
// pointers into that snapshot's Config stay valid for the snapshot's life.
//
// Timing: entries are found by the first 8 bytes of the digest, then confirmed with
// CRYPTO_memcmp over all 32 bytes (constant time). What timing can reveal is at most whether
// the digest of a presented key shares a prefix with a stored digest — which says nothing
// usable about the key itself (that would need a SHA-256 preimage).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config/config.h"

namespace sluice::filters::auth {

class AgentKeyIndex {
 public:
  // Indexes every key of every agent. If one key is configured for two agents, the index is
  // still built (the first agent, by name, keeps it) and conflict() names both.
  explicit AgentKeyIndex(const std::map<std::string, config::Agent>& agents);

  const config::Agent* find(const config::KeyDigest& digest) const;
  size_t size() const { return entries_.size(); }
  // Names of two agents sharing a key, if any.
  const std::optional<std::pair<std::string, std::string>>& conflict() const { return conflict_; }

 private:
  struct Entry {
    uint64_t prefix;
    config::KeyDigest digest;
    const config::Agent* agent;
  };
  std::vector<Entry> entries_;  // sorted by prefix
  std::optional<std::pair<std::string, std::string>> conflict_;
};

}  // namespace sluice::filters::auth
