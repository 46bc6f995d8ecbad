// Upstream: what sluice knows of one upstream MCP server (a `tools:` entry of type mcp) —
// where it is, the session held with it, the last tool list it gave — shared by the three
// parties that use it, each on its own thread:
//   - its UpstreamKeeper (upstream_keeper.h), on the upstream thread: fetches the list,
//     publishes it, keeps the session and the notification stream;
//   - the tools/call of every worker (core/tools' mcp executor): read the session, renew it
//     when the server dropped it, and report a notifications/tools/list_changed they saw;
//   - the snapshots' tool sources (core/tools), which subscribe to the list and turn each one
//     into the tools agents see.
// It lives as long as any of them holds it: a reload that keeps the entry keeps it (the
// registry hands the same one to the new snapshot), and a call in flight when a reload drops
// the entry still has its endpoint and session.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/mcp/mcp_client_call.h"
#include "core/mcp/mcp_client_results.h"
#include "core/mcp/mcp_client_session.h"

namespace sluice::mcp {

// One published list. Immutable.
struct UpstreamToolList {
  uint64_t version = 0;  // 0: nothing fetched yet (the list is empty)
  std::vector<UpstreamTool> tools;
};

// Receives each new list. Runs on the thread that published it (the upstream thread), or in
// subscribe() for the current list. Must not subscribe or unsubscribe from inside.
class UpstreamListener {
 public:
  virtual ~UpstreamListener() = default;
  virtual void on_upstream_tools(const std::shared_ptr<const UpstreamToolList>& list) = 0;
};

class Upstream {
 public:
  explicit Upstream(McpEndpoint endpoint);
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  const McpEndpoint& endpoint() const { return *endpoint_; }
  const std::shared_ptr<const McpEndpoint>& endpoint_ptr() const { return endpoint_; }
  const std::shared_ptr<SessionStore>& sessions() const { return sessions_; }

  // The last published list (version 0 and empty until the first fetch succeeded). Never null.
  std::shared_ptr<const UpstreamToolList> tools() const;
  // The keeper's: makes `tools` the list when it differs from the current one (then listeners
  // hear of it, and the version grows); false when it was the same.
  bool publish(std::vector<UpstreamTool> tools);

  // Adds a listener and hands it the current list at once (when one was fetched).
  void subscribe(UpstreamListener* listener);
  void unsubscribe(UpstreamListener* listener);

  // Anyone: the list may be stale (a worker saw notifications/tools/list_changed): the keeper
  // fetches it again soon. Cheap; many requests before the keeper wakes collapse into one.
  void request_refresh();
  // The keeper's: whether a refresh was requested since the last call (clears the request).
  bool take_refresh_request();
  // The registry's: how request_refresh() wakes the upstream thread.
  void set_wake(std::function<void()> wake);

  // What the keeper last reported, for logs, /status and tests.
  struct Health {
    const char* state = "connecting";  // UpstreamKeeper::to_string(state)
    std::string last_error;            // "" after a success
    uint64_t fetches = 0;              // lists fetched successfully
    uint64_t failures = 0;             // fetches that failed
  };
  Health health() const;
  void set_health(Health health);

 private:
  const std::shared_ptr<const McpEndpoint> endpoint_;
  const std::shared_ptr<SessionStore> sessions_;

  mutable std::mutex mutex_;  // guards the fields below (not the listeners' work)
  std::shared_ptr<const UpstreamToolList> tools_;
  std::function<void()> wake_;
  Health health_;

  std::mutex listeners_mutex_;  // held while listeners run: (un)subscribe waits for them
  std::vector<UpstreamListener*> listeners_;

  std::atomic<bool> refresh_requested_{false};
};

}  // namespace sluice::mcp
