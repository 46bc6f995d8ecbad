#include "core/cli/admin_fetch.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace sluice::cli {
namespace {

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout or poll error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    const int rc = ::poll(&p, 1, ms_left(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return false;
  }
}

// A listener bound to the wildcard address is reached through loopback.
std::string reachable_host(const std::string& host) {
  if (host == "0.0.0.0" || host.empty()) return "127.0.0.1";
  if (host == "::") return "::1";
  return host;
}

int connect_to(const std::string& host, uint16_t port, Clock::time_point deadline,
               std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    *error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      *error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (!wait_for(fd, POLLOUT, deadline)) {
        *error = "no connection within the timeout";
        ::close(fd);
        fd = -1;
        continue;
      }
      int so_error = 0;
      socklen_t len = sizeof so_error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      rc = so_error == 0 ? 0 : -1;
      errno = so_error;
    }
    if (rc != 0) {
      *error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline, std::string* error) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) {
        *error = "could not send the request within the timeout";
        return false;
      }
      continue;
    }
    *error = std::string("send: ") + std::strerror(errno);
    return false;
  }
  return true;
}

// The status code and Content-Length of a complete head; false while it is incomplete.
bool parse_head(const std::string& in, size_t* head_end, int* status,
                std::optional<size_t>* content_length) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  *head_end = end + 4;
  // "HTTP/1.1 200 OK"
  const size_t sp = in.find(' ');
  *status = sp != std::string::npos && sp < end ? std::atoi(in.c_str() + sp + 1) : 0;
  size_t line = in.find("\r\n");
  while (line != std::string::npos && line < end) {
    const size_t next = in.find("\r\n", line + 2);
    std::string_view h(in.data() + line + 2, next - line - 2);
    constexpr std::string_view kName = "content-length:";
    if (h.size() > kName.size()) {
      bool match = true;
      for (size_t i = 0; i < kName.size() && match; ++i) {
        match = static_cast<char>(std::tolower(static_cast<unsigned char>(h[i]))) == kName[i];
      }
      if (match) *content_length = std::strtoull(h.data() + kName.size(), nullptr, 10);
    }
    line = next;
  }
  return true;
}

}  // namespace

std::optional<AdminAnswer> admin_get(const std::string& host_in, uint16_t port,
                                     const std::string& path, const std::string& token,
                                     std::chrono::milliseconds timeout, std::string* error) {
  const auto deadline = Clock::now() + timeout;
  const std::string host = reachable_host(host_in);
  const bool v6 = host.find(':') != std::string::npos;
  const std::string authority = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  int fd = connect_to(host, port, deadline, error);
  if (fd < 0) {
    *error = "cannot connect to " + authority + ": " + *error;
    return std::nullopt;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + authority +
                        "\r\nAccept: application/json\r\nConnection: close\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  request += "\r\n";
  if (!send_all(fd, request, deadline, error)) {
    ::close(fd);
    return std::nullopt;
  }

  std::string in;
  size_t head_end = 0;
  int status = 0;
  std::optional<size_t> content_length;
  bool have_head = false;
  char buf[16384];
  while (true) {
    if (!have_head) have_head = parse_head(in, &head_end, &status, &content_length);
    if (have_head && content_length && in.size() - head_end >= *content_length) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) break;  // closed: the body ends here (Connection: close)
    if (errno == EAGAIN || errno == EINTR) {
      if (!wait_for(fd, POLLIN, deadline)) {
        *error = "no complete answer from " + authority + " within " +
                 std::to_string(timeout.count()) + "ms";
        ::close(fd);
        return std::nullopt;
      }
      continue;
    }
    *error = "reading from " + authority + ": " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  ::close(fd);
  if (!have_head) have_head = parse_head(in, &head_end, &status, &content_length);
  if (!have_head || status == 0) {
    *error = authority + " did not answer with HTTP";
    return std::nullopt;
  }
  AdminAnswer answer;
  answer.status = status;
  answer.body = in.substr(head_end);
  if (content_length && answer.body.size() > *content_length) answer.body.resize(*content_length);
  if (content_length && answer.body.size() < *content_length) {
    *error = authority + " closed the connection before the end of the answer";
    return std::nullopt;
  }
  return answer;
}

}  // namespace sluice::cli
