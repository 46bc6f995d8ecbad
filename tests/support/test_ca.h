// A throw-away certificate authority for TLS tests, made with the openssl command line tool in
// a private TempDir: a CA certificate, and server certificates it signs for the names a test
// chooses (a name that does not match the host is how a test sees verification fail).
#pragma once

#include <optional>
#include <string>

#include "tests/support/temp_dir.h"

namespace sluice::test {

struct TlsServerFiles {
  std::string cert_file;  // PEM, signed by the CA
  std::string key_file;   // PEM, unencrypted
  std::string ca_file;    // the CA's certificate
};

class TestCa {
 public:
  // Creates the CA (an EC P-256 key, valid 2 days). ok() is false if openssl failed, with the
  // reason as a GoogleTest failure.
  TestCa();
  bool ok() const { return ok_; }
  const std::string& ca_file() const { return ca_file_; }

  // A server certificate for `subject_alt_name` ("IP:127.0.0.1", "DNS:cache.internal"), or
  // nullopt (with a GoogleTest failure) if openssl failed.
  std::optional<TlsServerFiles> issue(const std::string& subject_alt_name);

 private:
  TempDir dir_;
  std::string ca_file_;
  std::string ca_key_;
  int issued_ = 0;
  bool ok_ = false;
};

}  // namespace sluice::test
