#include "core/mcp/mcp_client_session.h"

namespace sluice::mcp {

SessionTicket SessionStore::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

SessionTicket SessionStore::publish(uint64_t replaces, SessionTicket fresh) {
  std::lock_guard lock(mutex_);
  if (current_.generation != replaces) {
    fresh.generation = 0;
    return fresh;
  }
  fresh.generation = ++last_generation_;
  current_ = fresh;
  return fresh;
}

void SessionStore::clear() {
  std::lock_guard lock(mutex_);
  current_ = SessionTicket{};
}

}  // namespace sluice::mcp
