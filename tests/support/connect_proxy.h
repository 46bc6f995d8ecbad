// An HTTP CONNECT egress proxy for tests: counts CONNECTs and remembers their targets, can
// require Basic credentials (407 without or with wrong ones) or refuse every CONNECT with a
// given status, and relays bytes both ways once the tunnel is open. Every target is reached at
// 127.0.0.1:<its port> whatever its host, so a test can name a provider "provider.test" that
// only the proxy "resolves". A LoopbackServer: blocking sockets, a thread per connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/loopback_server.h"

namespace sluice::test {

struct ConnectProxyOptions {
  std::string required_credentials;  // "user:password"; empty: no authentication
  int refuse_status = 0;             // 403, 407...: answer every CONNECT with it
  bool never_answer = false;         // read the CONNECT, then say nothing (a wedged proxy)
};

class ConnectProxy {
 public:
  explicit ConnectProxy(ConnectProxyOptions options = {});
  ~ConnectProxy();
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;

  bool ok() const { return server_ && server_->ok(); }
  uint16_t port() const { return server_ ? server_->port() : 0; }
  std::string url() const;  // "http://127.0.0.1:<port>"
  // Every CONNECT received (tunnelled or refused), in order: its target ("host:port").
  std::vector<std::string> targets() const;
  int connects() const;
  int tunnels() const { return tunnels_.load(); }  // CONNECTs answered 200

 private:
  void serve(int fd);
  int answer(int fd, const std::string& head, size_t end, const std::string& target);

  ConnectProxyOptions options_;
  std::atomic<int> tunnels_{0};
  mutable std::mutex mu_;
  std::vector<std::string> targets_;        // guarded by mu_
  std::unique_ptr<LoopbackServer> server_;  // last: serves with the state above
};

}  // namespace sluice::test
