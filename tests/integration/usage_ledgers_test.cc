// `sluice usage` over a fleet's ledgers (DESIGN §3): two sluice sidecars, each with its own
// ledger, in front of the mock provider; the built binary's `usage --ledger a --ledger b`
// reports the sum of both — per agent and per model, as a table and as JSON — and the p50 of
// every tool call over both. A file named twice is refused (exit 2), an unreadable one fails
// the report (exit 1) naming the file, with nothing on stdout.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/ledger/ledger_writer.h"
#include "core/metrics/metrics.h"
#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// What the ledgers hold for one agent or model, summed from their rows (read with SQLite).
struct Sums {
  int64_t requests = 0, input = 0, output = 0;
  double cost = 0;
};

class UsageLedgersTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }

  // A sidecar writing `ledger`, with the cost filter so the rows have a price.
  void start(SluiceServer& server, const std::string& ledger) {
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.ledger_path = ledger;
    std::string yaml = config.to_yaml();
    const std::string alias = "  - model_alias: {}\n";
    const size_t at = yaml.find(alias);
    ASSERT_NE(at, std::string::npos) << "GatewayConfig no longer writes " << alias;
    yaml.insert(at + alias.size(), std::string("  - cost:\n      prices:\n        ") +
                                       kFastPhysical + ": {input: 3, output: 15}\n        " +
                                       kSmartPhysical + ": {input: 1.25, output: 10}\n");
    ASSERT_TRUE(server.start(sluice_binary(), yaml));
  }

  void chat(SluiceServer& server, const std::string& key, const std::string& model,
            const std::string& text) {
    auto r = server.client().post_json("/v1/chat/completions", chat_body(model, text), bearer(key));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
  }

  // SIGTERM flushes every row before sluice exits.
  static void stop(SluiceServer& server) {
    ASSERT_TRUE(server.process().signal(SIGTERM));
    auto code = server.process().wait_exit(30s);
    ASSERT_TRUE(code.has_value()) << server.describe();
    EXPECT_EQ(*code, 0) << server.describe();
  }

  // Tool calls as a sidecar's tool gateway records them: rows with a `tool` and a duration.
  void add_tool_calls(const std::string& ledger, const std::vector<double>& seconds) {
    ledger::LedgerWriter::Options options;
    options.path = ledger;
    options.metrics = &metrics;
    std::string error;
    auto writer = ledger::LedgerWriter::open(std::move(options), &error);
    ASSERT_TRUE(writer) << error;
    for (double s : seconds) {
      ledger::LedgerRow row;
      row.request_id = "call-" + std::to_string(++calls);
      row.time_unix_ms = 1'700'000'000'000;
      row.agent = "alice";
      row.tool = "projects.list";
      row.status = 200;
      row.latency_s = s;
      writer->enqueue(std::move(row));
    }
    writer->stop();
  }

  // Runs `sluice usage <args>`; returns the exit code and fills stdout/stderr.
  int usage_cli(const std::vector<std::string>& args, std::string* out, std::string* err) {
    std::vector<std::string> argv = {sluice_binary(), "usage"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = Process::start(argv, data.file("usage-" + std::to_string(++cli_runs)));
    if (!p) return -1;
    auto code = p->wait_exit(30s);
    *out = p->stdout_text();
    *err = p->stderr_text();
    return code.value_or(-1);
  }

  // Per agent (or model) over the rows of every ledger in `paths`.
  static std::map<std::string, Sums> sums_by(const std::vector<std::string>& paths,
                                             std::string LedgerTestRow::*key) {
    std::map<std::string, Sums> sums;
    for (const std::string& path : paths) {
      std::string error;
      auto rows = read_ledger_rows(path, &error);
      EXPECT_TRUE(rows) << error;
      if (!rows) continue;
      for (const LedgerTestRow& row : *rows) {
        if (!row.tool.empty()) continue;
        Sums& s = sums[row.*key];
        ++s.requests;
        s.input += row.input;
        s.output += row.output;
        s.cost += row.cost;
      }
    }
    return sums;
  }

  MockProvider mock{mock_provider_binary()};
  TempDir data;
  std::string a = data.file("a.db");
  std::string b = data.file("b.db");
  metrics::Metrics metrics;
  int cli_runs = 0;
  int calls = 0;
};

TEST_F(UsageLedgersTest, TwoSidecarsLedgersAddUpInTheTableAndTheJson) {
  {
    SluiceServer first, second;
    start(first, a);
    start(second, b);
    chat(first, kAliceKey, kFastModel, "alice on the first sidecar");
    chat(first, kBobKey, kSmartModel, "bob asks the smart model there");
    chat(second, kAliceKey, kFastModel, "alice again, on the second");
    chat(second, kAliceKey, kFastModel, "and once more with more words in it");
    stop(first);
    stop(second);
  }
  const auto agents = sums_by({a, b}, &LedgerTestRow::agent);
  ASSERT_EQ(agents.at("alice").requests, 3);
  ASSERT_EQ(agents.at("bob").requests, 1);
  ASSERT_GT(agents.at("alice").cost, 0);

  std::string out, err;
  ASSERT_EQ(usage_cli({"--ledger", a, "--ledger=" + b}, &out, &err), 0) << err;
  EXPECT_EQ(out.substr(0, out.find('\n')), "usage by agent, all time, from 2 ledgers") << out;
  for (const auto& [agent, s] : agents) {
    const size_t at = out.find("\n" + agent + " ");
    ASSERT_NE(at, std::string::npos) << out;
    const std::string line = out.substr(at + 1, out.find('\n', at + 1) - at - 1);
    EXPECT_NE(line.find(" " + std::to_string(s.requests) + " "), std::string::npos) << line;
    EXPECT_NE(line.find(" " + std::to_string(s.input) + " "), std::string::npos) << line;
    EXPECT_NE(line.find(" " + std::to_string(s.output) + " "), std::string::npos) << line;
  }
  const size_t total = out.find("\nTOTAL ");
  ASSERT_NE(total, std::string::npos) << out;
  std::istringstream total_line(out.substr(total + 1));
  std::string word;
  int64_t requests = -1;
  total_line >> word >> requests;
  EXPECT_EQ(requests, 4) << out;

  ASSERT_EQ(usage_cli({"--ledger", a, "--ledger", b, "--json"}, &out, &err), 0) << err;
  auto report = Json::parse(out);
  ASSERT_TRUE(report) << out;
  EXPECT_EQ((*report)["by"].str(), "agent");
  EXPECT_EQ((*report)["ledger"].str(), a);  // kept: what a one-ledger script reads
  ASSERT_EQ((*report)["ledgers"].size(), 2u) << out;
  EXPECT_EQ((*report)["ledgers"].items()[0].str(), a);
  EXPECT_EQ((*report)["ledgers"].items()[1].str(), b);
  EXPECT_EQ((*report)["total"]["requests"].as_int(), 4);
  ASSERT_EQ((*report)["rows"].size(), 2u) << out;
  for (const Json& row : (*report)["rows"].items()) {
    const Sums& s = agents.at(row["key"].str());
    EXPECT_EQ(row["requests"].as_int(), s.requests) << out;
    EXPECT_EQ(row["input_tokens"].as_int(), s.input) << out;
    EXPECT_EQ(row["output_tokens"].as_int(), s.output) << out;
    EXPECT_NEAR(row["cost_usd"].as_number(), s.cost, 1e-12) << out;
  }

  // By model: the fast model's requests from both sidecars are one row.
  const auto models = sums_by({a, b}, &LedgerTestRow::model);
  ASSERT_EQ(usage_cli({"--by", "model", "--json", "--ledger", b, "--ledger", a}, &out, &err), 0)
      << err;
  report = Json::parse(out);
  ASSERT_TRUE(report) << out;
  bool saw_fast = false;
  for (const Json& row : (*report)["rows"].items()) {
    if (row["key"].str() != kFastModel) continue;
    saw_fast = true;
    EXPECT_EQ(row["requests"].as_int(), 3) << out;
    EXPECT_EQ(row["input_tokens"].as_int(), models.at(kFastModel).input) << out;
    EXPECT_NEAR(row["cost_usd"].as_number(), models.at(kFastModel).cost, 1e-12) << out;
  }
  EXPECT_TRUE(saw_fast) << out;

  // One ledger alone is still the one-ledger report.
  ASSERT_EQ(usage_cli({"--ledger", a}, &out, &err), 0) << err;
  EXPECT_EQ(out.substr(0, out.find('\n')), "usage by agent, whole ledger") << out;
}

TEST_F(UsageLedgersTest, ToolP50IsTheMedianOfEveryCallOverBothLedgers) {
  add_tool_calls(a, {0.003, 0.001, 0.002});  // p50 of a alone: 0.002
  add_tool_calls(b, {0.020, 0.010});         // p50 of b alone: 0.010
  std::string out, err;
  ASSERT_EQ(usage_cli({"--ledger", a, "--ledger", b, "--by", "tool", "--json"}, &out, &err), 0)
      << err;
  auto report = Json::parse(out);
  ASSERT_TRUE(report) << out;
  ASSERT_EQ((*report)["rows"].size(), 1u) << out;
  const Json& row = (*report)["rows"].items()[0];
  EXPECT_EQ(row["key"].str(), "projects.list");
  EXPECT_EQ(row["calls"].as_int(), 5);
  EXPECT_EQ(row["ok"].as_int(), 5);
  // 0.001 0.002 0.003 0.010 0.020: the middle call, not (0.002 + 0.010) / 2.
  EXPECT_DOUBLE_EQ(row["p50_s"].as_number(), 0.003) << out;
  EXPECT_NEAR(row["avg_s"].as_number(), 0.036 / 5, 1e-12) << out;
  EXPECT_DOUBLE_EQ((*report)["total"]["p50_s"].as_number(), 0.003) << out;

  ASSERT_EQ(usage_cli({"--ledger", a, "--ledger", b, "--by", "tool"}, &out, &err), 0) << err;
  EXPECT_EQ(
      out,
      "usage by tool, all time, from 2 ledgers\n"
      "TOOL           CALLS  OK  ERROR  TIMEOUT  UNAVAILABLE  INVALID_ARGS  OTHER  P50_S  AVG_S\n"
      "projects.list      5   5      0        0            0             0      0  0.003  0.007\n"
      "TOTAL              5   5      0        0            0             0      0  0.003  0.007\n");
}

TEST_F(UsageLedgersTest, OneLedgerNamedTwiceIsRefusedWithExit2) {
  add_tool_calls(a, {0.001});
  add_tool_calls(b, {0.001});
  std::filesystem::create_symlink(a, data.file("link.db"));
  ASSERT_EQ(::link(b.c_str(), data.file("hard.db").c_str()), 0);
  const std::vector<std::vector<std::string>> twice = {
      {a, a}, {a, b, data.file("link.db")}, {data.file("hard.db"), b}, {a, data.file("./a.db")}};
  for (const std::vector<std::string>& ledgers : twice) {
    std::vector<std::string> args;
    for (const std::string& l : ledgers) args.insert(args.end(), {"--ledger", l});
    std::string out, err;
    EXPECT_EQ(usage_cli(args, &out, &err), 2) << err;
    EXPECT_EQ(out, "");
    EXPECT_NE(err.find("is the same file as --ledger"), std::string::npos) << err;
    EXPECT_NE(err.find("counted twice"), std::string::npos) << err;
    EXPECT_NE(err.find(ledgers.back()), std::string::npos) << err;
  }
}

TEST_F(UsageLedgersTest, AnUnreadableLedgerIsExit1NamingItAndNothingOnStdout) {
  add_tool_calls(a, {0.001});
  const std::string missing = data.file("missing.db");
  const std::string not_ledger = data.write("notes.txt", "just text, not a database at all");
  std::string out, err;
  for (const char* by : {"agent", "tool"}) {
    EXPECT_EQ(usage_cli({"--ledger", a, "--ledger", missing, "--by", by}, &out, &err), 1);
    EXPECT_EQ(out, "");
    EXPECT_NE(err.find(missing + ": no such file"), std::string::npos) << err;

    EXPECT_EQ(usage_cli({"--ledger", not_ledger, "--ledger", a, "--json", "--by", by}, &out, &err),
              1);
    EXPECT_EQ(out, "");
    EXPECT_NE(err.find(not_ledger + ": not a sluice ledger"), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace sluice::test
