// What the spend ledger costs the request path: building a row the way ProxySession::record()
// does and handing it to LedgerWriter::enqueue, while the writer thread commits batches to a
// real SQLite file in a temp directory (flush_interval 50ms, as by default). Threads(2) has two
// "workers" enqueueing at once, as with `workers: 2`.
//
// Steady state, not a flood: after every kBurst rows the clock pauses for more than one flush
// interval, so the writer commits them and the queue's buffers are reused — as at a real
// request rate (kBurst rows per 60ms is ~17k requests/s). Without the pauses the queue grows by
// hundreds of thousands of rows and the figure is the vector's growth, not the request path.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <time.h>

#include <cstdio>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "core/ledger/ledger_writer.h"
#include "core/metrics/metrics.h"

namespace {

using sluice::ledger::LedgerRow;
using sluice::ledger::LedgerWriter;

// Iterations per run are fixed so the queue (bounded far above them here) never drops: what is
// measured is the enqueue path, not the drop path.
constexpr int64_t kRows = 50'000;
constexpr int64_t kBurst = 1'000;

struct BenchLedger {
  std::string dir;
  std::unique_ptr<LedgerWriter> writer;
  BenchLedger() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "sluice-ledger-bench-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "/tmp";
    LedgerWriter::Options options;
    options.path = dir + "/ledger.db";
    options.max_queued_rows = 4 * kRows;
    static sluice::metrics::Metrics metrics;
    options.metrics = &metrics;
    std::string error;
    writer = LedgerWriter::open(options, &error);
  }
  ~BenchLedger() {
    writer.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

BenchLedger& bench_ledger() {
  static BenchLedger ledger;
  return ledger;
}

void BM_LedgerRecordRow(benchmark::State& state) {
  LedgerWriter* writer = bench_ledger().writer.get();
  if (writer == nullptr) {
    state.SkipWithError("cannot open the ledger");
    return;
  }
  const std::string request_id = "req_1d366ac444c5610a0001";
  const std::string agent = "research-agent", model = "fast", physical = "gpt-4o-mini-2024-07-18",
                    provider = "openai";
  int64_t in_burst = 0;
  for (auto _ : state) {
    if (++in_burst == kBurst) {
      state.PauseTiming();
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
      in_burst = 0;
      state.ResumeTiming();
    }
    LedgerRow row;
    row.request_id = request_id;
    row.time_unix_ms = 1'700'000'000'000;
    row.agent = agent;
    row.model = model;
    row.physical_model = physical;
    row.provider = provider;
    row.status = 200;
    row.input_tokens = 1200;
    row.output_tokens = 345;
    row.cost_usd = 0.000387;
    row.latency_s = 0.8;
    row.ttft_s = 0.2;
    row.attempts = 1;
    benchmark::DoNotOptimize(writer->enqueue(std::move(row)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LedgerRecordRow)->Iterations(kRows);
BENCHMARK(BM_LedgerRecordRow)->Iterations(kRows / 2)->Threads(2);

}  // namespace

// The writer thread's side: CPU the process spends per row outside the enqueueing thread —
// SQLite's inserts, index updates, commits and checkpoints, and the writer's wake-ups. Rows
// arrive as at ~20k requests/s (1,000 every 50ms, one flush interval), and the figure includes
// stop()'s final batch, so every row counted is on disk. Reported as counters:
//   writer_ns_per_row — (process CPU − this thread's CPU) / rows.
// (BM_LedgerRecordRow above is the enqueueing side's figure.)
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}
double process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

void BM_LedgerWriterCpu(benchmark::State& state) {
  constexpr int64_t kWriterRows = 40'000;
  for (auto _ : state) {
    BenchLedger ledger;  // a new file each run: the figure includes its growth from empty
    if (ledger.writer == nullptr) {
      state.SkipWithError("cannot open the ledger");
      return;
    }
    char id[32];
    const double process_start = process_cpu_ns();
    const double thread_start = thread_cpu_ns();
    for (int64_t i = 0; i < kWriterRows; ++i) {
      if (i % kBurst == kBurst - 1) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      LedgerRow row;
      std::snprintf(id, sizeof id, "req_%016llx%04x", static_cast<unsigned long long>(i * 7919),
                    static_cast<unsigned>(i & 0xffff));
      row.request_id = id;
      row.time_unix_ms = 1'700'000'000'000 + i / 20;
      row.agent = (i % 3 == 0) ? "research-agent" : "support-bot";
      row.model = "fast";
      row.physical_model = "gpt-4o-mini-2024-07-18";
      row.provider = "openai";
      row.status = 200;
      row.input_tokens = 1200 + static_cast<uint64_t>(i % 100);
      row.output_tokens = 345;
      row.cost_usd = 0.000387;
      row.latency_s = 0.8;
      row.ttft_s = 0.2;
      row.attempts = 1;
      benchmark::DoNotOptimize(ledger.writer->enqueue(std::move(row)));
    }
    ledger.writer->stop();
    const double thread_ns = thread_cpu_ns() - thread_start;
    const double writer_ns = process_cpu_ns() - process_start - thread_ns;
    state.counters["writer_ns_per_row"] = writer_ns / kWriterRows;
    state.counters["rows_dropped"] = static_cast<double>(ledger.writer->stats().dropped);
  }
}
BENCHMARK(BM_LedgerWriterCpu)->Iterations(1)->Unit(benchmark::kMillisecond);
