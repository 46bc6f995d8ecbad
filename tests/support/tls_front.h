// A TLS-terminating front for a plain test server (the mock provider): an OpenSSL server with a
// certificate from TestCa, optionally requiring a client certificate, that forwards each
// connection's decrypted bytes to 127.0.0.1:<backend_port> and back (a LoopbackServer).
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/loopback_server.h"

namespace sluice::test {

struct TlsFrontOptions {
  std::string cert_file;       // the server certificate (PEM)
  std::string key_file;        // its key
  std::string client_ca_file;  // not empty: a client certificate signed by it is required
  uint16_t backend_port = 0;   // where plaintext goes (127.0.0.1)
};

class TlsFront {
 public:
  explicit TlsFront(TlsFrontOptions options);  // ok() false (and a test failure) on error
  ~TlsFront();
  TlsFront(const TlsFront&) = delete;
  TlsFront& operator=(const TlsFront&) = delete;

  bool ok() const { return server_ && server_->ok(); }
  uint16_t port() const { return server_ ? server_->port() : 0; }
  // TLS handshakes that completed / that failed (no or a bad client certificate, ...).
  int handshakes() const { return handshakes_.load(); }
  int failed_handshakes() const { return failed_handshakes_.load(); }

 private:
  void serve(int fd);

  TlsFrontOptions options_;
  SSL_CTX* ctx_ = nullptr;
  std::atomic<int> handshakes_{0};
  std::atomic<int> failed_handshakes_{0};
  std::unique_ptr<LoopbackServer> server_;  // last: made once ctx_ is ready
};

}  // namespace sluice::test
