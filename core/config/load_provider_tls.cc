// providers.*.tls: the files are read and checked here, at load, so `sluice validate` and a
// refused reload catch a missing CA bundle or a key that does not belong to its certificate,
// instead of every connection failing later with a handshake error.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/config/load_steps.h"

namespace sluice::config::load {
namespace {

// Config files are small; a PEM bundle over this is not one.
constexpr std::streamsize kMaxPemBytes = 4 << 20;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string read_file(NodeReader& reader, std::string_view key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) reader.fail(key, "cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  std::string text = out.str();
  if (static_cast<std::streamsize>(text.size()) > kMaxPemBytes) {
    reader.fail(key, path + " is larger than 4 MiB: not a PEM file");
  }
  return text;
}

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// An encrypted key would make OpenSSL prompt on the terminal; refuse instead.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

size_t count_certificates(const std::string& pem) {
  BioPtr bio = memory_bio(pem);
  size_t n = 0;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)}) ++n;
  ERR_clear_error();  // the read that ended the loop left "no start line"
  return n;
}

X509Ptr first_certificate(const std::string& pem) {
  BioPtr bio = memory_bio(pem);
  X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)};
  ERR_clear_error();
  return cert;
}

KeyPtr private_key(const std::string& pem) {
  BioPtr bio = memory_bio(pem);
  KeyPtr key{PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)};
  ERR_clear_error();
  return key;
}

std::string identity_of(const ProviderTls& tls) {
  std::string all;
  for (const std::string* field : {&tls.ca_file, &tls.cert_file, &tls.key_file, &tls.server_name,
                                   &tls.ca_pem, &tls.cert_pem, &tls.key_pem}) {
    all += std::to_string(field->size()) + ":" + *field;
  }
  all += std::to_string(tls.min_version);
  KeyDigest digest = digest_of(all);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : digest.bytes) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

}  // namespace

ProviderTls read_provider_tls(NodeReader reader, const Config& config) {
  ProviderTls tls;
  auto ca_file = reader.string("ca_file");
  auto cert_file = reader.string("cert_file");
  auto key_file = reader.string("key_file");
  auto server_name = reader.string("server_name");
  auto min_version = reader.one_of("min_version", {"1.2", "1.3"});
  reader.finish();

  if (ca_file && !ca_file->empty()) {
    tls.ca_file = resolve_path(config, *ca_file);
    tls.ca_pem = read_file(reader, "ca_file", tls.ca_file);
    if (count_certificates(tls.ca_pem) == 0) {
      reader.fail("ca_file", tls.ca_file + " holds no PEM certificate");
    }
  }
  const bool has_cert = cert_file && !cert_file->empty();
  const bool has_key = key_file && !key_file->empty();
  if (has_cert != has_key) {
    reader.fail(has_cert ? "cert_file" : "key_file",
                "cert_file and key_file go together (a client certificate needs its key)");
  }
  if (has_cert) {
    tls.cert_file = resolve_path(config, *cert_file);
    tls.key_file = resolve_path(config, *key_file);
    tls.cert_pem = read_file(reader, "cert_file", tls.cert_file);
    tls.key_pem = read_file(reader, "key_file", tls.key_file);
    X509Ptr cert = first_certificate(tls.cert_pem);
    if (!cert) reader.fail("cert_file", tls.cert_file + " holds no PEM certificate");
    KeyPtr key = private_key(tls.key_pem);
    if (!key) {
      reader.fail("key_file", tls.key_file +
                                  " holds no usable PEM private key (encrypted keys are not "
                                  "supported)");
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
      ERR_clear_error();
      reader.fail("key_file",
                  tls.key_file + " is not the key of the certificate in " + tls.cert_file);
    }
  }
  if (server_name) {
    if (server_name->empty() || server_name->find_first_of(" \t/@") != std::string::npos) {
      reader.fail("server_name", "expected a host name or an IP address (no port, no scheme)");
    }
    tls.server_name = *server_name;
  }
  if (min_version) tls.min_version = *min_version == "1.3" ? 13 : 12;
  tls.identity = identity_of(tls);
  return tls;
}

}  // namespace sluice::config::load
