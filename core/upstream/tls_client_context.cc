// The process-wide cache of client SSL_CTXs. An SSL_CTX is safe to share between threads once
// configured (SSL_new only reads it and takes references), so every worker's pools to every
// provider use the same one per verification mode instead of each loading the trust store.
#include <openssl/err.h>

#include <map>
#include <mutex>
#include <utility>

#include "core/upstream/transport.h"

namespace sluice::upstream {
namespace {

SSL_CTX* make_context(bool verify, const std::string& ca_file, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    *error = "SSL_CTX_new failed";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A server-initiated renegotiation would make writes wait on reads; refuse it.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);  // returns 0 on success (sic)
  if (!verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return ctx;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // The system store: Debian's /etc/ssl/certs bundle, or SSL_CERT_FILE / SSL_CERT_DIR if set.
  int ok = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                           : SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  if (ok != 1) {
    *error = ca_file.empty() ? "could not load the system certificate store"
                             : "could not load CA file " + ca_file;
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return nullptr;
  }
  return ctx;
}

}  // namespace

SSL_CTX* acquire_tls_client_context(bool verify, const std::string& ca_file, std::string* error) {
  static std::mutex mu;
  // Lives until the process ends (never destroyed, so never torn down under a worker that
  // still runs at exit); holds one reference to each context.
  static auto* contexts = new std::map<std::pair<bool, std::string>, SSL_CTX*>();
  std::lock_guard<std::mutex> lock(mu);
  SSL_CTX*& slot = (*contexts)[{verify, verify ? ca_file : std::string()}];
  if (!slot) slot = make_context(verify, ca_file, error);
  if (!slot) return nullptr;  // not cached: a later pool (after a fix on disk) tries again
  SSL_CTX_up_ref(slot);
  return slot;
}

}  // namespace sluice::upstream
