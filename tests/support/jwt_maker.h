// Makes JWTs for tests (unit and integration): base64url, HS256 with a shared secret, RS256
// with an RSA key pair generated here. Written from RFC 7515/7518, independently of
// filters/auth, so a test does not verify sluice's code with sluice's code.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::test {

inline std::string base64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

// "<b64(header)>.<b64(payload)>" — what the signature covers.
inline std::string jwt_signing_input(std::string_view header_json, std::string_view payload_json) {
  return base64url(header_json) + "." + base64url(payload_json);
}

inline std::string hmac_sha256(std::string_view secret, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  return std::string(reinterpret_cast<char*>(mac), size);
}

// A JWT signed with HS256 (whatever `header_json` says its alg is).
inline std::string hs256_jwt(std::string_view header_json, std::string_view payload_json,
                             std::string_view secret) {
  std::string input = jwt_signing_input(header_json, payload_json);
  return input + "." + base64url(hmac_sha256(secret, input));
}

inline std::string hs256_jwt(std::string_view payload_json, std::string_view secret) {
  return hs256_jwt(R"({"alg":"HS256","typ":"JWT"})", payload_json, secret);
}

class RsaKeyPair {
 public:
  explicit RsaKeyPair(unsigned bits = 2048) : key_(EVP_RSA_gen(bits), EVP_PKEY_free) {
    if (!key_) throw std::runtime_error("RSA key generation failed");
  }

  std::string public_pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key_.get());
    return bio_text(bio.get());
  }
  std::string private_pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    return bio_text(bio.get());
  }

  std::string sign_sha256(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t size = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &size, bytes, data.size()) != 1)
      throw std::runtime_error("RSA signing failed");
    std::string signature(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, bytes,
                       data.size()) != 1)
      throw std::runtime_error("RSA signing failed");
    signature.resize(size);
    return signature;
  }

  // A JWT signed with RS256 (whatever `header_json` says its alg is).
  std::string rs256_jwt(std::string_view header_json, std::string_view payload_json) const {
    std::string input = jwt_signing_input(header_json, payload_json);
    return input + "." + base64url(sign_sha256(input));
  }
  std::string rs256_jwt(std::string_view payload_json) const {
    return rs256_jwt(R"({"alg":"RS256","typ":"JWT"})", payload_json);
  }

 private:
  static std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(size));
  }

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_{nullptr, EVP_PKEY_free};
};

}  // namespace sluice::test
