// McpSessionTable: the MCP sessions sluice's /mcp has handed out (Streamable HTTP's
// Mcp-Session-Id), process-wide — an agent's next request may land on any worker — and kept
// across reloads. A session belongs to the agent that initialized it: another agent presenting
// its id gets 404 like an unknown id, so an id is no credential on its own.
//
// Bounded: at most kMaxSessions; a session idle for kIdleLimit expires; when full, the least
// recently used one makes room (its client gets 404 and initializes again, as the spec asks).
// Thread-safe (one mutex; every operation is a hash lookup).
#pragma once

#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::mcp {

class McpSessionTable {
 public:
  static constexpr size_t kMaxSessions = 10'000;
  static constexpr std::chrono::seconds kIdleLimit{3600};
  using Clock = std::chrono::steady_clock;

  static McpSessionTable& process();

  // A new session for `agent` ("" = anonymous) speaking `protocol_version`; its id (32 hex
  // characters from a CSPRNG).
  std::string create(std::string_view agent, std::string_view protocol_version,
                     Clock::time_point now = Clock::now());
  // The session's protocol version, refreshing its idle clock; nullopt when the id is unknown,
  // expired or another agent's.
  std::optional<std::string> touch(std::string_view id, std::string_view agent,
                                   Clock::time_point now = Clock::now());
  // Ends a session (DELETE /mcp); false when touch() would have said nullopt.
  bool remove(std::string_view id, std::string_view agent);
  size_t size() const;

 private:
  struct Session {
    std::string agent;
    std::string protocol_version;
    Clock::time_point last_used;
    std::list<std::string>::iterator lru;  // position in lru_ (front = most recent)
  };
  void erase_locked(std::unordered_map<std::string, Session>::iterator it);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Session> sessions_;
  std::list<std::string> lru_;
};

}  // namespace sluice::mcp
