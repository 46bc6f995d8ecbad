#include "core/mcp/upstream.h"

#include <algorithm>

namespace sluice::mcp {

Upstream::Upstream(McpEndpoint endpoint)
    : endpoint_(std::make_shared<const McpEndpoint>(std::move(endpoint))),
      sessions_(std::make_shared<SessionStore>()),
      tools_(std::make_shared<const UpstreamToolList>()) {}

std::shared_ptr<const UpstreamToolList> Upstream::tools() const {
  std::lock_guard lock(mutex_);
  return tools_;
}

bool Upstream::publish(std::vector<UpstreamTool> tools) {
  // One publisher (the keeper): the version read here cannot change under it. Listeners run
  // under listeners_mutex_ so that a source unsubscribing waits for a build using it.
  std::lock_guard listeners_lock(listeners_mutex_);
  std::shared_ptr<const UpstreamToolList> list;
  {
    std::lock_guard lock(mutex_);
    if (tools_->version != 0 && tools_->tools == tools) return false;
    auto next = std::make_shared<UpstreamToolList>();
    next->version = tools_->version + 1;
    next->tools = std::move(tools);
    tools_ = next;
    list = std::move(next);
  }
  for (UpstreamListener* listener : listeners_) listener->on_upstream_tools(list);
  return true;
}

void Upstream::subscribe(UpstreamListener* listener) {
  std::lock_guard listeners_lock(listeners_mutex_);
  listeners_.push_back(listener);
  std::shared_ptr<const UpstreamToolList> list = tools();
  if (list->version != 0) listener->on_upstream_tools(list);
}

void Upstream::unsubscribe(UpstreamListener* listener) {
  std::lock_guard listeners_lock(listeners_mutex_);
  std::erase(listeners_, listener);
}

void Upstream::request_refresh() {
  if (refresh_requested_.exchange(true, std::memory_order_acq_rel)) return;  // already asked
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    wake = wake_;
  }
  if (wake) wake();
}

bool Upstream::take_refresh_request() {
  return refresh_requested_.exchange(false, std::memory_order_acq_rel);
}

void Upstream::set_wake(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
}

Upstream::Health Upstream::health() const {
  std::lock_guard lock(mutex_);
  return health_;
}

void Upstream::set_health(Health health) {
  std::lock_guard lock(mutex_);
  health_ = std::move(health);
}

}  // namespace sluice::mcp
