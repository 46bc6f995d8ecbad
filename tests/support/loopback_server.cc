#include "tests/support/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sluice::test {

int listen_loopback(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

int connect_loopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

LoopbackServer::LoopbackServer(std::function<void(int fd)> serve) : serve_(std::move(serve)) {}

bool LoopbackServer::start() {
  uint16_t port = 0;
  listen_fd_ = listen_loopback(&port);
  if (listen_fd_ < 0) return false;
  port_ = port;
  acceptor_ = std::thread([this] { accept_loop(); });
  return true;
}

LoopbackServer::~LoopbackServer() {
  stop();
}

void LoopbackServer::stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);  // wakes poll()/reads
    workers.swap(workers_);
  }
  for (std::thread& t : workers) t.join();
}

void LoopbackServer::track(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.push_back(fd);
}

void LoopbackServer::close_fds(std::initializer_list<int> fds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int f : fds) {
    if (f < 0) continue;
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), f), open_fds_.end());
    close(f);
  }
}

void LoopbackServer::accept_loop() {
  while (!stopping_) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_ || errno != EINTR) return;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve_(fd); });
  }
}

}  // namespace sluice::test
