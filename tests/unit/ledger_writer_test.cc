// LedgerWriter against a real SQLite file in a temp directory: rows round-trip, batches, the
// bounded queue, a locked database, a full disk, and the drain at stop().
#include "core/ledger/ledger_writer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/ledger/ledger_schema.h"
#include "core/metrics/metrics.h"
#include "tests/unit/ledger_test_util.h"

namespace sluice::ledger {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::make_row;
using test::RawConnection;

class LedgerWriterTest : public ::testing::Test {
 protected:
  // Options for this test's file and metrics; `tune` changes the rest.
  template <typename Tune>
  std::unique_ptr<LedgerWriter> open_writer(Tune tune) {
    LedgerWriter::Options options;
    options.path = path;
    options.metrics = &metrics;
    tune(options);
    std::string error;
    auto writer = LedgerWriter::open(std::move(options), &error);
    EXPECT_TRUE(writer) << error;
    return writer;
  }
  std::unique_ptr<LedgerWriter> open_writer() {
    return open_writer([](LedgerWriter::Options&) {});
  }
  LedgerWriter::Options options_for(const std::string& file) {
    LedgerWriter::Options options;
    options.path = file;
    options.metrics = &metrics;
    return options;
  }
  double metric(const char* result) {
    return metrics.ledger_rows_total.Add({{"result", result}}).Value();
  }

  test::LedgerTempDir dir;
  std::string path = dir.file("ledger.db");
  metrics::Metrics metrics;
};

TEST_F(LedgerWriterTest, RowsRoundTripWithEveryColumn) {
  auto writer = open_writer([](LedgerWriter::Options& o) { o.flush_interval = 20ms; });
  LedgerRow row;
  row.request_id = "req-abc";
  row.time_unix_ms = 1'700'000'000'123;
  row.agent = "alice";
  row.model = "fast";
  row.physical_model = "gpt-4o-mini";
  row.provider = "openai";
  row.status = 200;
  row.input_tokens = 1200;
  row.output_tokens = 345;
  row.cached_tokens = 1000;
  row.cache_write_tokens = 7;
  row.cost_usd = 0.000123;
  row.estimated = true;
  row.latency_s = 1.5;
  row.ttft_s = 0.25;
  row.attempts = 2;
  row.error_code = "";
  row.error = "";
  ASSERT_TRUE(writer->enqueue(LedgerRow(row)));
  LedgerRow refused = make_row("bob", "smart", "", 0, 0, 0, 1'700'000'000'999);
  refused.status = 429;
  refused.ttft_s.reset();
  refused.attempts = 0;
  refused.error_code = "rate_limit_exceeded";
  refused.error = "Rate limit reached";
  ASSERT_TRUE(writer->enqueue(std::move(refused)));

  // Written by the interval, without stop().
  ASSERT_TRUE(eventually([&] { return writer->stats().written == 2; }));
  RawConnection db(path);
  EXPECT_EQ(db.text("SELECT request_id || '|' || time_ms || '|' || agent || '|' || model || '|' ||"
                    " physical_model || '|' || provider || '|' || status || '|' || input_tokens ||"
                    " '|' || output_tokens || '|' || cached_tokens || '|' || cache_write_tokens ||"
                    " '|' || estimated || '|' || attempts FROM requests WHERE agent = 'alice'"),
            "req-abc|1700000000123|alice|fast|gpt-4o-mini|openai|200|1200|345|1000|7|1|2");
  EXPECT_DOUBLE_EQ(db.integer("SELECT cost_usd * 1000000 FROM requests WHERE agent = 'alice'"),
                   123);
  EXPECT_EQ(db.text("SELECT latency_s || ' ' || ttft_s FROM requests WHERE agent = 'alice'"),
            "1.5 0.25");
  EXPECT_EQ(db.text("SELECT ttft_s FROM requests WHERE agent = 'bob'"), "<null>");
  EXPECT_EQ(db.text("SELECT status || ' ' || error_code || ' ' || error || ' ' || cost_usd"
                    " FROM requests WHERE agent = 'bob'"),
            "429 rate_limit_exceeded Rate limit reached 0.0");
  EXPECT_EQ(metric("written"), 2);
}

TEST_F(LedgerWriterTest, FileIsAWalLedgerWithVersionAndIndexes) {
  auto writer = open_writer();
  RawConnection db(path);
  EXPECT_EQ(db.text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(db.integer("PRAGMA user_version"), kLedgerSchemaVersion);
  EXPECT_EQ(db.integer("PRAGMA application_id"), kLedgerApplicationId);
  EXPECT_EQ(db.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN"
                       " ('requests_time', 'requests_tool_time')"),
            2);
  // Only the indexes queries use: each one costs the writer on every row.
  EXPECT_EQ(db.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'index'"), 2);
}

TEST_F(LedgerWriterTest, ABatchOfSeveralMultiRowInsertsKeepsEveryRowAndItsOrder) {
  // 70 rows in one batch: two 32-row INSERTs and six one-row ones. Every row's own values,
  // a NULL ttft in the middle of a group, and the order the rows arrived in.
  auto writer = open_writer([](LedgerWriter::Options& o) { o.flush_interval = 1h; });
  constexpr int kRows = 70;
  for (int i = 0; i < kRows; ++i) {
    LedgerRow row = make_row("agent-" + std::to_string(i % 7), "m" + std::to_string(i), "p",
                             0.001 * i, 10 + i, 20 + i, 1'700'000'000'000 + i);
    row.request_id = "req-" + std::to_string(i);
    if (i % 5 == 0) row.ttft_s.reset();
    if (i == 40) row.error = "cut";
    ASSERT_TRUE(writer->enqueue(std::move(row)));
  }
  writer->stop();
  ASSERT_EQ(writer->stats().written, static_cast<uint64_t>(kRows));
  ASSERT_EQ(writer->stats().batches, 1u);

  RawConnection db(path);
  for (int i = 0; i < kRows; ++i) {
    const std::string where = " FROM requests WHERE id = " + std::to_string(i + 1);
    SCOPED_TRACE(i);
    EXPECT_EQ(db.text("SELECT request_id || '|' || agent || '|' || model || '|' || input_tokens"
                      " || '|' || output_tokens || '|' || time_ms || '|' || error" +
                      where),
              "req-" + std::to_string(i) + "|agent-" + std::to_string(i % 7) + "|m" +
                  std::to_string(i) + "|" + std::to_string(10 + i) + "|" + std::to_string(20 + i) +
                  "|" + std::to_string(1'700'000'000'000 + i) + "|" + (i == 40 ? "cut" : ""));
    EXPECT_EQ(db.text("SELECT ttft_s IS NULL" + where), i % 5 == 0 ? "1" : "0");
    EXPECT_EQ(db.integer("SELECT CAST(round(cost_usd * 1000000) AS INTEGER)" + where), 1000 * i);
  }
}

TEST_F(LedgerWriterTest, AnIdleWriterSleepsUntilTheNextRow) {
  auto writer = open_writer([](LedgerWriter::Options& o) { o.flush_interval = 5ms; });
  std::this_thread::sleep_for(100ms);  // twenty intervals with nothing to write
  EXPECT_EQ(writer->stats().wakeups, 0u) << "an idle sidecar's writer must not wake";

  ASSERT_TRUE(writer->enqueue(make_row("a", "m", "p", 0.001, 1, 1)));
  ASSERT_TRUE(eventually([&] { return writer->stats().written == 1; }));
  EXPECT_EQ(writer->stats().wakeups, 1u) << "one row: one interval, one batch";
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(writer->stats().wakeups, 1u) << "idle again: asleep until the next row";

  ASSERT_TRUE(writer->enqueue(make_row("a", "m", "p", 0.001, 1, 1)));
  ASSERT_TRUE(eventually([&] { return writer->stats().written == 2; }));
  EXPECT_EQ(writer->stats().wakeups, 2u);
}

TEST_F(LedgerWriterTest, EverythingQueuedBetweenTwoWakeUpsIsOneTransaction) {
  // The writer never wakes on its own here: stop() is the one flush.
  auto writer = open_writer([](LedgerWriter::Options& o) { o.flush_interval = 1h; });
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(writer->enqueue(make_row("a", "m", "p", 0.001, 1, 1)));
  EXPECT_EQ(writer->stats().waiting, 1000u);
  writer->stop();
  EXPECT_EQ(writer->stats().written, 1000u);
  EXPECT_EQ(writer->stats().batches, 1u);
  RawConnection db(path);
  EXPECT_EQ(db.integer("SELECT count(*) FROM requests"), 1000);
}

TEST_F(LedgerWriterTest, ReopeningAppendsToTheSameLedger) {
  {
    auto writer = open_writer();
    writer->enqueue(make_row("a", "m", "p", 1, 1, 1));
    writer->stop();
  }
  auto writer = open_writer();
  writer->enqueue(make_row("a", "m", "p", 1, 1, 1));
  writer->stop();
  RawConnection db(path);
  EXPECT_EQ(db.integer("SELECT count(*) FROM requests"), 2);
}

TEST_F(LedgerWriterTest, FullQueueDropsAndCountsInsteadOfWaiting) {
  auto writer = open_writer([](LedgerWriter::Options& o) {
    o.flush_interval = 1h;
    o.max_queued_rows = 10;
  });
  int accepted = 0;
  for (int i = 0; i < 15; ++i)
    accepted += writer->enqueue(make_row("a", "m", "p", 1, 1, 1)) ? 1 : 0;
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(writer->stats().dropped, 5u);
  EXPECT_EQ(metric("dropped"), 5);
  writer->stop();
  EXPECT_EQ(writer->stats().written, 10u);
  RawConnection db(path);
  EXPECT_EQ(db.integer("SELECT count(*) FROM requests"), 10);
}

TEST_F(LedgerWriterTest, LockedDatabaseKeepsRowsAndWritesThemOnceReleased) {
  auto writer = open_writer([](LedgerWriter::Options& o) {
    o.flush_interval = 10ms;
    o.busy_timeout = 20ms;
  });
  RawConnection other(path);
  ASSERT_EQ(other.exec("BEGIN EXCLUSIVE"), SQLITE_OK);
  // This thread holds the lock: were enqueue() to wait for the file, it would never return.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(writer->enqueue(make_row("a", "m", "p", 1, 1, 1)));
  ASSERT_TRUE(eventually([&] { return writer->stats().write_errors >= 2; }));
  EXPECT_EQ(writer->stats().written, 0u);
  EXPECT_EQ(writer->stats().waiting, 5u);
  EXPECT_GE(metric("failed"), 5);
  // Rows arriving during the outage queue behind the kept ones.
  ASSERT_TRUE(writer->enqueue(make_row("late", "m", "p", 1, 1, 1)));
  ASSERT_EQ(other.exec("COMMIT"), SQLITE_OK);
  ASSERT_TRUE(eventually([&] { return writer->stats().written == 6; }));
  EXPECT_EQ(writer->stats().waiting, 0u);
  EXPECT_EQ(writer->stats().dropped, 0u);
  EXPECT_EQ(other.integer("SELECT count(*) FROM requests"), 6);
  EXPECT_EQ(other.text("SELECT agent FROM requests ORDER BY id DESC LIMIT 1"), "late");
}

TEST_F(LedgerWriterTest, KeptRowsCountAgainstTheBound) {
  auto writer = open_writer([](LedgerWriter::Options& o) {
    o.flush_interval = 10ms;
    o.max_queued_rows = 4;
    o.busy_timeout = 10ms;
  });
  RawConnection other(path);
  ASSERT_EQ(other.exec("BEGIN EXCLUSIVE"), SQLITE_OK);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(writer->enqueue(make_row("a", "m", "p", 1, 1, 1)));
  ASSERT_TRUE(eventually([&] { return writer->stats().write_errors >= 1; }));
  ASSERT_TRUE(writer->enqueue(make_row("a", "m", "p", 1, 1, 1)));
  EXPECT_FALSE(writer->enqueue(make_row("a", "m", "p", 1, 1, 1)));  // 3 kept + 1 queued = 4
  EXPECT_EQ(writer->stats().dropped, 1u);
  ASSERT_EQ(other.exec("COMMIT"), SQLITE_OK);
  ASSERT_TRUE(eventually([&] { return writer->stats().written == 4; }));
}

TEST_F(LedgerWriterTest, FullDiskKeepsRowsAndWritesThemWhenThereIsRoomAgain) {
  auto writer = open_writer([](LedgerWriter::Options& o) { o.flush_interval = 10ms; });
  writer->enqueue(make_row("a", "m", "p", 1, 1, 1));
  ASSERT_TRUE(eventually([&] { return writer->stats().written == 1; }));
  const int64_t pages = RawConnection(path).integer("PRAGMA page_count");
  ASSERT_GT(pages, 0);
  std::string error;
  // The file may not grow by a single page: SQLite answers SQLITE_FULL, as on a full disk.
  ASSERT_TRUE(writer->exec_on_writer_connection_for_test(
      "PRAGMA max_page_count = " + std::to_string(pages), &error))
      << error;
  for (int i = 0; i < 200; ++i) {
    LedgerRow row = make_row("a", "m", "p", 1, 1, 1);
    row.error = std::string(LedgerRow::kMaxErrorBytes, 'x');
    ASSERT_TRUE(writer->enqueue(std::move(row)));
  }
  ASSERT_TRUE(eventually([&] { return writer->stats().write_errors >= 2; }));
  EXPECT_EQ(writer->stats().written, 1u);
  EXPECT_EQ(writer->stats().waiting, 200u);
  ASSERT_TRUE(writer->exec_on_writer_connection_for_test("PRAGMA max_page_count = 1000000", &error))
      << error;
  ASSERT_TRUE(eventually([&] { return writer->stats().written == 201; }));
  EXPECT_EQ(RawConnection(path).integer("SELECT count(*) FROM requests"), 201);
}

TEST_F(LedgerWriterTest, StopGivesUpAfterItsTimeoutAndCountsTheLoss) {
  auto writer = open_writer([](LedgerWriter::Options& o) {
    o.flush_interval = 1h;
    o.stop_timeout = 100ms;
    o.busy_timeout = 10ms;
  });
  RawConnection other(path);
  ASSERT_EQ(other.exec("BEGIN EXCLUSIVE"), SQLITE_OK);
  for (int i = 0; i < 3; ++i) writer->enqueue(make_row("a", "m", "p", 1, 1, 1));
  writer->stop();  // returns although the lock is never released
  EXPECT_EQ(writer->stats().written, 0u);
  EXPECT_EQ(writer->stats().dropped, 3u);
  EXPECT_GE(writer->stats().write_errors, 1u);
  EXPECT_EQ(metric("dropped"), 3);
  EXPECT_FALSE(writer->enqueue(make_row("a", "m", "p", 1, 1, 1)));  // stopped: dropped
  ASSERT_EQ(other.exec("COMMIT"), SQLITE_OK);
}

TEST_F(LedgerWriterTest, RefusesAFileThatIsNotALedger) {
  {
    RawConnection other(path);
    ASSERT_EQ(other.exec("CREATE TABLE something_else (x)"), SQLITE_OK);
  }
  std::string error;
  EXPECT_FALSE(LedgerWriter::open(options_for(path), &error));
  EXPECT_NE(error.find("not a sluice ledger"), std::string::npos) << error;

  const std::string text_file = dir.file("notes.txt");
  std::ofstream(text_file) << "this is not a database, just some text that is long enough to "
                              "fill a SQLite header of one hundred bytes, and some more.";
  EXPECT_FALSE(LedgerWriter::open(options_for(text_file), &error));
  EXPECT_NE(error.find("not a sluice ledger"), std::string::npos) << error;

  EXPECT_FALSE(LedgerWriter::open(options_for(dir.file("no/such/dir/ledger.db")), &error));
  EXPECT_NE(error.find("cannot open the ledger"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::ledger
