// A ledger written by a sluice of schema version 1 (no `tool` column): read as it is by this
// build's readers (the CLI reading an old sluice's ledger while that sluice runs), migrated in
// place by this build's writer, after which rows of both kinds — the old model requests and
// new tool calls — are read back; an old writer's INSERT still works on the migrated file, and
// a migration that fails leaves the file as it was.
#include <gtest/gtest.h>

#include "core/ledger/ledger_reader.h"
#include "core/ledger/ledger_schema.h"
#include "core/ledger/ledger_writer.h"
#include "core/metrics/metrics.h"
#include "tests/unit/ledger_test_util.h"

namespace sluice::ledger {
namespace {

using test::make_row;
using test::RawConnection;

constexpr int64_t kT0 = 1'700'000'000'000;

// The layout sluice wrote as schema version 1, frozen here as it shipped (not taken from
// ledger_schema.cc, which only knows the latest).
constexpr const char* kVersion1Sql =
    "PRAGMA journal_mode = WAL;"
    "CREATE TABLE requests ("
    " id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, time_ms INTEGER NOT NULL,"
    " agent TEXT NOT NULL, model TEXT NOT NULL, physical_model TEXT NOT NULL,"
    " provider TEXT NOT NULL, status INTEGER NOT NULL, input_tokens INTEGER NOT NULL,"
    " output_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL,"
    " cache_write_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, estimated INTEGER NOT NULL,"
    " latency_s REAL NOT NULL, ttft_s REAL, attempts INTEGER NOT NULL,"
    " error_code TEXT NOT NULL, error TEXT NOT NULL);"
    "CREATE INDEX requests_time ON requests(time_ms);"
    "CREATE INDEX requests_agent_time ON requests(agent, time_ms);"
    "PRAGMA application_id = 1936483684;"  // 0x736c6564, "sled"
    "PRAGMA user_version = 1;";

// Version 1's INSERT, as an old sluice still running beside a migrated file sends it.
std::string version1_insert(const std::string& id, const std::string& agent,
                            const std::string& model, double cost, int64_t input, int64_t time_ms) {
  return "INSERT INTO requests (request_id, time_ms, agent, model, physical_model, provider,"
         " status, input_tokens, output_tokens, cached_tokens, cache_write_tokens, cost_usd,"
         " estimated, latency_s, ttft_s, attempts, error_code, error) VALUES ('" +
         id + "', " + std::to_string(time_ms) + ", '" + agent + "', '" + model + "', '" + model +
         "-physical', 'openai', 200, " + std::to_string(input) + ", 10, 0, 0, " +
         std::to_string(cost) + ", 0, 0.5, 0.1, 1, '', '')";
}

LedgerRow tool_row(std::string agent, std::string tool, std::string error_code, double seconds,
                   int64_t time_ms) {
  LedgerRow r;
  static int counter = 0;
  r.request_id = "tool-" + std::to_string(++counter);
  r.time_unix_ms = time_ms;
  r.agent = std::move(agent);
  r.tool = std::move(tool);
  r.status = error_code.empty() ? 200 : 502;
  r.error_code = std::move(error_code);
  r.latency_s = seconds;
  return r;
}

class LedgerMigrationTest : public ::testing::Test {
 protected:
  // A version-1 ledger with two model requests of alice and one of bob.
  void SetUp() override {
    RawConnection old(path);
    ASSERT_EQ(old.exec(kVersion1Sql), SQLITE_OK);
    ASSERT_EQ(old.exec(version1_insert("old-1", "alice", "fast", 0.25, 100, kT0)), SQLITE_OK);
    ASSERT_EQ(old.exec(version1_insert("old-2", "alice", "smart", 1.5, 1000, kT0 + 1)), SQLITE_OK);
    ASSERT_EQ(old.exec(version1_insert("old-3", "bob", "fast", 0.125, 50, kT0 + 2)), SQLITE_OK);
  }

  std::unique_ptr<LedgerWriter> open_writer() {
    LedgerWriter::Options options;
    options.path = path;
    options.metrics = &metrics;
    std::string error;
    auto writer = LedgerWriter::open(std::move(options), &error);
    EXPECT_TRUE(writer) << error;
    return writer;
  }

  std::unique_ptr<LedgerReader> open_reader() {
    std::string error;
    auto reader = LedgerReader::open(path, &error);
    EXPECT_TRUE(reader) << error;
    return reader;
  }

  test::LedgerTempDir dir;
  std::string path = dir.file("ledger.db");
  metrics::Metrics metrics;
};

TEST_F(LedgerMigrationTest, AVersion1LedgerIsReadAsItIs) {
  auto reader = open_reader();
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->schema_version(), 1);
  std::string error;
  auto by_agent = reader->usage_report(UsageBy::Agent, 0, &error);
  ASSERT_TRUE(by_agent) << error;
  ASSERT_EQ(by_agent->rows.size(), 2u);
  EXPECT_EQ(by_agent->rows[0].key, "alice");
  EXPECT_EQ(by_agent->rows[0].requests, 2u);
  EXPECT_EQ(by_agent->rows[0].tool_calls, 0u);
  EXPECT_EQ(by_agent->total.requests, 3u);
  auto by_model = reader->usage_report(UsageBy::Model, 0, &error);
  ASSERT_TRUE(by_model) << error;
  EXPECT_EQ(by_model->total.requests, 3u);
  // No tool column: no tool calls, not an error.
  auto tools = reader->tool_usage_report(0, &error);
  ASSERT_TRUE(tools) << error;
  EXPECT_TRUE(tools->rows.empty());
  EXPECT_EQ(tools->total.calls, 0u);
  auto spent = reader->spend_by_agent_periods(kT0, kT0, &error);
  ASSERT_TRUE(spent) << error;
  EXPECT_NEAR(spent->at("alice").total_usd, 1.75, 1e-12);

  // Reading never migrates.
  RawConnection raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 1);
}

TEST_F(LedgerMigrationTest, TheWriterMigratesInPlaceAndBothKindsOfRowsAreRead) {
  auto writer = open_writer();
  ASSERT_TRUE(writer);
  {
    RawConnection raw(path);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), kLedgerSchemaVersion);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM requests WHERE tool = ''"), 3);  // old rows kept
    EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name ="
                          " 'requests_tool_time'"),
              1);
    // The old file's unused (agent, time_ms) index is gone: the writer paid for it per row.
    EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name ="
                          " 'requests_agent_time'"),
              0);
    // Version 3: the roll-up table and the view reports read, and incremental vacuum (one
    // VACUUM at the migration) so the retention can shrink the file.
    EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name IN ('daily', "
                          "'usage_rows')"),
              2);
    EXPECT_EQ(raw.integer("PRAGMA auto_vacuum"), 2);
  }
  writer->enqueue(make_row("bob", "fast", "openai", 0.5, 20, 2, kT0 + 10));
  writer->enqueue(tool_row("bob", "projects.list", "", 0.010, kT0 + 11));
  writer->enqueue(tool_row("bob", "projects.list", "tool_timeout", 5.0, kT0 + 12));
  writer->enqueue(tool_row("alice", "memory.query", "", 0.020, kT0 + 13));
  writer->stop();
  ASSERT_EQ(writer->stats().written, 4u);

  RawConnection raw(path);
  EXPECT_EQ(raw.text("SELECT group_concat(tool, ',') FROM (SELECT tool FROM requests ORDER BY id)"),
            ",,,,projects.list,projects.list,memory.query");

  auto reader = open_reader();
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->schema_version(), kLedgerSchemaVersion);
  std::string error;
  auto by_agent = reader->usage_report(UsageBy::Agent, 0, &error);
  ASSERT_TRUE(by_agent) << error;
  ASSERT_EQ(by_agent->rows.size(), 2u);
  EXPECT_EQ(by_agent->rows[0].key, "alice");
  EXPECT_EQ(by_agent->rows[0].requests, 2u);
  EXPECT_EQ(by_agent->rows[0].tool_calls, 1u);
  EXPECT_EQ(by_agent->rows[1].key, "bob");
  EXPECT_EQ(by_agent->rows[1].requests, 2u);
  EXPECT_EQ(by_agent->rows[1].tool_calls, 2u);
  EXPECT_EQ(by_agent->total.requests, 4u);
  EXPECT_EQ(by_agent->total.tool_calls, 3u);
  EXPECT_NEAR(by_agent->total.cost_usd, 2.375, 1e-12);

  auto by_model = reader->usage_report(UsageBy::Model, 0, &error);
  ASSERT_TRUE(by_model) << error;
  ASSERT_EQ(by_model->rows.size(), 2u);  // fast, smart: no "" group for the tool calls
  EXPECT_EQ(by_model->total.requests, 4u);

  auto tools = reader->tool_usage_report(0, &error);
  ASSERT_TRUE(tools) << error;
  ASSERT_EQ(tools->rows.size(), 2u);
  EXPECT_EQ(tools->rows[0].key, "projects.list");
  EXPECT_EQ(tools->rows[0].calls, 2u);
  EXPECT_EQ(tools->rows[0].ok, 1u);
  EXPECT_EQ(tools->rows[0].timeout, 1u);
  EXPECT_EQ(tools->rows[1].key, "memory.query");
  EXPECT_EQ(tools->total.calls, 3u);

  // Spend is every row's cost: the tool rows add nothing.
  auto spent = reader->spend_by_agent_periods(kT0, kT0, &error);
  ASSERT_TRUE(spent) << error;
  EXPECT_NEAR(spent->at("alice").total_usd, 1.75, 1e-12);
  EXPECT_NEAR(spent->at("bob").total_usd, 0.625, 1e-12);
}

TEST_F(LedgerMigrationTest, AMigratedFileIsNotMigratedAgain) {
  open_writer()->stop();
  SqliteDb db;
  std::string error;
  ASSERT_EQ(db.open(path, SQLITE_OPEN_READWRITE, &error), SQLITE_OK) << error;
  int64_t migrated_from = -1;
  ASSERT_TRUE(prepare_for_writing(db, &error, &migrated_from)) << error;
  EXPECT_EQ(migrated_from, 0);

  SqliteDb fresh;
  ASSERT_EQ(fresh.open(dir.file("new.db"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &error),
            SQLITE_OK);
  ASSERT_TRUE(prepare_for_writing(fresh, &error, &migrated_from)) << error;
  EXPECT_EQ(migrated_from, 0);  // created at the latest version: nothing to migrate
}

TEST_F(LedgerMigrationTest, AnOldWritersInsertStillWorksOnTheMigratedFile) {
  auto writer = open_writer();
  ASSERT_TRUE(writer);
  // An old sluice on the same file (its INSERT names no tool column) while this one runs.
  RawConnection old(path);
  ASSERT_EQ(old.exec(version1_insert("old-4", "carol", "fast", 0.5, 10, kT0 + 20)), SQLITE_OK);
  writer->stop();
  EXPECT_EQ(old.text("SELECT '[' || tool || ']' FROM requests WHERE request_id = 'old-4'"), "[]");
  std::string error;
  auto spent = open_reader()->spend_of_agent("carol", 0, &error);
  ASSERT_TRUE(spent) << error;
  EXPECT_EQ(*spent, 0.5);
}

TEST_F(LedgerMigrationTest, AFailedMigrationLeavesTheFileAsItWas) {
  // A version-1 file that somehow has a `tool` column already: ADD COLUMN fails.
  {
    RawConnection raw(path);
    ASSERT_EQ(raw.exec("ALTER TABLE requests ADD COLUMN tool TEXT"), SQLITE_OK);
  }
  LedgerWriter::Options options;
  options.path = path;
  options.metrics = &metrics;
  std::string error;
  EXPECT_FALSE(LedgerWriter::open(options, &error));
  EXPECT_NE(error.find("cannot migrate the ledger from schema version 1 to 3"), std::string::npos)
      << error;
  EXPECT_NE(error.find("the file is unchanged"), std::string::npos) << error;
  RawConnection raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 1);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'requests_tool_time'"), 0);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM requests"), 3);
}

TEST_F(LedgerMigrationTest, ANewerLedgerIsRefusedByReaderAndWriter) {
  {
    RawConnection raw(path);
    ASSERT_EQ(raw.exec("PRAGMA user_version = " + std::to_string(kLedgerSchemaVersion + 1)),
              SQLITE_OK);
  }
  std::string error;
  EXPECT_FALSE(LedgerReader::open(path, &error));
  EXPECT_NE(error.find("newer than this sluice reads"), std::string::npos) << error;
  LedgerWriter::Options options;
  options.path = path;
  options.metrics = &metrics;
  EXPECT_FALSE(LedgerWriter::open(options, &error));
  EXPECT_NE(error.find("use a newer sluice"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::ledger
