// A real redis-server for integration tests, on a loopback port of its own, with no
// persistence (--save "" --appendonly no) and its files in a private TempDir. It can be killed
// and started again on the same port (reconnect tests), paused (CLIENT PAUSE: a slow Redis)
// and driven with redis-cli. Every wait has a timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ca.h"

namespace sluice::test {

class RedisServer {
 public:
  // Starts redis-server (with --requirepass when `password` is not empty; speaking only TLS,
  // with `tls`'s certificate, when given) and waits up to 10 s for it to answer PING. On
  // failure ok() is false and the reason is a GoogleTest failure.
  explicit RedisServer(std::string password = "", std::optional<TlsServerFiles> tls = {});
  ~RedisServer();  // SIGKILL
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // False when redis-server is not installed: tests GTEST_SKIP then (scripts/setup.sh --tests
  // installs it).
  static bool available();

  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }
  // "redis://127.0.0.1:<port>" (rediss:// with TLS; ":<password>@" when there is one), then
  // `/db` if db != 0.
  std::string url(unsigned db = 0) const;

  // SIGKILL and reap: a crash, not a shutdown (no goodbye to clients).
  void stop();
  // Starts it again on the same port; true once it answers PING.
  bool start();

  // `redis-cli -p <port> [-n db] args...`: its stdout with the trailing newline removed;
  // nullopt when redis-cli failed or did not end within 5 s.
  std::optional<std::string> command(const std::vector<std::string>& args, unsigned db = 0);
  bool flushall();
  // CLIENT PAUSE <ms>: every client's commands wait that long (the reply to this one aside).
  bool pause(std::chrono::milliseconds ms);

 private:
  bool launch();
  bool wait_ready(std::chrono::milliseconds timeout);

  TempDir dir_;
  std::string password_;
  std::optional<TlsServerFiles> tls_;
  uint16_t port_ = 0;
  bool ok_ = false;
  int starts_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace sluice::test
