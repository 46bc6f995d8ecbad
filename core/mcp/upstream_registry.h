// UpstreamRegistry: every upstream MCP server of the process, keyed by identity — the tools:
// entry's name, url and headers — so that what sluice knows of a server (its session, its tool
// list) survives reloads that keep its entry as it was (DESIGN §3: state outside the snapshot,
// keyed by identity), while a changed url or token means a new upstream.
//
// Who owns what:
//   - a snapshot's tool source holds an UpstreamLease (acquire()); the Upstream it leads to is
//     shared with the calls in flight and the keeper;
//   - the registry's thread (the "upstream thread": one libuv loop and one HttpCaller for the
//     whole process, like health checks — per server, not per worker) runs one UpstreamKeeper per
//     leased Upstream;
//   - when the last lease of an Upstream goes (no snapshot uses the entry any more), its keeper
//     is retired: its list call is cancelled, its stream closed, its session DELETEd. Calls in
//     flight on workers keep their Upstream and complete normally.
// The thread starts with the first acquire() and leaves its loop when it has no keeper left
// (the next acquire() starts a new one), or at stop().
//
// Threading: acquire() and stop() from one thread at a time (the server's main thread, where
// snapshots are built); a lease may be released on any thread (a worker ending the last request
// of an old snapshot): that only queues the retirement and wakes the upstream thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/mcp/upstream.h"
#include "core/mcp/upstream_keeper.h"

namespace sluice::mcp {

class UpstreamLease;

class UpstreamRegistry {
 public:
  explicit UpstreamRegistry(KeeperOptions options = {});
  ~UpstreamRegistry();  // stop()
  UpstreamRegistry(const UpstreamRegistry&) = delete;
  UpstreamRegistry& operator=(const UpstreamRegistry&) = delete;

  // The registry of the running process (the one core/tools' mcp sources use).
  static UpstreamRegistry& process();

  // The lease of the upstream `endpoint` names: the live one of the same identity, or a new one
  // whose keeper starts fetching its list at once (the call does not wait for it). Never null:
  // after stop() (shutdown; `sluice validate`, which contacts no server), or when the upstream
  // thread cannot be started (logged), the lease is inert — an upstream never fetched, with no
  // tools.
  std::shared_ptr<UpstreamLease> acquire(const McpEndpoint& endpoint);

  // Retires every keeper (their sessions are DELETEd: up to 2s) and joins the thread, waiting at
  // most a few seconds (a thread that does not finish by then is left behind, logged). Later
  // acquire() calls hand out inert leases. Idempotent.
  void stop();

  // Keepers alive on the upstream thread (retired ones still closing included); 0 when the
  // thread is not running. For tests.
  size_t keepers() const;
  bool thread_running() const;

  // Shared by the registry, its leases and the upstream thread (the thread keeps it alive, so a
  // thread left behind by stop() never touches freed memory).
  struct Shared;

 private:
  // Queues `upstream` for a keeper on the running thread, or starts a thread that has it queued
  // before it runs. False when no thread can be started (logged). Under mutex_.
  bool hand_to_thread(const std::shared_ptr<Upstream>& upstream);

  const KeeperOptions options_;
  mutable std::mutex mutex_;                                    // guards the fields below
  std::map<std::string, std::weak_ptr<UpstreamLease>> leases_;  // by identity
  std::shared_ptr<Shared> shared_;  // of the running (or last) thread; null before the first
  std::thread thread_;
  bool stopped_ = false;
};

// What a snapshot holds to keep an upstream alive. Releasing the last lease of an Upstream
// retires its keeper.
class UpstreamLease {
 public:
  // `by` null: an inert lease (no keeper to retire).
  UpstreamLease(std::shared_ptr<Upstream> upstream, std::shared_ptr<UpstreamRegistry::Shared> by);
  ~UpstreamLease();
  UpstreamLease(const UpstreamLease&) = delete;
  UpstreamLease& operator=(const UpstreamLease&) = delete;

  const std::shared_ptr<Upstream>& upstream() const { return upstream_; }

 private:
  std::shared_ptr<Upstream> upstream_;
  std::shared_ptr<UpstreamRegistry::Shared> shared_;
};

}  // namespace sluice::mcp
