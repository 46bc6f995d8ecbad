// A ledger an older sluice wrote (schema version 1, no `tool` column), end to end with the real
// binary: `sluice usage` reads it as it is; the next sluice started on it migrates it in place
// (and says so), keeps writing model requests, and reports tool calls' rows beside them —
// `sluice usage --by tool`, GET /usage?by=tool, the agent report's tool calls — while the
// budget spend rebuilt at start-up counts only what cost. The tool rows are put in with SQLite,
// in the columns sluice's own tool calls fill (core/ledger/ledger_row.h).
#include <signal.h>
#include <sqlite3.h>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSpenderKey = "sk-agent-spender-migration-7c1d";

// Schema version 1 as sluice shipped it.
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
    "PRAGMA application_id = 1936483684;"
    "PRAGMA user_version = 1;";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs `sql` on its own connection to `path`; "" or SQLite's message.
std::string run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      error = message != nullptr ? message : "error";
    }
    sqlite3_free(message);
  } else {
    error = sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  return error;
}

int64_t user_version(const std::string& path) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW) {
    v = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

// A model request's row as version 1 wrote it.
std::string version1_row(const std::string& id, const std::string& agent, double cost) {
  return "INSERT INTO requests (request_id, time_ms, agent, model, physical_model, provider,"
         " status, input_tokens, output_tokens, cached_tokens, cache_write_tokens, cost_usd,"
         " estimated, latency_s, ttft_s, attempts, error_code, error) VALUES ('" +
         id + "', " + std::to_string(now_ms() - 60'000) + ", '" + agent + "', '" + kFastModel +
         "', '" + kFastPhysical + "', 'mockai', 200, 100, 10, 0, 0, " + std::to_string(cost) +
         ", 0, 0.5, 0.1, 1, '', '');";
}

// A tool call's row: the tool, its outcome in error_code, its duration; no model, no cost.
std::string tool_row(const std::string& id, const std::string& agent, const std::string& tool,
                     const std::string& error_code, double seconds) {
  return "INSERT INTO requests (request_id, time_ms, agent, model, physical_model, provider,"
         " status, input_tokens, output_tokens, cached_tokens, cache_write_tokens, cost_usd,"
         " estimated, latency_s, ttft_s, attempts, error_code, error, tool) VALUES ('" +
         id + "', " + std::to_string(now_ms()) + ", '" + agent + "', '', '', '', " +
         (error_code.empty() ? "200" : "504") + ", 0, 0, 0, 0, 0, 0, " + std::to_string(seconds) +
         ", NULL, 0, '" + error_code + "', '', '" + tool + "');";
}

class LedgerMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    ASSERT_EQ(run_sql(ledger, kVersion1Sql), "");
    ASSERT_EQ(
        run_sql(ledger, version1_row("old-1", "spender", 0.75) + version1_row("old-2", "alice", 0)),
        "");
  }

  void start(SluiceServer& server) {
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.ledger_path = ledger;
    config.extra_agents = "  spender:\n    keys: [\"" + agent_key_digest(kSpenderKey) +
                          "\"]\n    budget: {usd: 10, per: total}\n";
    // A budget needs the cost filter: it closes the chain (`filters:` ends where `state:`
    // starts).
    std::string yaml = config.to_yaml();
    const size_t state = yaml.find("\nstate: {");
    ASSERT_NE(state, std::string::npos) << yaml;
    yaml.insert(state + 1, "  - cost: {}\n");
    ASSERT_TRUE(server.start(sluice_binary(), yaml));
  }

  static void stop_with_sigterm(SluiceServer& server) {
    ASSERT_TRUE(server.process().signal(SIGTERM));
    auto code = server.process().wait_exit(30s);
    ASSERT_TRUE(code.has_value()) << server.describe();
    EXPECT_EQ(*code, 0) << server.describe();
  }

  static double spent_usd(SluiceServer& server) {
    auto r = server.admin_client().get("/status");
    auto doc = r ? r->json() : std::nullopt;
    return doc ? (*doc)["agents"]["spender"]["budget"]["spent_usd"].as_number(-1) : -1;
  }

  // `sluice usage <args>`: the exit code, stdout and stderr.
  int usage_cli(const std::vector<std::string>& args, std::string* out, std::string* err) {
    std::vector<std::string> argv = {sluice_binary(), "usage", "--ledger", ledger};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = Process::start(argv, data.file("usage-" + std::to_string(++cli_runs)));
    if (!p) return -1;
    auto code = p->wait_exit(30s);
    *out = p->stdout_text();
    *err = p->stderr_text();
    return code.value_or(-1);
  }

  MockProvider mock{mock_provider_binary()};
  TempDir data;
  std::string ledger = data.file("ledger.db");
  int cli_runs = 0;
};

TEST_F(LedgerMigrationTest, TheCliReadsAVersion1LedgerAsItIs) {
  std::string out, err;
  ASSERT_EQ(usage_cli({"--by", "agent", "--json"}, &out, &err), 0) << err;
  auto report = Json::parse(out);
  ASSERT_TRUE(report) << out;
  EXPECT_EQ((*report)["total"]["requests"].as_int(), 2);
  EXPECT_EQ((*report)["total"]["tool_calls"].as_int(), 0);
  EXPECT_NEAR((*report)["total"]["cost_usd"].as_number(), 0.75, 1e-9);

  ASSERT_EQ(usage_cli({"--by", "tool"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("usage by tool, whole ledger\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nTOTAL      0"), std::string::npos) << out;
  EXPECT_EQ(user_version(ledger), 1) << "a reader must not migrate";
}

TEST_F(LedgerMigrationTest, SluiceMigratesItAndReportsToolCallsBesideRequests) {
  {
    SluiceServer sluice;
    start(sluice);
    EXPECT_TRUE(eventually(
        [&] {
          return sluice.stderr_text().find("migrated from schema version 1 to 3") !=
                 std::string::npos;
        },
        5s))
        << sluice.stderr_text();
    EXPECT_EQ(user_version(ledger), 3);
    EXPECT_NEAR(spent_usd(sluice), 0.75, 1e-9) << "spend rebuilt from the version-1 rows";

    auto r = sluice.client().post_json("/v1/chat/completions", chat_body(kFastModel, "after"),
                                       bearer(kAliceKey));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    ASSERT_TRUE(await_ledger_row(ledger, r->header("x-request-id"), 10s));
    ASSERT_EQ(
        run_sql(ledger, tool_row("call-1", "spender", "projects.list", "", 0.5) +
                            tool_row("call-2", "spender", "projects.list", "tool_timeout", 5) +
                            tool_row("call-3", "alice", "memory.query", "", 0.25)),
        "");

    auto tools = sluice.admin_client().get("/usage?by=tool");
    ASSERT_TRUE(tools && tools->status == 200) << (tools ? tools->describe() : "no response");
    auto doc = tools->json();
    ASSERT_TRUE(doc) << tools->body;
    ASSERT_EQ((*doc)["rows"].size(), 2u) << tools->body;
    const Json& projects = (*doc)["rows"].items()[0];
    EXPECT_EQ(projects["key"].str(), "projects.list");
    EXPECT_EQ(projects["calls"].as_int(), 2);
    EXPECT_EQ(projects["ok"].as_int(), 1);
    EXPECT_EQ(projects["timeout"].as_int(), 1);
    EXPECT_DOUBLE_EQ(projects["p50_s"].as_number(), 0.5);
    EXPECT_DOUBLE_EQ(projects["avg_s"].as_number(), 2.75);
    EXPECT_EQ((*doc)["total"]["calls"].as_int(), 3);

    auto agents = sluice.admin_client().get("/usage?by=agent");
    ASSERT_TRUE(agents && agents->status == 200);
    auto by_agent = agents->json();
    ASSERT_TRUE(by_agent) << agents->body;
    EXPECT_EQ((*by_agent)["total"]["requests"].as_int(), 3) << agents->body;
    EXPECT_EQ((*by_agent)["total"]["tool_calls"].as_int(), 3) << agents->body;
    auto models = sluice.admin_client().get("/usage?by=model");
    ASSERT_TRUE(models && models->status == 200);
    EXPECT_EQ(models->json().value_or(Json())["total"]["requests"].as_int(), 3) << models->body;
    EXPECT_EQ(models->body.find(R"("key":"")"), std::string::npos) << models->body;
    stop_with_sigterm(sluice);
  }

  auto rows = read_ledger_rows(ledger);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 6u);
  EXPECT_EQ((*rows)[0].request_id, "old-1");
  EXPECT_EQ((*rows)[0].tool, "");
  EXPECT_EQ((*rows)[2].agent, "alice");  // this sluice's request
  EXPECT_EQ((*rows)[2].tool, "");
  EXPECT_EQ((*rows)[3].tool, "projects.list");

  // Restarted on the migrated file: no migration again, the spend is what cost.
  SluiceServer again;
  start(again);
  EXPECT_NEAR(spent_usd(again), 0.75, 1e-9);
  EXPECT_EQ(again.stderr_text().find("migrated from schema version"), std::string::npos);

  std::string out, err;
  ASSERT_EQ(usage_cli({"--by", "tool"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("TOOL           CALLS  OK  ERROR  TIMEOUT  UNAVAILABLE  INVALID_ARGS  OTHER"
                     "  P50_S  AVG_S\n"
                     "projects.list      2   1      0        1            0             0      0"
                     "  0.500  2.750\n"
                     "memory.query       1   1      0        0            0             0      0"
                     "  0.250  0.250\n"),
            std::string::npos)
      << out;
  ASSERT_EQ(usage_cli({"--by", "agent"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("TOOL_CALLS"), std::string::npos) << out;
}

}  // namespace
}  // namespace sluice::test
