#include "tests/support/connect_proxy.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>

#include "tests/support/loopback_server.h"

namespace sluice::test {
namespace {

constexpr size_t kMaxHead = size_t{16} * 1024;

bool send_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// The value of header `name` (lowercase) in `head`, or "".
std::string header(const std::string& head, const std::string& name) {
  const std::string l = lower(head);
  size_t at = l.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t start = at + 3 + name.size();
  size_t end = head.find("\r\n", start);
  std::string v = head.substr(start, end - start);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

void relay(int a, int b) {
  char buf[16384];
  for (;;) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
      if (n <= 0 || !send_all(fds[1 - i].fd, buf, static_cast<size_t>(n))) return;
    }
  }
}

const char* reason_of(int status) {
  switch (status) {
    case 403:
      return "Forbidden";
    case 407:
      return "Proxy Authentication Required";
    case 502:
      return "Bad Gateway";
    default:
      return "Refused";
  }
}

}  // namespace

ConnectProxy::ConnectProxy(ConnectProxyOptions options) : options_(std::move(options)) {
  std::signal(SIGPIPE, SIG_IGN);
  server_ = std::make_unique<LoopbackServer>([this](int fd) { serve(fd); });
  if (!server_->start()) ADD_FAILURE() << "ConnectProxy: cannot listen";
}

ConnectProxy::~ConnectProxy() {
  if (server_) server_->stop();  // joins every connection's thread before the state they use goes
}

std::string ConnectProxy::url() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

std::vector<std::string> ConnectProxy::targets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return targets_;
}

int ConnectProxy::connects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(targets_.size());
}

// Answers the CONNECT in `head` (its blank line at `end`) and, when the tunnel opens, relays
// until either side closes. Returns the backend socket to close (-1 if none).
int ConnectProxy::answer(int fd, const std::string& head, size_t end, const std::string& target) {
  int backend = -1;
  int status = options_.refuse_status;
  if (status == 0 && !options_.required_credentials.empty() &&
      header(head, "proxy-authorization") != "Basic " + base64(options_.required_credentials)) {
    status = 407;
  }
  const size_t colon = target.rfind(':');
  if (status == 0 && colon != std::string::npos) {
    backend = connect_loopback(static_cast<uint16_t>(std::stoi(target.substr(colon + 1))));
    if (backend < 0) status = 502;
  }
  if (status != 0) {
    std::string reply = "HTTP/1.1 " + std::to_string(status) + " " + reason_of(status) +
                        "\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: "
                        "0\r\nConnection: close\r\n\r\n";
    send_all(fd, reply.data(), reply.size());
  } else {
    ++tunnels_;
    server_->track(backend);
    const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    const std::string early = head.substr(end + 4);  // bytes the client sent ahead
    if (send_all(fd, ok.data(), ok.size()) &&
        (early.empty() || send_all(backend, early.data(), early.size()))) {
      relay(fd, backend);
    }
  }
  return backend;
}

void ConnectProxy::serve(int fd) {
  std::string head;
  size_t end = std::string::npos;
  char buf[4096];
  while (end == std::string::npos && head.size() < kMaxHead) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
    end = head.find("\r\n\r\n");
  }
  int backend = -1;
  if (end != std::string::npos && head.rfind("CONNECT ", 0) == 0) {
    const size_t sp = head.find(' ', 8);
    const std::string target = head.substr(8, sp - 8);
    {
      std::lock_guard<std::mutex> lock(mu_);
      targets_.push_back(target);
    }
    if (options_.never_answer) {
      while (recv(fd, buf, sizeof buf, 0) > 0) {
      }
    } else {
      backend = answer(fd, head, end, target);
    }
  }
  server_->close_fds({fd, backend});
}

}  // namespace sluice::test
