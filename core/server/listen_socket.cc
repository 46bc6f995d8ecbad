#include "core/server/listen_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::server {
namespace {

int open_one(const sockaddr* addr, socklen_t len, std::string* error) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (addr->sa_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, addr, len) != 0) {
    *error = std::string("bind: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (::listen(fd, 1024) != 0) {
    *error = std::string("listen: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool open_listen_sockets(const config::HostPort& address, unsigned count, std::vector<int>* fds,
                         BoundAddress* bound, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(address.port);
  int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    *error = "cannot resolve listen address " + address.to_string() + ": " + gai_strerror(rc);
    return false;
  }
  sockaddr_storage ss{};
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  socklen_t len = res->ai_addrlen;
  ::freeaddrinfo(res);

  std::vector<int> opened;
  for (unsigned i = 0; i < count; ++i) {
    int fd = open_one(reinterpret_cast<sockaddr*>(&ss), len, error);
    if (fd < 0) {
      *error = address.to_string() + ": " + *error;
      for (int f : opened) ::close(f);
      return false;
    }
    if (i == 0) {
      // Learn the real port so the other workers' sockets (and the log line) use it.
      sockaddr_storage actual{};
      socklen_t alen = sizeof actual;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&actual), &alen);
      uint16_t p = actual.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<sockaddr_in6*>(&actual)->sin6_port)
                       : ntohs(reinterpret_cast<sockaddr_in*>(&actual)->sin_port);
      if (ss.ss_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(p);
      } else {
        reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(p);
      }
      bound->host = address.host;
      bound->port = p;
    }
    opened.push_back(fd);
  }
  fds->insert(fds->end(), opened.begin(), opened.end());
  return true;
}

}  // namespace sluice::server
