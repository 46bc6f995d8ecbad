#include "core/upstream/dns_cache.h"

#include <netdb.h>

#include <cassert>
#include <cstring>

namespace sluice::upstream {

DnsCache::DnsCache(uv_loop_t* loop, std::string host, uint16_t port, std::chrono::milliseconds ttl)
    : loop_(loop), host_(std::move(host)), port_(std::to_string(port)), ttl_(ttl) {
  req_.data = this;
  sockaddr_storage ss{};
  if (uv_ip4_addr(host_.c_str(), port, reinterpret_cast<sockaddr_in*>(&ss)) == 0 ||
      uv_ip6_addr(host_.c_str(), port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0) {
    literal_ = true;
    addrs_.push_back(ss);
  }
}

DnsCache::~DnsCache() {
  assert(!resolving_);
}

std::span<const sockaddr_storage> DnsCache::cached() const {
  if (literal_) return addrs_;
  if (addrs_.empty() || resolving_) return {};
  if (uv_now(loop_) - resolved_at_ms_ >= static_cast<uint64_t>(ttl_.count())) return {};
  return addrs_;
}

int DnsCache::wait(DnsWaiter* w) {
  if (shutting_down_) return UV_ECANCELED;
  if (!resolving_) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    int r = uv_getaddrinfo(loop_, &req_, &DnsCache::on_getaddrinfo, host_.c_str(), port_.c_str(),
                           &hints);
    if (r < 0) return r;
    resolving_ = true;
  }
  waiters_.push_back(w);
  w->dns_list_ = &waiters_;
  return 0;
}

void DnsCache::cancel(DnsWaiter* w) {
  if (!w->dns_list_) return;
  w->dns_list_->remove(w);
  w->dns_list_ = nullptr;
}

void DnsCache::shutdown(void (*on_idle)(void*), void* arg) {
  shutting_down_ = true;
  if (!resolving_) {
    on_idle(arg);
    return;
  }
  on_idle_ = on_idle;
  on_idle_arg_ = arg;
  // Fails with UV_EBUSY when a pool thread already runs the lookup; the callback then comes
  // when it returns (getaddrinfo has its own timeouts).
  uv_cancel(reinterpret_cast<uv_req_t*>(&req_));
}

void DnsCache::on_getaddrinfo(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  static_cast<DnsCache*>(req->data)->finish(status, res);
}

void DnsCache::finish(int status, addrinfo* res) {
  resolving_ = false;
  if (status == 0) {
    std::vector<sockaddr_storage> fresh;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      sockaddr_storage ss{};
      std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
      fresh.push_back(ss);
    }
    if (fresh.empty()) {
      status = UV_EAI_NODATA;
    } else {
      addrs_ = std::move(fresh);
      resolved_at_ms_ = uv_now(loop_);
    }
  }
  uv_freeaddrinfo(res);
  // A failed refresh keeps serving the addresses we had (stale beats none); they stay expired,
  // so the next lookup tries DNS again.
  if (status < 0 && !addrs_.empty() && status != UV_EAI_CANCELED) status = 0;

  if (shutting_down_) {
    // Waiters are connections, all closed (and so cancelled) before the pool shuts DNS down.
    while (DnsWaiter* w = waiters_.pop_front()) {
      w->dns_list_ = nullptr;
      w->on_resolved(UV_ECANCELED, {});
    }
    if (on_idle_) on_idle_(on_idle_arg_);
    return;
  }
  // Each callback may close connections (cancelling other waiters, wherever they are) or ask
  // for a new lookup. A waiter added during these callbacks waits for the next resolution
  // (wait() started one) instead of joining this round: a failure answered at once could
  // otherwise loop (fail → retry → fail) inside this one callback.
  while (DnsWaiter* w = waiters_.pop_front()) {
    round_.push_back(w);
    w->dns_list_ = &round_;
  }
  std::vector<sockaddr_storage> snapshot = addrs_;  // a callback may refresh addrs_
  while (DnsWaiter* w = round_.pop_front()) {
    w->dns_list_ = nullptr;
    w->on_resolved(status, status == 0 ? std::span<const sockaddr_storage>(snapshot)
                                       : std::span<const sockaddr_storage>());
  }
}

}  // namespace sluice::upstream
