// TLS over memory BIOs: OpenSSL never sees the socket. Bytes read from uv_tcp go into the
// read BIO; SSL_read/SSL_do_handshake consume them; whatever OpenSSL wants to send lands in
// the write BIO, which the connection drains with take_output() into one uv_write.
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "core/upstream/transport.h"

namespace sluice::upstream {
namespace {

class TlsTransport final : public Transport {
 public:
  TlsTransport(SSL_CTX* ctx, const std::string& host, bool host_is_ip, bool verify,
               ReadBufferPool* buffers)
      : host_(host), buffers_(buffers) {
    if (!ctx) {
      detail_ = "TLS is unavailable (no client context)";
      return;
    }
    ssl_ = SSL_new(ctx);
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (!ssl_ || !rbio || !wbio) {
      BIO_free(rbio);
      BIO_free(wbio);
      fail_setup("TLS session could not be created");
      return;
    }
    // An empty read BIO means "wait for more bytes" (WANT_READ), not end of stream.
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(ssl_, rbio, wbio);  // ssl_ owns both BIOs from here
    rbio_ = rbio;
    wbio_ = wbio;
    SSL_set_connect_state(ssl_);
    // SNI is for names only (RFC 6066 forbids IP literals in it).
    if (!host_is_ip && SSL_set_tlsext_host_name(ssl_, host_.c_str()) != 1) {
      fail_setup("TLS: could not set the server name");
      return;
    }
    if (verify) {
      int ok = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host_.c_str())
                          : SSL_set1_host(ssl_, host_.c_str());
      if (ok != 1) {
        fail_setup("TLS: could not set the name to verify");
        return;
      }
      SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
  }

  ~TlsTransport() override {
    if (ssl_) SSL_free(ssl_);
  }

  Status start() override {
    if (!ssl_) return Status::Failed;
    return handshake_step();
  }

  bool handshake_complete() const override { return handshake_done_; }

  Status receive(const char* data, size_t len, PlaintextFn fn, void* arg) override {
    if (!ssl_) return Status::Failed;
    // A memory BIO grows to take everything; it fails only when out of memory.
    if (BIO_write(rbio_, data, static_cast<int>(len)) != static_cast<int>(len)) {
      detail_ = "TLS: out of memory buffering received bytes";
      return Status::Failed;
    }
    if (!handshake_done_) {
      Status s = handshake_step();
      if (s != Status::Ok || !handshake_done_) return s;
    }
    char* scratch = buffers_->take();
    Status st = Status::Ok;
    for (;;) {
      size_t got = 0;
      ERR_clear_error();
      if (SSL_read_ex(ssl_, scratch, ReadBufferPool::kBufferSize, &got) == 1) {
        fn(arg, scratch, got);
        continue;
      }
      int e = SSL_get_error(ssl_, 0);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
      if (e == SSL_ERROR_ZERO_RETURN) {
        st = Status::Closed;
        break;
      }
      st = fail_with_openssl_error("TLS read failed", e);
      break;
    }
    buffers_->give(scratch);
    return st;
  }

  Status send(std::span<const uv_buf_t> plaintext) override {
    if (!ssl_ || !handshake_done_) {
      detail_ = "TLS: send before the handshake completed";
      return Status::Failed;
    }
    for (const uv_buf_t& b : plaintext) {
      if (b.len == 0) continue;  // SSL_write refuses empty writes
      size_t written = 0;
      ERR_clear_error();
      // The write BIO grows as needed, so a write never stops half-way.
      if (SSL_write_ex(ssl_, b.base, b.len, &written) != 1 || written != b.len) {
        return fail_with_openssl_error("TLS write failed", SSL_get_error(ssl_, 0));
      }
    }
    return Status::Ok;
  }

  std::span<const uv_buf_t> take_output() override {
    if (!ssl_) return {};
    size_t n = BIO_ctrl_pending(wbio_);
    if (n == 0) return {};
    if (n > out_cap_) {
      out_.reset(new char[n]);
      out_cap_ = n;
    }
    int got = BIO_read(wbio_, out_.get(), static_cast<int>(n));
    if (got <= 0) return {};
    out_buf_ = uv_buf_init(out_.get(), static_cast<unsigned>(got));
    return {&out_buf_, 1};
  }

  void output_written() override {
    // A large request body grew the buffer; do not keep that much per idle connection.
    if (out_cap_ > kKeepOutputCapacity) {
      out_.reset();
      out_cap_ = 0;
    }
  }

  const char* error_detail() const override { return detail_.c_str(); }

 private:
  static constexpr size_t kKeepOutputCapacity = 256 * 1024;

  void fail_setup(const char* what) {
    detail_ = what;
    if (ssl_) SSL_free(ssl_);
    ssl_ = nullptr;
  }

  Status handshake_step() {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      handshake_done_ = true;
      return Status::Ok;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Status::Ok;
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      detail_ = "TLS certificate verification failed for ";
      detail_ += host_;
      detail_ += ": ";
      detail_ += X509_verify_cert_error_string(verify);
      ERR_clear_error();
      return Status::Failed;
    }
    std::string what = "TLS handshake with " + host_ + " failed";
    return fail_with_openssl_error(what.c_str(), e);
  }

  Status fail_with_openssl_error(const char* what, int ssl_error) {
    detail_ = what;
    unsigned long err = ERR_peek_last_error();
    if (err != 0) {
      char buf[256];
      ERR_error_string_n(err, buf, sizeof buf);
      detail_ += ": ";
      detail_ += buf;
    } else {
      detail_ += " (SSL error " + std::to_string(ssl_error) + ")";
    }
    ERR_clear_error();
    return Status::Failed;
  }

  std::string host_;
  ReadBufferPool* buffers_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // socket → OpenSSL (owned by ssl_)
  BIO* wbio_ = nullptr;  // OpenSSL → socket (owned by ssl_)
  bool handshake_done_ = false;
  std::unique_ptr<char[]> out_;  // ciphertext handed to uv_write; reused between writes
  size_t out_cap_ = 0;
  uv_buf_t out_buf_{};
  std::string detail_;
};

}  // namespace

std::unique_ptr<Transport> make_tls_transport(SSL_CTX* ctx, const std::string& host,
                                              bool host_is_ip, bool verify,
                                              ReadBufferPool* buffers) {
  return std::make_unique<TlsTransport>(ctx, host, host_is_ip, verify, buffers);
}

}  // namespace sluice::upstream
