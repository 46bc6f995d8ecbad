// Worker: one thread, one libuv loop (DESIGN §2). Owns its SO_REUSEPORT listener(s), its
// downstream connections, one provider backend (upstream pool) per provider, the HttpCaller of
// its plugins' outgoing calls, and its shares of metrics and access log. Nothing here is shared
// with other workers except through the thread-safe hand-offs named below (drain request,
// snapshot publish).
//
// Reload (issue 4): a published snapshot is adopted on the worker's own loop; new requests pin
// it, requests in flight keep theirs. Backends are keyed by the provider's settings fingerprint
// (reload_fingerprint.h), so a reload that leaves a provider unchanged keeps its warm pool. A
// backend whose fingerprint the new snapshot lacks is RETIRED: it keeps serving the older
// snapshots' requests, and a 1 s timer shuts it down once every snapshot older than the one that
// retired it has no user left (the worker's own shared_ptr is the last: use_count() == 1).
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/filter/snapshot.h"
#include "core/filter/worker_context.h"
#include "core/log/request_record.h"
#include "core/providers/backend.h"

namespace sluice::metrics {
class RequestMetrics;
}
namespace sluice::plugin {
class HttpCaller;
class WorkerMailbox;
}  // namespace sluice::plugin
namespace sluice::log {
class AccessLogBuffer;
class AccessLog;
}  // namespace sluice::log
namespace sluice::ledger {
class LedgerWriter;
struct LedgerRow;
}  // namespace sluice::ledger

namespace sluice::fleet {
class FleetProcess;
class FleetWorker;
}  // namespace sluice::fleet

namespace sluice::server {

class DownstreamConnection;
class RequestSlotPool;

// Process-wide services a worker reports to (owned by the Server, outlive the workers).
struct WorkerServices {
  log::AccessLog* access_log = nullptr;    // may be null (off)
  ledger::LedgerWriter* ledger = nullptr;  // may be null (state.ledger: ""); thread-safe enqueue
  fleet::FleetProcess* fleet = nullptr;    // may be null (no state.redis); each worker joins it
  void (*on_exit)(void* arg) = nullptr;    // called on the worker thread after its loop closed
  void* on_exit_arg = nullptr;
};

class Worker {
 public:
  // Running  — accepting and serving.
  // Draining — listeners closed; existing connections finish (keep-alive ones are told to
  //            close); the drain timer bounds how long.
  // Stopped  — every handle closed; the loop has returned.
  enum class State : uint8_t { Running, Draining, Stopped };

  // One listening socket of this worker and the `listen` address (HostPort::to_string()) it
  // was opened for; the address is how a reload tells kept listeners from changed ones.
  struct ListenFd {
    std::string address;
    int fd = -1;
  };

  Worker(unsigned index, std::shared_ptr<const filter::ConfigSnapshot> snapshot,
         std::vector<ListenFd> listen_fds, WorkerServices services);
  ~Worker();

  void start();                                                          // spawns the thread
  void request_drain();                                                  // any thread
  void publish(std::shared_ptr<const filter::ConfigSnapshot> snapshot);  // any thread
  // A reload changed `listen` (any thread): the worker starts accepting on `added` (already
  // bound and listening, opened by the main thread) and then closes its listeners for
  // `removed` addresses. Connections accepted on a removed listener carry on.
  void publish_listeners(std::vector<ListenFd> added, std::vector<std::string> removed);
  void join();

  // --- worker thread only ---------------------------------------------------------------
  uv_loop_t* loop() { return &loop_; }
  unsigned index() const { return index_; }
  State state() const { return state_; }
  char* read_buffer() { return read_buffer_.get(); }
  static constexpr size_t kReadBufferSize = size_t{64} * 1024;
  providers::ProviderBackend* backend_for(const config::Provider& provider);
  // What the filters of this worker's requests may use of it (loop, index, plugin HTTP).
  filter::WorkerContext* filter_context() { return &filter_context_; }
  void record(const log::RequestRecord& record);
  // The spend ledger (ledger_row.h says which requests get a row). Never waits for I/O.
  bool ledger_enabled() const { return services_.ledger != nullptr; }
  void record_ledger(ledger::LedgerRow&& row);
  void request_started();
  void request_finished();
  // Per-attempt accounting (the request's final attempt is counted by record()).
  void count_fallback(std::string_view from, std::string_view to);
  void count_failed_attempt(std::string_view provider, std::string_view error);
  void next_request_id(std::string& out);
  // The snapshot new requests use (a reload replaces it; in-flight requests keep theirs).
  const std::shared_ptr<const filter::ConfigSnapshot>& snapshot() const { return current_; }
  // A request refused before it reached a session (bad framing, limits, timeouts).
  void count_rejected(int status);
  void connection_closed(DownstreamConnection* connection);
  // Where connections take the slot of a request in progress (request_slot.h).
  RequestSlotPool& request_slots() { return *request_slots_; }
  // Its counters, for sluice_request_slots: the only members of the worker that any thread
  // may read (relaxed atomics).
  size_t request_slots_in_use() const;
  size_t request_slots_free() const;

 private:
  static void on_connection(uv_stream_t* server, int status);
  static void on_async(uv_async_t* handle);
  static void on_drain_timeout(uv_timer_t* timer);
  static void on_handle_closed(uv_handle_t* handle);
  static void on_retire_tick(uv_timer_t* timer);
  void run();
  void adopt(std::shared_ptr<const filter::ConfigSnapshot> next);
  void collect_retired();
  void open_listener(const ListenFd& listen_fd);
  void apply_listener_changes();
  void start_retire_timer();
  static constexpr uint64_t kRetireCheckMs = 1000;
  void begin_drain();
  void maybe_finish_drain();
  void close_everything();

  unsigned index_;
  uv_loop_t loop_;
  std::thread thread_;
  State state_ = State::Running;
  std::vector<ListenFd> listen_fds_;  // until run() opens them
  struct Listener {
    std::string address;
    std::unique_ptr<uv_tcp_t> tcp;
  };
  std::vector<Listener> listeners_;
  std::vector<std::unique_ptr<uv_tcp_t>> closed_listeners_;  // closing or closed; freed at exit
  std::vector<ListenFd> added_listeners_;                    // guarded by publish_mutex_
  std::vector<std::string> removed_listeners_;               // guarded by publish_mutex_
  uv_async_t async_;                                         // wakes the loop for drain / publish
  uv_timer_t drain_timer_;
  uv_timer_t flush_timer_;  // access log flush
  std::atomic<bool> drain_requested_{false};
  std::mutex publish_mutex_;
  std::shared_ptr<const filter::ConfigSnapshot> published_;  // guarded by publish_mutex_
  std::shared_ptr<const filter::ConfigSnapshot> current_;    // worker thread only
  std::unique_ptr<char[]> read_buffer_;
  std::unordered_set<DownstreamConnection*> connections_;
  // What connections with a request in progress hold (idle ones hold none). Its free slots
  // close in close_everything(); destroyed with the worker once all of them are gone.
  std::unique_ptr<RequestSlotPool> request_slots_;
  // Snapshots this worker replaced that its requests (or connections) may still use; dropped
  // by the retire timer once the worker holds the last reference. current_ and these are
  // pin_for_worker() pointers (worker.cc): their use_count() counts this worker's users only.
  std::vector<std::shared_ptr<const filter::ConfigSnapshot>> previous_;
  // Backend lifecycle: Active (current snapshot has its fingerprint) → Retired (retired_at =
  // generation of the snapshot that dropped it; never handed to a new provider object again)
  // → ShuttingDown (moved to retiring_ once no snapshot older than retired_at is alive) → Done
  // (its shutdown callback ran; destroyed on the next tick, never inside its own callback).
  struct BackendEntry {
    std::string fingerprint;
    std::string name;
    std::unique_ptr<providers::ProviderBackend> backend;
    uint64_t retired_at = 0;  // 0 = active
    bool done = false;        // retiring_ only: shutdown finished
  };
  std::vector<std::unique_ptr<BackendEntry>> backends_;
  std::vector<std::unique_ptr<BackendEntry>> retiring_;
  // Which backend a provider object (of a live snapshot) uses: the per-attempt lookup is a
  // pointer compare, the fingerprint is computed once per provider object.
  std::vector<std::pair<const config::Provider*, providers::ProviderBackend*>> provider_map_;
  uv_timer_t retire_timer_;
  bool retire_timer_running_ = false;
  size_t backends_shutting_down_ = 0;
  int open_handles_ = 0;
  WorkerServices services_;
  std::unique_ptr<metrics::RequestMetrics> metrics_;
  // Plugins' outgoing HTTP calls on this loop (filter_context_.http); shut down by
  // close_everything(), destroyed with the worker after its loop closed.
  std::unique_ptr<plugin::HttpCaller> http_caller_;
  // Plugins' threads hand finished tool calls back here (filter_context_.mailbox); shut down by
  // close_everything() once the calls it still owes arrived (bounded), destroyed with the worker.
  std::unique_ptr<plugin::WorkerMailbox> mailbox_;
  // This worker's membership of the fleet (state.redis); made on the worker thread in run().
  std::unique_ptr<fleet::FleetWorker> fleet_;
  filter::WorkerContext filter_context_;
  std::unique_ptr<log::AccessLogBuffer> access_log_;
  uint64_t request_counter_ = 0;
  uint64_t id_seed_ = 0;
  uint32_t max_connections_ = 0;  // this worker's share of limits.max_connections
};

}  // namespace sluice::server
