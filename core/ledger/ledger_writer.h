// LedgerWriter: the one writer of the spend ledger (DESIGN §3). Workers hand it finished rows
// with enqueue(); its own thread writes them to SQLite in batches.
//
// Request path rule: enqueue() never waits for I/O. It takes the queue mutex for one push
// (the writer thread holds that mutex only to swap the queue out, never across SQLite), and
// when the queue is full it drops the row and counts it rather than wait.
//
// Batches: the first row after an idle spell wakes the writer thread; it waits one
// flush_interval (state.flush_interval, default 50ms) for the batch to collect and writes
// everything queued in ONE transaction through prepared INSERTs, and so on while rows keep
// coming. An idle ledger's thread sleeps until the next row: no periodic wake-ups. So a row is on
// disk at most about one flush interval after its request ended, and a kill -9 loses at most
// the rows of the last interval (commits use WAL with synchronous=NORMAL: a committed batch
// survives the process dying; only a power loss can undo the last ones).
//
// When SQLite fails (disk full — SQLITE_FULL —, a file-size limit or an I/O error —
// SQLITE_IOERR —, another connection holds the lock past busy_timeout) the batch is rolled
// back and KEPT, in front of what arrives next; one warning is logged when the outage starts
// and one info line when writing resumes, and the failed attempts are counted. A disk error
// is retried every retry_backoff (1 s) rather than every flush interval, since each attempt
// binds every kept row again (up to max_queued_rows of them); a lock, which already waited
// busy_timeout, at the next interval. Kept rows count against max_queued_rows, so a disk that
// stays full ends in dropped rows (logged when the drops start and when they stop), never in
// unbounded memory or a blocked worker. Budgets do not wait for the file: spend is charged in
// memory (state/spend_account.h) and the ledger only records it.
//
// stop() (SIGTERM/SIGINT, after the workers finished their requests) writes what is left,
// retrying failures for up to stop_timeout, then closes the file. Rows still unwritten then
// are dropped, counted and logged.
//
// Metric: sluice_ledger_rows_total{result} —
//   written — rows committed to the file;
//   failed  — rows in a batch whose write failed (kept and retried: one row may count here
//             several times; every row ends as written or dropped);
//   dropped — rows refused because the queue was full, or unwritten when stop() gave up.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/ledger/ledger_row.h"
#include "core/ledger/sqlite_handle.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus
namespace sluice::metrics {
class Metrics;
}

namespace sluice::ledger {

class LedgerWriter {
 public:
  struct Options {
    std::string path;  // the SQLite file; created when missing (its directory must exist)
    std::chrono::milliseconds flush_interval{50};
    // While writes fail: the pause before the next attempt (never shorter than flush_interval).
    std::chrono::milliseconds retry_backoff{1'000};
    // Rows waiting (queued + kept after a failed write). 100k rows are ~30 MB at most (a row
    // is ~200 bytes + its strings) and, at 2k requests/s, 50 s of a stuck disk.
    size_t max_queued_rows = 100'000;
    std::chrono::milliseconds stop_timeout{5'000};  // how long stop() keeps retrying
    // How long one write waits for another connection's lock before it counts as failed.
    std::chrono::milliseconds busy_timeout{1'000};
    metrics::Metrics* metrics = nullptr;  // null: metrics::Metrics::process()
    // state.retention: rows older than this are rolled up into daily aggregates
    // (ledger_retention.h); 0 keeps every row.
    std::chrono::milliseconds retention{0};
    // The wall clock the retention's cutoff is read with (Unix ms); tests set their own.
    int64_t (*now_ms)() = nullptr;  // null: the system clock
  };

  struct Stats {
    uint64_t written = 0;       // rows committed
    uint64_t failed = 0;        // rows of failed write attempts (see the metric above)
    uint64_t dropped = 0;       // rows lost: queue full, or left at stop()
    uint64_t batches = 0;       // transactions committed
    uint64_t write_errors = 0;  // failed write attempts (batches)
    size_t waiting = 0;         // rows queued or kept for a retry
    uint64_t wakeups = 0;       // flush intervals the writer thread woke for
    uint64_t rolled_up = 0;     // rows rolled up into daily aggregates (and deleted)
    int64_t rows = 0;           // rows in the file (requests table)
  };

  // Opens (creating when new, migrating an older schema in place and logging it) the ledger on
  // the calling thread — start-up, before the workers run — and starts the writer thread.
  // nullptr and *error when the file cannot be opened, is not a sluice ledger or could not be
  // migrated (see ledger_schema.h).
  static std::unique_ptr<LedgerWriter> open(Options options, std::string* error);
  ~LedgerWriter();  // stop()
  LedgerWriter(const LedgerWriter&) = delete;
  LedgerWriter& operator=(const LedgerWriter&) = delete;

  // Any thread. False when the row was dropped (queue full, or stop() began).
  bool enqueue(LedgerRow&& row);

  // Writes everything left (bounded by stop_timeout) and closes the file. Idempotent; call
  // it once nothing enqueues any more.
  void stop();

  const std::string& path() const { return options_.path; }
  Stats stats() const;

  // Test hook: runs `sql` on the writer's own connection between two batches, e.g.
  // "PRAGMA max_page_count = N" to make the disk look full. False (and why) on an error.
  bool exec_on_writer_connection_for_test(const std::string& sql, std::string* error);

 private:
  explicit LedgerWriter(Options options);
  void run();
  // Sleeps until there is work (see the class comment); false once stop() began.
  bool wait_for_work();
  // Moves the queue into pending_; returns false once stop() began.
  bool take_queued(std::vector<LedgerRow>& incoming);
  // One transaction for all of pending_; on success pending_ is emptied.
  bool write_pending(std::string* error);
  void after_write(bool ok, size_t rows, const std::string& error);
  // Logs the start of a burst of drops and, once it ends (or at `final`), how many.
  void report_drops(bool final);
  void drain();
  // Retention: one batch when due (a minute after the last check, or at once while a backlog
  // of old rows remains), then the gauges.
  void maybe_roll_up();
  void update_gauges();

  Options options_;
  SqliteDb db_;  // writer thread only (and the test hook, under db_mutex_)
  // Rows go in through two statements prepared once: an INSERT of kRowsPerInsert rows for
  // whole groups of a batch, and a one-row INSERT for the rest. One statement per row spent
  // ~10% of the writer's CPU starting and ending statements (bench_micro BM_LedgerWriterCpu).
  static constexpr size_t kRowsPerInsert = 32;
  SqliteStatement insert_one_;
  SqliteStatement insert_many_;
  std::mutex db_mutex_;  // the connection: writer thread vs the test hook
  std::thread thread_;

  mutable std::mutex mutex_;      // guards the five fields below; never held across SQLite
  std::condition_variable wake_;  // enqueue() wakes an idle writer; stop() any writer
  std::vector<LedgerRow> queue_;  // enqueued, not yet taken by the writer
  size_t pending_size_ = 0;       // pending_.size(), for the bound
  bool stopping_ = false;
  bool idle_ = false;  // the writer sleeps until the next row (enqueue() signals it)

  std::vector<LedgerRow> pending_;  // writer thread: taken, not yet committed (kept on failure)
  bool stopped_ = false;            // stop() ran (caller's thread)

  std::atomic<uint64_t> written_{0}, failed_{0}, dropped_{0}, batches_{0}, write_errors_{0},
      wakeups_{0};
  prometheus::Counter* written_metric_;
  prometheus::Counter* failed_metric_;
  prometheus::Counter* dropped_metric_;
  prometheus::Gauge* bytes_gauge_;
  prometheus::Gauge* rows_gauge_;

  // Writer thread (after open()): retention.
  bool rollup_backlog_ = false;  // the last batch was full: old rows remain
  std::chrono::steady_clock::time_point next_rollup_check_{};
  std::atomic<int64_t> rows_{0};
  std::atomic<uint64_t> rolled_up_{0};

  // Writer thread: the outage being reported (one warning at its start, one info at its end).
  bool failing_ = false;          // the last write attempt failed
  bool retry_slowly_ = false;     // ... because of the disk: retry after retry_backoff
  int last_rc_ = SQLITE_OK;       // SQLite's answer to the last failed write
  uint64_t outage_failures_ = 0;  // failed attempts since writing last succeeded
  std::chrono::steady_clock::time_point failing_since_;
  uint64_t drops_seen_ = 0;   // dropped_ at the last report_drops()
  uint64_t burst_start_ = 0;  // dropped_ when the current burst began
  bool dropping_ = false;     // a burst of drops is under way
};

}  // namespace sluice::ledger
