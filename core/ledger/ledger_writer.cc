#include "core/ledger/ledger_writer.h"

#include <prometheus/counter.h>

#include <algorithm>
#include <iterator>

#include "core/ledger/ledger_schema.h"
#include "core/log/log.h"
#include "core/metrics/metrics.h"

namespace sluice::ledger {
namespace {

constexpr std::chrono::seconds kFailureLogEvery{10};
// Row buffers larger than this are freed once empty (a burst's memory is not kept for ever).
constexpr size_t kKeptCapacity = 4096;

int bind_text(sqlite3_stmt* stmt, int index, const std::string& text) {
  return sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

int64_t clamp_tokens(uint64_t tokens) {
  // SQLite integers are signed 64-bit; no real count comes near the limit.
  constexpr auto kMax = static_cast<uint64_t>(INT64_MAX);
  return static_cast<int64_t>(std::min(tokens, kMax));
}

// Binds the 19 parameters of kInsertRowSql. The strings stay valid until the step (SQLITE_STATIC).
int bind_row(sqlite3_stmt* s, const LedgerRow& r) {
  int rc = SQLITE_OK;
  auto check = [&rc](int result) {
    if (rc == SQLITE_OK) rc = result;
  };
  check(bind_text(s, 1, r.request_id));
  check(sqlite3_bind_int64(s, 2, r.time_unix_ms));
  check(bind_text(s, 3, r.agent));
  check(bind_text(s, 4, r.model));
  check(bind_text(s, 5, r.physical_model));
  check(bind_text(s, 6, r.provider));
  check(sqlite3_bind_int(s, 7, r.status));
  check(sqlite3_bind_int64(s, 8, clamp_tokens(r.input_tokens)));
  check(sqlite3_bind_int64(s, 9, clamp_tokens(r.output_tokens)));
  check(sqlite3_bind_int64(s, 10, clamp_tokens(r.cached_tokens)));
  check(sqlite3_bind_int64(s, 11, clamp_tokens(r.cache_write_tokens)));
  check(sqlite3_bind_double(s, 12, r.cost_usd));
  check(sqlite3_bind_int(s, 13, r.estimated ? 1 : 0));
  check(sqlite3_bind_double(s, 14, r.latency_s));
  check(r.ttft_s ? sqlite3_bind_double(s, 15, *r.ttft_s) : sqlite3_bind_null(s, 15));
  check(sqlite3_bind_int64(s, 16, r.attempts));
  check(bind_text(s, 17, r.error_code));
  check(bind_text(s, 18, r.error));
  check(bind_text(s, 19, r.tool));
  return rc;
}

}  // namespace

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
  if (writer->db_.prepare(kInsertRowSql, &writer->insert_, &why, /*persistent=*/true) !=
      SQLITE_OK) {
    *error = path + ": cannot prepare the insert: " + why;
    return nullptr;
  }
  writer->thread_ = std::thread([w = writer.get()] { w->run(); });
  return writer;
}

LedgerWriter::LedgerWriter(Options options) : options_(std::move(options)) {
  metrics::Metrics& m =
      options_.metrics != nullptr ? *options_.metrics : metrics::Metrics::process();
  written_metric_ = &m.ledger_rows_total.Add({{"result", "written"}});
  failed_metric_ = &m.ledger_rows_total.Add({{"result", "failed"}});
  dropped_metric_ = &m.ledger_rows_total.Add({{"result", "dropped"}});
}

LedgerWriter::~LedgerWriter() {
  stop();
}

bool LedgerWriter::enqueue(LedgerRow&& row) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() + pending_size_ < options_.max_queued_rows) {
      queue_.push_back(std::move(row));
      return true;
    }
  }
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
  insert_ = SqliteStatement();
  db_.close();  // the last connection: SQLite checkpoints the WAL into the file
}

LedgerWriter::Stats LedgerWriter::stats() const {
  Stats s;
  s.written = written_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.write_errors = write_errors_.load(std::memory_order_relaxed);
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
  std::vector<LedgerRow> incoming;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
      if (stopping_) break;
    }
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
  }
  drain();
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
  if (db_.exec("BEGIN IMMEDIATE", error) != SQLITE_OK) return false;
  sqlite3_stmt* stmt = insert_.get();
  int rc = SQLITE_OK;
  for (const LedgerRow& row : pending_) {
    rc = bind_row(stmt, row);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) break;
    rc = SQLITE_OK;
  }
  if (rc == SQLITE_OK) rc = db_.exec("COMMIT", nullptr);
  if (rc != SQLITE_OK) {
    *error = db_.describe(rc);
    // A failed statement or COMMIT may leave the transaction open (or SQLite may have rolled
    // it back already): end it either way so the next batch starts clean.
    if (sqlite3_get_autocommit(db_.get()) == 0) db_.exec("ROLLBACK", nullptr);
    sqlite3_clear_bindings(stmt);
    return false;
  }
  sqlite3_clear_bindings(stmt);
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
  if (!failing_) {
    failing_ = true;
    failing_since_ = now;
    outage_failures_ = 0;
  }
  ++outage_failures_;
  if (outage_failures_ == 1 || now - last_failure_log_ >= kFailureLogEvery) {
    log::error("ledger: cannot write " + std::to_string(rows) + " row(s) to " + options_.path +
               ": " + error +
               (outage_failures_ > 1
                    ? " (" + std::to_string(outage_failures_) + " failed attempts so far)"
                    : std::string()) +
               "; the rows stay queued (at most " + std::to_string(options_.max_queued_rows) +
               ") and are retried every " + std::to_string(options_.flush_interval.count()) + "ms");
    last_failure_log_ = now;
  }
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
