// Listening sockets for the workers: one socket per (address, worker), all bound to the same
// port with SO_REUSEPORT so the kernel spreads connections across worker loops without a
// shared accept lock. Made on the main thread at start-up (blocking resolution is fine there).
#pragma once

#include <string>
#include <vector>

#include "core/config/config.h"

namespace sluice::server {

struct BoundAddress {
  std::string host;
  uint16_t port = 0;  // the real port (resolved when the config said 0)
};

// Creates `count` listening sockets for `address`. With port 0 the first socket picks the
// port and the others bind to that same one. Returns false and sets *error on failure
// (closing whatever it had opened).
bool open_listen_sockets(const config::HostPort& address, unsigned count, std::vector<int>* fds,
                         BoundAddress* bound, std::string* error);

}  // namespace sluice::server
