// Scopes: where a memory lives and who may read or write it (plugins/memory/README.md).
//
//   "agent"         the calling agent's own memory (mid-term): only that agent reads or writes
//                   it; bounded per agent, the oldest items evicted first. The default.
//   "channel:<id>"  the calling agent's recent context in one channel (short-term): only the
//                   last `channel_items` items are kept per (agent, channel).
//   "kb:<name>"     a shared knowledge base (long-term), declared in the plugin's config with
//                   the agents that may read and write it ("*": every agent).
//
// An agent only ever reaches its own agent and channel scopes and the knowledge bases its name
// is listed for; anything else is a clear error. Pure logic: no SQLite, no sluice.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace memory {

enum class ScopeKind : uint8_t { Agent, Channel, KnowledgeBase };

// A scope as the agent named it, resolved for the calling agent.
struct Scope {
  ScopeKind kind = ScopeKind::Agent;
  std::string name;  // the channel id or the knowledge base's name; "" for Agent
  // Where its items are stored: (kind, owner, name). owner is the calling agent for Agent and
  // Channel — one agent's channel context is never another's — and "" for a knowledge base.
  std::string owner;

  std::string label() const;  // as the agent spells it: "agent", "channel:general", "kb:handbook"
  const char* kind_name() const;  // "agent" | "channel" | "kb" (stored in the database)
};

// Who may use one knowledge base: agent names, or "*" for every agent.
struct KnowledgeBaseAccess {
  std::vector<std::string> read;
  std::vector<std::string> write;
};

using KnowledgeBases = std::map<std::string, KnowledgeBaseAccess, std::less<>>;

enum class Access : uint8_t { Read, Write };

// The longest channel id and knowledge base name accepted.
inline constexpr size_t kMaxScopeName = 128;

// Parses `text` ("" means "agent") for `agent` and checks that it may `access` it. Returns
// true, or false with *error (a sentence the agent reads as the tool's error).
bool resolve_scope(std::string_view text, std::string_view agent, Access access,
                   const KnowledgeBases& knowledge_bases, Scope* out, std::string* error);

// Whether `agent` is in `names` (or names has "*").
bool listed(const std::vector<std::string>& names, std::string_view agent);

}  // namespace memory
