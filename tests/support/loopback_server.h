// LoopbackServer: what the tests' small blocking servers (TlsFront, ConnectProxy) share — a
// listening socket on 127.0.0.1:0, an accept thread, and a thread per connection running the
// owner's `serve(fd)`. Sockets a connection opens (its backend) are registered with track(),
// so stop() can shut every one down and wake the threads blocked on them before joining.
// Blocking sockets, a thread per connection: simple, and plenty for tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sluice::test {

class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(int fd)> serve);
  // Listens and starts accepting; false when it could not listen. Separate from the
  // constructor so that `serve` may use the owner's pointer to this server from the start.
  bool start();
  ~LoopbackServer();  // stop()
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }

  // A socket a connection's thread opened: stop() shuts it down too.
  void track(int fd);
  // The end of a connection's thread: closes its sockets (-1 skipped) and forgets them.
  void close_fds(std::initializer_list<int> fds);
  // Stops accepting, shuts every open socket down and joins every thread. Idempotent. An owner
  // calls it first in its destructor, while the state `serve` uses (this server included) is
  // still there.
  void stop();

 private:
  void accept_loop();

  std::function<void(int)> serve_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;  // guarded by mu_
  std::vector<int> open_fds_;         // guarded by mu_
};

// A listening socket on 127.0.0.1:0 (returns the fd and sets `port`, or -1), and a blocking
// connect to 127.0.0.1:port (fd or -1).
int listen_loopback(uint16_t* port);
int connect_loopback(uint16_t port);

}  // namespace sluice::test
