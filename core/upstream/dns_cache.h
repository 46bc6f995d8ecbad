// DnsCache: the addresses of one upstream host, resolved with uv_getaddrinfo (on libuv's
// thread pool, never blocking the worker loop) and kept for a TTL. One per UpstreamPool, so
// one host. IP literals never touch DNS. Concurrent lookups share one resolution.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "core/upstream/intrusive_list.h"

namespace sluice::upstream {

// Someone waiting for a resolution (a connection in state Resolving).
class DnsWaiter : public ListNode<DnsWaiter> {
 public:
  // status: 0 (addrs non-empty) or a negative libuv error (UV_EAI_*). Called from the loop,
  // never from inside DnsCache::wait(). `addrs` is valid during the call only.
  virtual void on_resolved(int status, std::span<const sockaddr_storage> addrs) = 0;

 protected:
  ~DnsWaiter() = default;

 private:
  friend class DnsCache;
  IntrusiveList<DnsWaiter>* dns_list_ = nullptr;  // the DnsCache list holding it, if any
};

class DnsCache {
 public:
  static constexpr std::chrono::milliseconds kTtl{30'000};

  DnsCache(uv_loop_t* loop, std::string host, uint16_t port, std::chrono::milliseconds ttl = kTtl);
  ~DnsCache();  // only when !busy()
  DnsCache(const DnsCache&) = delete;
  DnsCache& operator=(const DnsCache&) = delete;

  // Fresh addresses (an IP literal, or a resolution younger than the TTL); empty on a miss.
  std::span<const sockaddr_storage> cached() const;
  // After a miss: `w` is called back once the running (or a newly started) resolution ends.
  // Returns 0, or a libuv error if a resolution could not be started (no callback then).
  int wait(DnsWaiter* w);
  // `w` no longer wants its callback (its connection is closing). No-op if not waiting.
  void cancel(DnsWaiter* w);

  // Stops the running resolution (if any). `on_idle(arg)` is called once no request is in
  // flight any more (at once if none is); after that the cache may be destroyed.
  void shutdown(void (*on_idle)(void* arg), void* arg);
  bool busy() const { return resolving_; }

  const std::string& host() const { return host_; }
  bool is_ip_literal() const { return literal_; }

 private:
  static void on_getaddrinfo(uv_getaddrinfo_t* req, int status, addrinfo* res);
  void finish(int status, addrinfo* res);

  uv_loop_t* loop_;
  std::string host_;
  std::string port_;  // as text: getaddrinfo's service argument
  std::chrono::milliseconds ttl_;
  bool literal_ = false;    // host_ is an IP address: addrs_ never expires
  bool resolving_ = false;  // req_ is in flight
  bool shutting_down_ = false;
  uint64_t resolved_at_ms_ = 0;          // uv_now() when addrs_ were filled
  std::vector<sockaddr_storage> addrs_;  // in getaddrinfo's order; empty = never resolved
  uv_getaddrinfo_t req_{};
  IntrusiveList<DnsWaiter> waiters_;  // for the resolution in flight
  IntrusiveList<DnsWaiter> round_;    // being called back with the result that just came
  void (*on_idle_)(void*) = nullptr;
  void* on_idle_arg_ = nullptr;
};

}  // namespace sluice::upstream
