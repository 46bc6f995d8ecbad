// The process-wide cache of client SSL_CTXs. An SSL_CTX is safe to share between threads once
// configured (SSL_new only reads it and takes references), so every worker's pools to every
// provider with the same TLS settings use one context instead of each loading the trust store.
//
// Contexts are never evicted: one per distinct spec the process has seen, i.e. one per
// certificate rotation at most — a few KiB each.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/upstream/transport.h"

namespace sluice::upstream {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

int no_passphrase(char*, int, int, void*) {
  return -1;
}

// The cache key: a SHA-256 over every field, so the key material itself is not kept twice.
std::string key_of(const TlsContextSpec& spec) {
  std::string all = spec.verify ? "v1" : "v0";
  all += std::to_string(spec.min_version);
  for (const std::string* field : {&spec.ca_file, &spec.ca_pem, &spec.cert_pem, &spec.key_pem}) {
    all += "|" + std::to_string(field->size()) + ":" + *field;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(all.data(), all.size(), digest, &len, EVP_sha256(), nullptr);
  OPENSSL_cleanse(all.data(), all.size());
  return std::string(reinterpret_cast<char*>(digest), len);
}

bool load_ca_pem(SSL_CTX* ctx, const std::string& pem) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  BioPtr bio = memory_bio(pem);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  ERR_clear_error();  // the read that ended the loop
  return added > 0;
}

bool load_client_certificate(SSL_CTX* ctx, const TlsContextSpec& spec) {
  BioPtr bio = memory_bio(spec.cert_pem);
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr);
  if (!leaf) return false;
  bool ok = SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  // The rest of the file: intermediates sent along with the leaf.
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) X509_free(extra);
  }
  ERR_clear_error();
  BioPtr key_bio = memory_bio(spec.key_pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr);
  ok = ok && key && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  return ok;
}

SSL_CTX* make_context(const TlsContextSpec& spec, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    *error = "SSL_CTX_new failed";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, spec.min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  // A server-initiated renegotiation would make writes wait on reads; refuse it.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);  // returns 0 on success (sic)
  auto give_up = [&](std::string what) {
    *error = std::move(what);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return nullptr;
  };
  if (!spec.cert_pem.empty() && !load_client_certificate(ctx, spec)) {
    return give_up("could not load the client certificate and key");
  }
  if (!spec.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return ctx;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!spec.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, spec.ca_file.c_str(), nullptr) != 1) {
      return give_up("could not load CA file " + spec.ca_file);
    }
  } else if (!spec.ca_pem.empty()) {
    if (!load_ca_pem(ctx, spec.ca_pem)) return give_up("could not load the CA bundle");
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    // The system store: Debian's /etc/ssl/certs bundle, or SSL_CERT_FILE / SSL_CERT_DIR.
    return give_up("could not load the system certificate store");
  }
  return ctx;
}

}  // namespace

SSL_CTX* acquire_tls_client_context(const TlsContextSpec& spec, std::string* error) {
  static std::mutex mu;
  // Lives until the process ends (never destroyed, so never torn down under a worker that
  // still runs at exit); holds one reference to each context.
  static auto* contexts = new std::map<std::string, SSL_CTX*>();
  TlsContextSpec effective = spec;
  if (!effective.verify) {  // no trust anchors are used then: share one context
    effective.ca_file.clear();
    effective.ca_pem.clear();
  }
  const std::string key = key_of(effective);
  std::lock_guard<std::mutex> lock(mu);
  SSL_CTX*& slot = (*contexts)[key];
  if (!slot) slot = make_context(effective, error);
  if (!slot) return nullptr;  // not cached: a later pool (after a fix on disk) tries again
  SSL_CTX_up_ref(slot);
  return slot;
}

}  // namespace sluice::upstream
