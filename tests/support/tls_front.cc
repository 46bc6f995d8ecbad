#include "tests/support/tls_front.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>

namespace sluice::test {

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
  server_ = std::make_unique<LoopbackServer>([this](int fd) { serve(fd); });
  if (!server_->start()) ADD_FAILURE() << "TlsFront: cannot listen";
}

TlsFront::~TlsFront() {
  if (server_) server_->stop();  // joins every connection's thread: they use ctx_
  if (ctx_) SSL_CTX_free(ctx_);
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
    server_->track(backend);
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
  server_->close_fds({fd, backend});
}

}  // namespace sluice::test
