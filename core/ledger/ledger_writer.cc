#include "core/ledger/ledger_writer.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <algorithm>
#include <iterator>

#include "core/ledger/ledger_retention.h"
#include "core/ledger/ledger_schema.h"
#include "core/log/log.h"
#include "core/log/writer_thread.h"
#include "core/metrics/metrics.h"

namespace sluice::ledger {
namespace {

// Row buffers larger than this are freed once empty (a burst's memory is not kept for ever).
constexpr size_t kKeptCapacity = 4096;

// The disk refuses the write (full, a file-size limit, an I/O error): worth a slower retry.
bool is_disk_error(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_FULL || primary == SQLITE_IOERR;
}

int64_t clamp_tokens(uint64_t tokens) {
  // SQLite integers are signed 64-bit; no real count comes near the limit.
  constexpr auto kMax = static_cast<uint64_t>(INT64_MAX);
  return static_cast<int64_t>(std::min(tokens, kMax));
}

// Binds the parameters of one row of an INSERT of several, keeping the first error. Strings are
// bound SQLITE_STATIC: the rows outlive the step.
class RowBinder {
 public:
  RowBinder(sqlite3_stmt* stmt, int row_in_statement)
      : stmt_(stmt), base_(row_in_statement * kInsertColumns) {}

  void text(int column, const std::string& value) {
    keep(sqlite3_bind_text(stmt_, base_ + column, value.data(), static_cast<int>(value.size()),
                           SQLITE_STATIC));
  }
  void integer(int column, int64_t value) {
    keep(sqlite3_bind_int64(stmt_, base_ + column, value));
  }
  void real(int column, double value) { keep(sqlite3_bind_double(stmt_, base_ + column, value)); }
  void null(int column) { keep(sqlite3_bind_null(stmt_, base_ + column)); }
  int result() const { return rc_; }

 private:
  void keep(int rc) {
    if (rc_ == SQLITE_OK) rc_ = rc;
  }
  sqlite3_stmt* stmt_;
  int base_;  // parameters before this row's; columns are 1-based
  int rc_ = SQLITE_OK;
};

// Binds row `r` as the `row_in_statement`-th (0-based) row of `stmt`.
int bind_row(sqlite3_stmt* stmt, int row_in_statement, const LedgerRow& r) {
  RowBinder b(stmt, row_in_statement);
  b.text(1, r.request_id);
  b.integer(2, r.time_unix_ms);
  b.text(3, r.agent);
  b.text(4, r.model);
  b.text(5, r.physical_model);
  b.text(6, r.provider);
  b.integer(7, r.status);
  b.integer(8, clamp_tokens(r.input_tokens));
  b.integer(9, clamp_tokens(r.output_tokens));
  b.integer(10, clamp_tokens(r.cached_tokens));
  b.integer(11, clamp_tokens(r.cache_write_tokens));
  b.real(12, r.cost_usd);
  b.integer(13, r.estimated ? 1 : 0);
  b.real(14, r.latency_s);
  if (r.ttft_s) {
    b.real(15, *r.ttft_s);
  } else {
    b.null(15);
  }
  b.integer(16, r.attempts);
  b.text(17, r.error_code);
  b.text(18, r.error);
  b.text(19, r.tool);
  return b.result();
}

}  // namespace

// Retention: old rows are looked for once a minute (at once while a backlog remains), rolled
// up this many per transaction — small enough that a batch of new rows never waits long for
// the write lock — and the pages they freed given back a batch's worth at a time.
constexpr std::chrono::seconds kRollupEvery{60};
constexpr size_t kRollupBatchRows = 2000;
constexpr size_t kVacuumPagesPerBatch = 256;

std::unique_ptr<LedgerWriter> LedgerWriter::open(Options options, std::string* error) {
  std::unique_ptr<LedgerWriter> writer(new LedgerWriter(std::move(options)));
  const std::string& path = writer->options_.path;
  std::string why;
  if (writer->db_.open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       &why) != SQLITE_OK) {
    *error = "cannot open the ledger " + path + ": " + why;
    return nullptr;
  }
  sqlite3_busy_timeout(writer->db_.get(), static_cast<int>(writer->options_.busy_timeout.count()));
  int64_t migrated_from = 0;
  if (!prepare_for_writing(writer->db_, &why, &migrated_from)) {
    *error = path + ": " + why;
    return nullptr;
  }
  if (migrated_from != 0) {
    log::info("ledger: " + path + " migrated from schema version " + std::to_string(migrated_from) +
              " to " + std::to_string(kLedgerSchemaVersion) +
              " (a sluice older than this one can no longer write it)");
  }
  if (writer->db_.prepare(insert_rows_sql(1), &writer->insert_one_, &why, /*persistent=*/true) !=
          SQLITE_OK ||
      writer->db_.prepare(insert_rows_sql(kRowsPerInsert), &writer->insert_many_, &why,
                          /*persistent=*/true) != SQLITE_OK) {
    *error = path + ": cannot prepare the insert: " + why;
    return nullptr;
  }
  int64_t rows = 0;
  writer->db_.query_int("SELECT count(*) FROM requests", &rows, &why);
  writer->rows_.store(rows, std::memory_order_relaxed);
  // Old rows may be waiting since the last run: look at once, on the writer thread.
  writer->rollup_backlog_ = writer->options_.retention.count() > 0;
  writer->update_gauges();
  writer->thread_ = std::thread([w = writer.get()] { w->run(); });
  return writer;
}

LedgerWriter::LedgerWriter(Options options) : options_(std::move(options)) {
  metrics::Metrics& m =
      options_.metrics != nullptr ? *options_.metrics : metrics::Metrics::process();
  written_metric_ = &m.ledger_rows_total.Add({{"result", "written"}});
  failed_metric_ = &m.ledger_rows_total.Add({{"result", "failed"}});
  dropped_metric_ = &m.ledger_rows_total.Add({{"result", "dropped"}});
  bytes_gauge_ = &m.ledger_bytes_family.Add({});
  rows_gauge_ = &m.ledger_rows_family.Add({});
}

void LedgerWriter::update_gauges() {
  bytes_gauge_->Set(static_cast<double>(ledger_bytes(db_)));
  rows_gauge_->Set(static_cast<double>(rows_.load(std::memory_order_relaxed)));
}

void LedgerWriter::maybe_roll_up() {
  if (options_.retention.count() <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (!rollup_backlog_ && now < next_rollup_check_) return;
  next_rollup_check_ = now + kRollupEvery;
  const int64_t wall_ms = options_.now_ms != nullptr
                              ? options_.now_ms()
                              : std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  size_t rolled = 0;
  std::string error;
  int rc = SQLITE_OK;
  {
    std::lock_guard db_lock(db_mutex_);
    rc = roll_up_batch(db_, wall_ms - options_.retention.count(), kRollupBatchRows,
                       kVacuumPagesPerBatch, &rolled, &error);
  }
  if (rc != SQLITE_OK) {
    // Rows stay as they are (nothing is lost); the next check tries again.
    rollup_backlog_ = false;
    log::warn("ledger: rolling up rows older than the retention failed (retried in a minute): " +
              error);
    return;
  }
  rollup_backlog_ = rolled == kRollupBatchRows;
  if (rolled > 0) {
    rows_.fetch_sub(static_cast<int64_t>(rolled), std::memory_order_relaxed);
    rolled_up_.fetch_add(rolled, std::memory_order_relaxed);
  }
  update_gauges();
}

LedgerWriter::~LedgerWriter() {
  stop();
}

bool LedgerWriter::enqueue(LedgerRow&& row) {
  bool queued = false, wake = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() + pending_size_ < options_.max_queued_rows) {
      wake = idle_ && queue_.empty();  // only the first row after an idle spell signals
      queue_.push_back(std::move(row));
      queued = true;
    }
  }
  if (wake) wake_.notify_one();
  if (queued) return true;
  // Counting only: the writer thread logs the burst (no stderr write on a worker).
  dropped_.fetch_add(1, std::memory_order_relaxed);
  dropped_metric_->Increment();
  return false;
}

void LedgerWriter::stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard db_lock(db_mutex_);
  insert_one_ = SqliteStatement();
  insert_many_ = SqliteStatement();
  db_.close();  // the last connection: SQLite checkpoints the WAL into the file
}

LedgerWriter::Stats LedgerWriter::stats() const {
  Stats s;
  s.written = written_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.write_errors = write_errors_.load(std::memory_order_relaxed);
  s.wakeups = wakeups_.load(std::memory_order_relaxed);
  s.rolled_up = rolled_up_.load(std::memory_order_relaxed);
  s.rows = rows_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  s.waiting = queue_.size() + pending_size_;
  return s;
}

bool LedgerWriter::exec_on_writer_connection_for_test(const std::string& sql, std::string* error) {
  std::lock_guard db_lock(db_mutex_);
  if (!db_) {
    *error = "the writer is stopped";
    return false;
  }
  return db_.exec(sql, error) == SQLITE_OK;
}

void LedgerWriter::run() {
  log::run_behind_workers();
  std::vector<LedgerRow> incoming;
  while (wait_for_work()) {
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    if (take_queued(incoming) && !pending_.empty()) {
      std::string error;
      const size_t rows = pending_.size();
      after_write(write_pending(&error), rows, error);
    }
    // After a burst, give the memory back: the queue reuses these buffers (they swap).
    if (pending_.empty() && pending_.capacity() > kKeptCapacity) {
      std::vector<LedgerRow>().swap(pending_);
    }
    if (incoming.capacity() > kKeptCapacity) std::vector<LedgerRow>().swap(incoming);
    report_drops(/*final=*/false);
    maybe_roll_up();
  }
  drain();
}

bool LedgerWriter::wait_for_work() {
  std::unique_lock lock(mutex_);
  // Idle — nothing queued, no failed batch to retry, no burst of drops still to summarise: sleep
  // until enqueue() signals a first row, so an idle sidecar's writer never wakes.
  if (queue_.empty() && pending_.empty() && !dropping_ && !rollup_backlog_) {
    idle_ = true;
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    idle_ = false;
  }
  // Then one flush interval, for the batch to collect — or, while writes fail, the retry
  // backoff: a full disk retried every 10 ms would rebind every kept row 100 times a second.
  // (A lock held elsewhere already waited busy_timeout: that retry stays at the interval.)
  const auto pause = failing_ && retry_slowly_
                         ? std::max(options_.flush_interval, options_.retry_backoff)
                         : options_.flush_interval;
  wake_.wait_for(lock, pause, [this] { return stopping_; });
  return !stopping_;
}

bool LedgerWriter::take_queued(std::vector<LedgerRow>& incoming) {
  bool running = true;
  {
    std::lock_guard lock(mutex_);
    incoming.swap(queue_);  // queue_ gets incoming's empty buffer (capacity kept)
    pending_size_ += incoming.size();
    running = !stopping_;
  }
  if (pending_.empty()) {
    pending_.swap(incoming);
  } else {  // a failed batch waits in front: keep the order rows arrived in
    pending_.insert(pending_.end(), std::make_move_iterator(incoming.begin()),
                    std::make_move_iterator(incoming.end()));
  }
  incoming.clear();
  return running;
}

bool LedgerWriter::write_pending(std::string* error) {
  std::lock_guard db_lock(db_mutex_);
  // IMMEDIATE takes the write lock up front: a lock held elsewhere shows here (after the busy
  // timeout), before any row is bound.
  if (const int begin = db_.exec("BEGIN IMMEDIATE", error); begin != SQLITE_OK) {
    last_rc_ = begin;
    return false;
  }
  // Whole groups of kRowsPerInsert through the multi-row statement, the rest one by one.
  int rc = SQLITE_OK;
  size_t next = 0;
  auto insert = [&](sqlite3_stmt* stmt, size_t rows) {
    for (size_t i = 0; i < rows && rc == SQLITE_OK; ++i) {
      rc = bind_row(stmt, static_cast<int>(i), pending_[next + i]);
    }
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
    next += rows;
  };
  while (rc == SQLITE_OK && pending_.size() - next >= kRowsPerInsert) {
    insert(insert_many_.get(), kRowsPerInsert);
  }
  while (rc == SQLITE_OK && next < pending_.size()) insert(insert_one_.get(), 1);
  if (rc == SQLITE_OK) rc = db_.exec("COMMIT", nullptr);
  // The bound strings belong to pending_'s rows: unbind before they may go.
  sqlite3_clear_bindings(insert_many_.get());
  sqlite3_clear_bindings(insert_one_.get());
  if (rc != SQLITE_OK) {
    last_rc_ = rc;
    *error = db_.describe(rc);
    // A failed statement or COMMIT may leave the transaction open (or SQLite may have rolled
    // it back already): end it either way so the next batch starts clean.
    if (sqlite3_get_autocommit(db_.get()) == 0) db_.exec("ROLLBACK", nullptr);
    return false;
  }
  pending_.clear();
  std::lock_guard lock(mutex_);
  pending_size_ = 0;
  return true;
}

void LedgerWriter::after_write(bool ok, size_t rows, const std::string& error) {
  const auto now = std::chrono::steady_clock::now();
  if (ok) {
    written_.fetch_add(rows, std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
    written_metric_->Increment(static_cast<double>(rows));
    rows_.fetch_add(static_cast<int64_t>(rows), std::memory_order_relaxed);
    retry_slowly_ = false;
    if (failing_) {
      const auto outage =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - failing_since_);
      log::info("ledger: writing to " + options_.path + " resumed after " +
                std::to_string(outage_failures_) + " failed attempt(s) over " +
                std::to_string(outage.count()) + "ms; " + std::to_string(rows) + " row(s) written");
      failing_ = false;
    }
    return;
  }
  failed_.fetch_add(rows, std::memory_order_relaxed);
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  failed_metric_->Increment(static_cast<double>(rows));
  retry_slowly_ = is_disk_error(last_rc_);
  ++outage_failures_;
  if (failing_) return;  // one warning per outage; the info line above ends it
  failing_ = true;
  failing_since_ = now;
  outage_failures_ = 1;
  const auto retry = retry_slowly_ ? std::max(options_.flush_interval, options_.retry_backoff)
                                   : options_.flush_interval;
  log::warn(
      "ledger: cannot write " + std::to_string(rows) + " row(s) to " + options_.path + ": " +
      error + "; the rows stay queued (at most " + std::to_string(options_.max_queued_rows) +
      ", then new rows are dropped and counted in sluice_ledger_rows_total{result=\"dropped\"})"
      " and are retried every " +
      std::to_string(retry.count()) + "ms; budgets are still enforced from memory");
}

void LedgerWriter::report_drops(bool final) {
  const uint64_t dropped = dropped_.load(std::memory_order_relaxed);
  const bool new_drops = dropped != drops_seen_;
  if (new_drops && !dropping_) {
    log::error("ledger: queue full (" + std::to_string(options_.max_queued_rows) +
               " rows waiting for " + options_.path + "): dropping new rows");
    dropping_ = true;
    burst_start_ = drops_seen_;
  }
  drops_seen_ = dropped;
  // One summary per burst: when an interval passes without a new drop (or at the end).
  if (dropping_ && (!new_drops || final)) {
    log::error("ledger: " + std::to_string(dropped - burst_start_) +
               " row(s) dropped while the queue was full");
    dropping_ = false;
  }
}

void LedgerWriter::drain() {
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_timeout;
  std::vector<LedgerRow> incoming;
  take_queued(incoming);
  while (!pending_.empty()) {
    std::string error;
    const size_t rows = pending_.size();
    const bool ok = write_pending(&error);
    after_write(ok, rows, error);
    if (ok) break;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(options_.flush_interval, deadline - now));
  }
  report_drops(/*final=*/true);
  if (!pending_.empty()) {
    const size_t lost = pending_.size();
    dropped_.fetch_add(lost, std::memory_order_relaxed);
    dropped_metric_->Increment(static_cast<double>(lost));
    log::error("ledger: " + std::to_string(lost) + " row(s) could not be written to " +
               options_.path + " within " + std::to_string(options_.stop_timeout.count()) +
               "ms of shutdown and are lost");
    pending_.clear();
    std::lock_guard lock(mutex_);
    pending_size_ = 0;
  }
}

}  // namespace sluice::ledger
