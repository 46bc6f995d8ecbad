#include "filters/auth/jwt_settings.h"

#include <openssl/decoder.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace sluice::filters::auth {

namespace {

// Relative paths are relative to the config file (DESIGN §4).
std::string resolve(const config::Config& config, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || config.base_dir.empty()) return p.lexically_normal().string();
  return (std::filesystem::path(config.base_dir) / p).lexically_normal().string();
}

// The whole file, or nullopt with `error` set (the OS's reason, or "larger than ...").
std::optional<std::string> read_small_file(const std::string& path, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buffer[4096];
  while (true) {
    size_t n = std::fread(buffer, 1, sizeof buffer, file);
    text.append(buffer, n);
    if (text.size() > kMaxKeyFileBytes) {
      error =
          "larger than " + std::to_string(kMaxKeyFileBytes / 1024) + " KiB, which no public key is";
      std::fclose(file);
      return std::nullopt;
    }
    if (n < sizeof buffer) break;
  }
  bool failed = std::ferror(file) != 0;
  int read_errno = errno;
  std::fclose(file);
  if (failed) {
    error = std::strerror(read_errno);
    return std::nullopt;
  }
  return text;
}

EvpPkeyPtr load_rsa_public_key(config::NodeReader& reader, const config::Config& config,
                               const std::string& written) {
  const char* key = "rs256_public_key_file";
  if (written.empty()) reader.fail(key, "is empty; give the path of a PEM RSA public key");
  std::string path = resolve(config, written);
  std::string where = "\"" + written + "\"" + (path != written ? " (" + path + ")" : "");
  std::string error;
  std::optional<std::string> pem = read_small_file(path, error);
  if (!pem) reader.fail(key, "cannot read public key file " + where + ": " + error);
  EvpPkeyPtr public_key = parse_rsa_public_key_pem(*pem, error);
  if (!public_key) reader.fail(key, where + " " + error);
  return public_key;
}

}  // namespace

const char* to_string(JwtAlgorithm algorithm) {
  switch (algorithm) {
    case JwtAlgorithm::HS256:
      return "HS256";
    case JwtAlgorithm::RS256:
      return "RS256";
  }
  return "?";
}

EvpPkeyPtr parse_rsa_public_key_pem(const std::string& pem, std::string& error) {
  // A private key would work (its public half verifies), but sluice must never hold the key
  // that signs tokens: refuse it, and say how to get the public half.
  if (pem.find("PRIVATE KEY-----") != std::string::npos) {
    error =
        "holds a private key; give sluice only the public key "
        "(openssl pkey -in private.pem -pubout -out public.pem)";
    return nullptr;
  }
  if (pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos) {
    error =
        "holds a certificate, not a public key; extract its key with "
        "openssl x509 -in cert.pem -pubkey -noout > public.pem";
    return nullptr;
  }
  EVP_PKEY* raw = nullptr;
  OSSL_DECODER_CTX* decoder = OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, nullptr,
                                                            EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
  if (decoder == nullptr) {
    error = "could not be parsed (OpenSSL has no PEM decoder)";
    return nullptr;
  }
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  size_t length = pem.size();
  bool decoded = OSSL_DECODER_from_data(decoder, &data, &length) == 1;
  OSSL_DECODER_CTX_free(decoder);
  EvpPkeyPtr key(decoded ? raw : nullptr);
  if (!key) {
    error = "is not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")";
    return nullptr;
  }
  if (!EVP_PKEY_is_a(key.get(), "RSA")) {
    error = std::string("holds a ") + EVP_PKEY_get0_type_name(key.get()) +
            " key, not an RSA key; RS256 needs RSA";
    return nullptr;
  }
  int bits = EVP_PKEY_get_bits(key.get());
  if (bits < kMinRsaBits) {
    error = "holds a " + std::to_string(bits) + "-bit RSA key; RS256 needs at least " +
            std::to_string(kMinRsaBits) + " bits (RFC 7518 §3.3)";
    return nullptr;
  }
  return key;
}

JwtSettings parse_jwt_settings(config::NodeReader& reader, const config::Config& config) {
  JwtSettings settings;
  // Every key is read before anything is checked, so a misspelt key is reported as such
  // (finish() with its did-you-mean) rather than as a missing one.
  std::optional<std::string> secret = reader.string("hs256_secret");
  std::optional<std::string> key_file = reader.string("rs256_public_key_file");
  settings.issuer = reader.string("issuer").value_or("");
  settings.audience = reader.string("audience").value_or("");
  settings.agent_claim = reader.string("agent_claim").value_or("sub");
  std::optional<config::Duration> skew = reader.duration("clock_skew");
  reader.finish();

  if (secret && key_file) {
    reader.fail("rs256_public_key_file",
                "give either hs256_secret or rs256_public_key_file, not both: a token is "
                "verified with one algorithm");
  }
  if (!secret && !key_file) {
    reader.fail_here(
        "needs a key: hs256_secret (a shared secret, HS256) or rs256_public_key_file (a PEM RSA "
        "public key, RS256)");
  }
  if (secret) {
    if (secret->size() < kMinHs256SecretBytes) {
      reader.fail("hs256_secret", "is " + std::to_string(secret->size()) +
                                      " bytes; HS256 needs at least " +
                                      std::to_string(kMinHs256SecretBytes) +
                                      " (RFC 7518 §3.2), e.g. openssl rand -base64 32");
    }
    settings.algorithm = JwtAlgorithm::HS256;
    settings.hs256_secret = std::move(*secret);
  } else {
    settings.algorithm = JwtAlgorithm::RS256;
    settings.rs256_public_key = load_rsa_public_key(reader, config, *key_file);
  }
  if (settings.agent_claim.empty()) reader.fail("agent_claim", "is empty; the default is sub");
  if (skew) {
    if (*skew > kMaxClockSkew)
      reader.fail("clock_skew", "is more than 1h, which would keep expired tokens valid");
    settings.clock_skew = *skew;
  }
  return settings;
}

}  // namespace sluice::filters::auth
