// Transport: what an upstream connection's bytes pass through between the socket and the HTTP
// parser — nothing (plain TCP) or TLS. The connection owns the uv_tcp_t and does all socket
// I/O; a transport only turns socket bytes into plaintext and plaintext into socket bytes,
// which keeps TLS (OpenSSL over memory BIOs) free of any libuv detail.
#pragma once

#include <openssl/ssl.h>
#include <uv.h>

#include <memory>
#include <span>
#include <string>

#include "core/upstream/read_buffer_pool.h"

namespace sluice::upstream {

class Transport {
 public:
  enum class Status : uint8_t {
    Ok,      // progress (possibly none yet: a TLS handshake waiting for more bytes)
    Closed,  // the peer ended the session cleanly (TLS close_notify): treat like EOF
    Failed,  // unrecoverable; error_detail() says why. The connection must close.
  };
  // Receives decrypted bytes in order; valid during the call only.
  using PlaintextFn = void (*)(void* arg, const char* data, size_t len);

  virtual ~Transport() = default;

  // The TCP connection is up: a TLS client queues its ClientHello (see take_output).
  virtual Status start() = 0;
  // True once application data may flow (at once for TCP).
  virtual bool handshake_complete() const = 0;
  // Bytes read from the socket. Drives the handshake; every plaintext byte they complete is
  // passed to `fn` before this returns.
  virtual Status receive(const char* data, size_t len, PlaintextFn fn, void* arg) = 0;
  // Plaintext to send. TCP keeps a view of the caller's buffers (zero copy: they must stay
  // valid until written); TLS encrypts them now into its own output.
  virtual Status send(std::span<const uv_buf_t> plaintext) = 0;
  // Everything ready for the wire, as buffers for one uv_write; empty when nothing is. The
  // buffers stay valid until the next take_output() or output_written().
  virtual std::span<const uv_buf_t> take_output() = 0;
  // The uv_write of the last take_output() finished; its buffers may be reused.
  virtual void output_written() = 0;
  virtual const char* error_detail() const = 0;
};

std::unique_ptr<Transport> make_tcp_transport();

// `ctx` from acquire_tls_client_context. `host` (the provider's tls.server_name, else its
// base_url host) is both the SNI name (unless it is an IP literal) and the name the certificate
// must match when `verify` is on. `buffers` lends the scratch
// buffer decrypted bytes land in.
std::unique_ptr<Transport> make_tls_transport(SSL_CTX* ctx, const std::string& host,
                                              bool host_is_ip, bool verify,
                                              ReadBufferPool* buffers);

// What a client SSL_CTX is made from (see config::ProviderTls).
struct TlsContextSpec {
  bool verify = true;
  int min_version = 12;  // 12 | 13
  std::string ca_file;   // a PEM bundle read at context creation (tests); wins over ca_pem
  std::string ca_pem;    // trusted instead of the system store when not empty
  std::string cert_pem;  // client certificate chain (mTLS), with key_pem
  std::string key_pem;
};

// A client SSL_CTX: TLS >= min_version, ALPN http/1.1, and with `verify` SSL_VERIFY_PEER
// against the system trust store (or only the given CA bundle), presenting the client
// certificate when there is one. Shared process-wide per distinct spec (keyed on a digest of
// every field, so a rotated file read at a reload gets its own context): loading the system
// store costs ~100ms of CPU, paid once, by the first caller (the others wait for it). Returns a
// new reference (release with SSL_CTX_free), or nullptr with `error` filled.
SSL_CTX* acquire_tls_client_context(const TlsContextSpec& spec, std::string* error);

}  // namespace sluice::upstream
