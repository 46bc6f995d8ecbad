// An HTTP CONNECT egress proxy for tests: counts CONNECTs and remembers their targets, can
// require Basic credentials (407 without or with wrong ones) or refuse every CONNECT with a
// given status, and relays bytes both ways once the tunnel is open. Every target is reached at
// 127.0.0.1:<its port> whatever its host, so a test can name a provider "provider.test" that
// only the proxy "resolves". Blocking sockets, a thread per connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"
  // Every CONNECT received (tunnelled or refused), in order: its target ("host:port").
  std::vector<std::string> targets() const;
  int connects() const;
  int tunnels() const { return tunnels_.load(); }  // CONNECTs answered 200

 private:
  void accept_loop();
  void serve(int fd);
  int answer(int fd, const std::string& head, size_t end, const std::string& target);

  ConnectProxyOptions options_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> tunnels_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::string> targets_;  // guarded by mu_
  std::vector<std::thread> workers_;  // guarded by mu_
  std::vector<int> open_fds_;         // guarded by mu_
};

}  // namespace sluice::test
