// A TLS-terminating front for a plain test server (the mock provider): an OpenSSL server with a
// certificate from TestCa, optionally requiring a client certificate, that forwards each
// connection's decrypted bytes to 127.0.0.1:<backend_port> and back. Blocking sockets, a thread
// per connection: simple, and plenty for tests.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  // TLS handshakes that completed / that failed (no or a bad client certificate, ...).
  int handshakes() const { return handshakes_.load(); }
  int failed_handshakes() const { return failed_handshakes_.load(); }

 private:
  void accept_loop();
  void serve(int fd);

  TlsFrontOptions options_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> handshakes_{0};
  std::atomic<int> failed_handshakes_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;  // guarded by mu_
  std::vector<int> open_fds_;         // guarded by mu_: shut down to stop the workers
};

// Shared by the TLS front and the CONNECT proxy: a listening socket on 127.0.0.1:0 (returns the
// fd and sets `port`, or -1), and a blocking connect to 127.0.0.1:port (fd or -1).
int listen_loopback(uint16_t* port);
int connect_loopback(uint16_t port);

}  // namespace sluice::test
