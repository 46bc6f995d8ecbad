// The test's handle on one sluice_mock_provider process (tests/support/mock_provider_main.cc):
// starts it on an ephemeral port, steers its behaviour through /__control and reads back what
// it received through /__requests — i.e. what sluice really sent upstream.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/json.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sluice::test {

class MockProvider {
 public:
  // Starts `binary --port 0 <extra_args>` and waits (up to 10 s) for its port. On failure
  // ok() is false and the reason is reported as a GoogleTest failure.
  explicit MockProvider(const std::string& binary, std::vector<std::string> extra_args = {});
  ~MockProvider();

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  // What a provider's `base_url` should say: "http://127.0.0.1:<port>/v1".
  std::string base_url() const;

  // The next `count` API requests (negative: all of them) whose path starts with `path_prefix`
  // get `behavior` (see mock/behavior.h). Rules queue up in order.
  bool control(const std::string& behavior, int count = 1, const std::string& path_prefix = "");
  // Forgets rules and recorded requests.
  bool reset();
  // The last (up to 100) API requests received, oldest first: [{seq, method, path,
  // headers{lowercase: value}, body, behavior, reply_status, reply_body}] — reply_body being
  // what the mock answered (SSE events joined). nullopt if the mock did not answer.
  std::optional<Json> requests();
  std::string requests_raw();
  // {connections_open, connections_total, requests_total}.
  std::optional<Json> stats();

  Process& process() { return *process_; }
  // SIGTERM and wait; true when it exited.
  bool stop();

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
};

}  // namespace sluice::test
