#include "tests/support/test_ca.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/process.h"

namespace sluice::test {

using namespace std::chrono_literals;

namespace {

// Runs openssl with `args`; true when it exited 0 (its stderr is reported otherwise).
bool openssl(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  auto p = Process::start(args, dir.file("openssl"));
  if (!p) {
    ADD_FAILURE() << "cannot run /usr/bin/openssl";
    return false;
  }
  auto code = p->wait_exit(30s);
  if (code && *code == 0) return true;
  ADD_FAILURE() << "openssl " << args[1] << " failed: " << p->describe();
  return false;
}

}  // namespace

TestCa::TestCa() : ca_file_(dir_.file("ca.pem")), ca_key_(dir_.file("ca.key")) {
  ok_ = openssl(
      dir_, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", ca_key_, "-out", ca_file_, "-days", "2", "-subj", "/CN=sluice test CA"});
}

std::optional<TlsServerFiles> TestCa::issue(const std::string& subject_alt_name) {
  if (!ok_) return std::nullopt;
  std::string stem = dir_.file("server-" + std::to_string(++issued_));
  TlsServerFiles files{stem + ".pem", stem + ".key", ca_file_};
  std::string ext = dir_.write("server-" + std::to_string(issued_) + ".ext",
                               "subjectAltName=" + subject_alt_name + "\n");
  bool made =
      openssl(dir_, {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", files.key_file, "-out", stem + ".csr", "-subj",
                     "/CN=sluice test server"}) &&
      openssl(dir_, {"x509", "-req", "-in", stem + ".csr", "-CA", ca_file_, "-CAkey", ca_key_,
                     "-CAcreateserial", "-out", files.cert_file, "-days", "2", "-extfile", ext});
  if (!made) return std::nullopt;
  return files;
}

}  // namespace sluice::test
