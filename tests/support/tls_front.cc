#include "tests/support/tls_front.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

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

TlsFront::TlsFront(TlsFrontOptions options) : options_(std::move(options)) {
  std::signal(SIGPIPE, SIG_IGN);  // a peer gone mid-write is an error return, not a death
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (!ctx_ || SSL_CTX_use_certificate_chain_file(ctx_, options_.cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx_, options_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    ADD_FAILURE() << "TlsFront: cannot load " << options_.cert_file << " / " << options_.key_file;
    return;
  }
  if (!options_.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx_, options_.client_ca_file.c_str(), nullptr) != 1) {
      ADD_FAILURE() << "TlsFront: cannot load " << options_.client_ca_file;
      return;
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  uint16_t port = 0;
  listen_fd_ = listen_loopback(&port);
  if (listen_fd_ < 0) {
    ADD_FAILURE() << "TlsFront: cannot listen";
    return;
  }
  port_ = port;
  acceptor_ = std::thread([this] { accept_loop(); });
}

TlsFront::~TlsFront() {
  stopping_ = true;
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
  if (ctx_) SSL_CTX_free(ctx_);
}

void TlsFront::accept_loop() {
  while (!stopping_) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_ || errno != EINTR) return;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void TlsFront::serve(int fd) {
  int backend = -1;
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    ++failed_handshakes_;
  } else {
    ++handshakes_;
    backend = connect_loopback(options_.backend_port);
  }
  if (backend >= 0) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.push_back(backend);
    }
    char buf[16384];
    for (;;) {
      if (SSL_pending(ssl) == 0) {
        pollfd fds[2] = {{fd, POLLIN, 0}, {backend, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
        if (fds[1].revents != 0) {
          ssize_t n = recv(backend, buf, sizeof buf, 0);
          if (n <= 0 || SSL_write(ssl, buf, static_cast<int>(n)) <= 0) break;
          continue;
        }
        if (fds[0].revents == 0) continue;
      }
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) {
        int e = SSL_get_error(ssl, n);
        if (e == SSL_ERROR_WANT_READ) continue;  // a non-data record (session ticket ack...)
        break;
      }
      if (send(backend, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
  }
  if (ssl) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (int f : {fd, backend}) {
    if (f < 0) continue;
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), f), open_fds_.end());
    close(f);
  }
}

}  // namespace sluice::test
