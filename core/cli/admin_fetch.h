// A blocking HTTP/1.1 GET against sluice's own admin API, for command-line verbs such as
// `sluice status`. Not for the proxy (which never blocks): one socket, Connection: close, and
// every step — connect, send, each read — bounded by one overall deadline.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace sluice::cli {

struct AdminAnswer {
  int status = 0;
  std::string body;  // Content-Length framed, or everything up to the close
};

// GET `path` from host:port (an IP literal or a name; 0.0.0.0 / :: mean this machine),
// with "Authorization: Bearer <token>" when `token` is non-empty. nullopt with `error`
// ("connection refused", "no answer within 5s", ...) when no complete answer arrived in time.
std::optional<AdminAnswer> admin_get(const std::string& host, uint16_t port,
                                     const std::string& path, const std::string& token,
                                     std::chrono::milliseconds timeout, std::string* error);

}  // namespace sluice::cli
