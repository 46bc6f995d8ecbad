#include "core/mcp/mcp_session_table.h"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace sluice::mcp {
namespace {

std::string random_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: no entropy for an MCP session id");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

}  // namespace

McpSessionTable& McpSessionTable::process() {
  static McpSessionTable table;
  return table;
}

std::string McpSessionTable::create(std::string_view agent, std::string_view protocol_version,
                                    Clock::time_point now) {
  std::string id = random_id();
  std::lock_guard lock(mutex_);
  while (sessions_.size() >= kMaxSessions && !lru_.empty()) {
    erase_locked(sessions_.find(lru_.back()));
  }
  lru_.push_front(id);
  sessions_.emplace(id,
                    Session{std::string(agent), std::string(protocol_version), now, lru_.begin()});
  return id;
}

std::optional<std::string> McpSessionTable::touch(std::string_view id, std::string_view agent,
                                                  Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.last_used > kIdleLimit) {
    erase_locked(it);
    return std::nullopt;
  }
  if (it->second.agent != agent) return std::nullopt;
  it->second.last_used = now;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.protocol_version;
}

bool McpSessionTable::remove(std::string_view id, std::string_view agent) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end() || it->second.agent != agent) return false;
  erase_locked(it);
  return true;
}

size_t McpSessionTable::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void McpSessionTable::erase_locked(std::unordered_map<std::string, Session>::iterator it) {
  if (it == sessions_.end()) return;
  lru_.erase(it->second.lru);
  sessions_.erase(it);
}

}  // namespace sluice::mcp
