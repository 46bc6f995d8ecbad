// The test's handle on one sluice process: writes the config into a private directory, runs
// `sluice run -c <dir>/sluice.yaml` and learns the ports it bound.
//
// Contract with the server for learning ports (configs say `listen: 127.0.0.1:0` and
// `admin: 127.0.0.1:0`): sluice logs to stderr a line containing
// `listening on 127.0.0.1:<port>` for the agent listener and `admin listening on
// 127.0.0.1:<port>` for the admin listener.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sluice::test {

class SluiceServer {
 public:
  SluiceServer() = default;  // creates dir(); nothing runs until start()
  ~SluiceServer();
  SluiceServer(const SluiceServer&) = delete;
  SluiceServer& operator=(const SluiceServer&) = delete;

  // The private directory (config, logs; tests put access logs here).
  const TempDir& dir() const { return dir_; }
  std::string config_path() const { return dir_.file("sluice.yaml"); }

  // Writes `config_yaml` to config_path(), starts `binary run -c config_path()` with `env`
  // added to the environment and waits (up to `timeout`) until both ports are known and the
  // agent port accepts connections. False (and a GoogleTest failure with sluice's stderr)
  // when it did not come up.
  bool start(const std::string& binary, const std::string& config_yaml, const Env& env = {},
             std::chrono::milliseconds timeout = std::chrono::seconds(20));

  bool ok() const { return port_ != 0 && admin_port_ != 0; }
  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  HttpClient client() const { return HttpClient(port_); }
  HttpClient admin_client() const { return HttpClient(admin_port_); }

  Process& process() { return *process_; }
  bool running() const { return process_ && process_->running(); }
  std::string stderr_text() const { return process_ ? process_->stderr_text() : ""; }
  std::string stdout_text() const { return process_ ? process_->stdout_text() : ""; }
  // Exit state and stderr tail, for assertion messages.
  std::string describe() const;

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
};

}  // namespace sluice::test
