#include "memory/scope.h"

namespace memory {
namespace {

constexpr std::string_view kChannelPrefix = "channel:";
constexpr std::string_view kKnowledgeBasePrefix = "kb:";

bool printable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool named(std::string_view kind, std::string_view name, std::string* error) {
  if (name.empty()) {
    *error = "scope \"" + std::string(kind) + ":\" needs a name after the colon";
    return false;
  }
  if (name.size() > kMaxScopeName || !printable(name)) {
    *error = "the " + std::string(kind) + " name must be 1 to " + std::to_string(kMaxScopeName) +
             " printable characters";
    return false;
  }
  return true;
}

}  // namespace

std::string Scope::label() const {
  switch (kind) {
    case ScopeKind::Agent:
      return "agent";
    case ScopeKind::Channel:
      return std::string(kChannelPrefix) + name;
    case ScopeKind::KnowledgeBase:
      return std::string(kKnowledgeBasePrefix) + name;
  }
  return "agent";
}

const char* Scope::kind_name() const {
  switch (kind) {
    case ScopeKind::Agent:
      return "agent";
    case ScopeKind::Channel:
      return "channel";
    case ScopeKind::KnowledgeBase:
      return "kb";
  }
  return "agent";
}

bool listed(const std::vector<std::string>& names, std::string_view agent) {
  for (const auto& n : names) {
    if (n == "*" || n == agent) return true;
  }
  return false;
}

bool resolve_scope(std::string_view text, std::string_view agent, Access access,
                   const KnowledgeBases& knowledge_bases, Scope* out, std::string* error) {
  if (agent.empty()) {
    *error = "memory is per agent, and this call has none: call it with an agent's key";
    return false;
  }
  Scope scope;
  if (text.empty() || text == "agent") {
    scope.kind = ScopeKind::Agent;
    scope.owner.assign(agent);
  } else if (text.starts_with(kChannelPrefix)) {
    scope.kind = ScopeKind::Channel;
    scope.name.assign(text.substr(kChannelPrefix.size()));
    if (!named("channel", scope.name, error)) return false;
    scope.owner.assign(agent);
  } else if (text.starts_with(kKnowledgeBasePrefix)) {
    scope.kind = ScopeKind::KnowledgeBase;
    scope.name.assign(text.substr(kKnowledgeBasePrefix.size()));
    if (!named("kb", scope.name, error)) return false;
    auto kb = knowledge_bases.find(scope.name);
    if (kb == knowledge_bases.end()) {
      *error = "there is no knowledge base \"" + scope.name + "\"";
      return false;
    }
    const bool reading = access == Access::Read;
    if (!listed(reading ? kb->second.read : kb->second.write, agent)) {
      *error = "agent \"" + std::string(agent) + "\" may not " + (reading ? "read" : "write") +
               " knowledge base \"" + scope.name + "\"";
      return false;
    }
  } else {
    *error = "scope must be \"agent\", \"channel:<id>\" or \"kb:<name>\", not \"" +
             std::string(text) + "\"";
    return false;
  }
  *out = std::move(scope);
  return true;
}

}  // namespace memory
