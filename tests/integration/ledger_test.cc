// The spend ledger end to end (DESIGN §3, issue 6): a real sluice in front of the mock provider
// writes one row per request to `state.ledger`; SIGTERM flushes every row, a kill -9 loses none
// that were committed; a restart appends to the same file; `sluice usage` and GET /usage report
// it. The rows are read back with SQLite, as an operator's script would.
#include <signal.h>

#include <map>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// What one request should have left in the ledger.
struct Expected {
  std::string agent, model, physical;
  int status = 200;
  int64_t input = 0, output = 0;
};

using Row = LedgerTestRow;

// {"model", "messages", "stream": true, "stream_options": {"include_usage": true}}: the client
// asks for the usage chunk, so the numbers it sees are the provider's.
std::string stream_body_with_usage(const std::string& model, const std::string& text) {
  auto body = Json::parse(chat_body(model, text, true));
  Json options = Json::object();
  options.set("include_usage", true);
  body->set("stream_options", options);
  return body->dump();
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }

  // Starts `server` with the standard gateway config and this test's ledger.
  void start(SluiceServer& server) {
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    std::string yaml = config.to_yaml();
    const std::string off = "state: {ledger: \"\"}\n";
    const size_t at = yaml.find(off);
    ASSERT_NE(at, std::string::npos) << "GatewayConfig no longer turns the ledger off that way";
    yaml.replace(at, off.size(),
                 "state: {ledger: " + json_quote(ledger) + ", flush_interval: 50ms}\n");
    ASSERT_TRUE(server.start(sluice_binary(), yaml));
  }

  // One chat completion (JSON); records what the ledger should hold for it.
  void json_request(SluiceServer& server, const std::string& key, const std::string& agent,
                    const std::string& model, const std::string& physical,
                    const std::string& text) {
    auto r = server.client().post_json("/v1/chat/completions", chat_body(model, text), bearer(key));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    auto body = r->json();
    ASSERT_TRUE(body);
    Expected e{agent,
               model,
               physical,
               200,
               (*body)["usage"]["prompt_tokens"].as_int(-1),
               (*body)["usage"]["completion_tokens"].as_int(-1)};
    ASSERT_GT(e.input, 0);
    expected[r->header("x-request-id")] = e;
  }

  // One streamed chat completion with include_usage; the usage chunk's numbers are expected.
  void stream_request(SluiceServer& server, const std::string& key, const std::string& agent,
                      const std::string& model, const std::string& physical,
                      const std::string& text) {
    StreamResult s = server.client().stream_post("/v1/chat/completions",
                                                 stream_body_with_usage(model, text), bearer(key));
    ASSERT_TRUE(s.complete && s.head && s.head->status == 200) << s.describe();
    Expected e{agent, model, physical, 200, -1, -1};
    for (const SseEvent& event : s.events) {
      auto data = Json::parse(event.data);
      if (data && (*data)["usage"].is_object()) {
        e.input = (*data)["usage"]["prompt_tokens"].as_int(-1);
        e.output = (*data)["usage"]["completion_tokens"].as_int(-1);
      }
    }
    ASSERT_GT(e.input, 0) << "the stream carried no usage chunk: " << s.describe();
    expected[s.head->header("x-request-id")] = e;
  }

  // sluice_ledger_rows_total{result="written"} from /metrics (-1 when absent).
  static double rows_written(SluiceServer& server) {
    auto r = server.admin_client().get("/metrics");
    if (!r) return -1;
    const std::string name = "sluice_ledger_rows_total{result=\"written\"} ";
    const size_t at = r->body.find(name);
    return at == std::string::npos ? -1 : std::stod(r->body.substr(at + name.size()));
  }

  static void stop_with_sigterm(SluiceServer& server) {
    ASSERT_TRUE(server.process().signal(SIGTERM));
    auto code = server.process().wait_exit(30s);
    ASSERT_TRUE(code.has_value()) << server.describe();
    EXPECT_EQ(*code, 0) << server.describe();
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

  // Every expected request has its row, with the provider's usage; nothing else is there.
  void expect_rows_match(const std::map<std::string, Row>& rows) {
    EXPECT_EQ(rows.size(), expected.size());
    for (const auto& [id, e] : expected) {
      auto it = rows.find(id);
      ASSERT_NE(it, rows.end()) << "no ledger row for request " << id;
      const Row& r = it->second;
      EXPECT_EQ(r.agent, e.agent) << id;
      EXPECT_EQ(r.model, e.model) << id;
      EXPECT_EQ(r.physical_model, e.physical) << id;
      EXPECT_EQ(r.provider, "mockai") << id;
      EXPECT_EQ(r.status, e.status) << id;
      EXPECT_EQ(r.input, e.input) << id;
      EXPECT_EQ(r.output, e.output) << id;
      EXPECT_EQ(r.cached, 0) << id;
      EXPECT_EQ(r.estimated, 0) << id;
      EXPECT_EQ(r.attempts, 1) << id;
      EXPECT_GT(r.latency, 0) << id;
      EXPECT_FALSE(r.ttft_null) << id;
      EXPECT_EQ(r.error_code, "") << id;
    }
  }

  MockProvider mock{mock_provider_binary()};
  TempDir data;  // outlives every sluice of the test: the ledger lives here
  std::string ledger = data.file("ledger.db");
  std::map<std::string, Expected> expected;  // by x-request-id
  int cli_runs = 0;
};

TEST_F(LedgerTest, SigtermWritesARowForEveryRequestWithTheProvidersUsage) {
  SluiceServer sluice;
  start(sluice);
  for (int i = 0; i < 3; ++i) {
    json_request(sluice, kAliceKey, "alice", kFastModel, kFastPhysical,
                 "count these " + std::to_string(i) + " words please");
    stream_request(sluice, kBobKey, "bob", kSmartModel, kSmartPhysical,
                   "a streamed question number " + std::to_string(i));
  }
  // Refused before routing: no row (the access log has them).
  auto unauthenticated = sluice.client().post_json("/v1/chat/completions",
                                                   chat_body(kFastModel, "hi"), bearer("sk-no"));
  ASSERT_TRUE(unauthenticated && unauthenticated->status == 401);
  auto not_allowed = sluice.client().post_json("/v1/chat/completions", chat_body(kSmartModel, "hi"),
                                               bearer(kAliceKey));
  ASSERT_TRUE(not_allowed && not_allowed->status == 403);

  stop_with_sigterm(sluice);
  expect_rows_match(ledger_rows_by_id(ledger));
}

TEST_F(LedgerTest, AnUpstreamErrorIsARowWithItsStatus) {
  SluiceServer sluice;
  start(sluice);
  Headers headers = bearer(kBobKey);
  headers.emplace_back("x-mock-behavior", "status:500");
  auto r =
      sluice.client().post_json("/v1/chat/completions", chat_body(kFastModel, "fail"), headers);
  ASSERT_TRUE(r);
  ASSERT_GE(r->status, 500) << r->describe();
  stop_with_sigterm(sluice);
  auto rows = ledger_rows_by_id(ledger);
  auto it = rows.find(r->header("x-request-id"));
  ASSERT_NE(it, rows.end());
  EXPECT_EQ(it->second.status, r->status);
  EXPECT_EQ(it->second.agent, "bob");
  EXPECT_EQ(it->second.provider, "mockai");
  EXPECT_GE(it->second.attempts, 1);
}

TEST_F(LedgerTest, KillNineLosesNoRowTheWriterHadCommitted) {
  SluiceServer sluice;
  start(sluice);
  for (int i = 0; i < 4; ++i) {
    json_request(sluice, kAliceKey, "alice", kFastModel, kFastPhysical,
                 "json " + std::to_string(i));
    stream_request(sluice, kBobKey, "bob", kSmartModel, kSmartPhysical,
                   "stream " + std::to_string(i));
  }
  // No stop(): the interval writer alone commits them (a few flush intervals after the last
  // response; waited for by the metric, not by the clock).
  ASSERT_TRUE(eventually([&] { return rows_written(sluice) == 8; }, 20s))
      << "rows written: " << rows_written(sluice);
  ASSERT_TRUE(sluice.process().signal(SIGKILL));
  auto code = sluice.process().wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 128 + SIGKILL);
  expect_rows_match(ledger_rows_by_id(ledger));
}

TEST_F(LedgerTest, RestartAppendsAndUsageReportsBothRuns) {
  {
    SluiceServer first;
    start(first);
    json_request(first, kAliceKey, "alice", kFastModel, kFastPhysical, "first run one");
    json_request(first, kAliceKey, "alice", kFastModel, kFastPhysical, "first run two two");
    stop_with_sigterm(first);
  }
  {
    SluiceServer second;
    start(second);
    json_request(second, kAliceKey, "alice", kFastModel, kFastPhysical, "second run");
    stream_request(second, kBobKey, "bob", kSmartModel, kSmartPhysical, "second run stream");
    json_request(second, kBobKey, "bob", kFastModel, kFastPhysical, "bob asks fast");
    stop_with_sigterm(second);
  }
  expect_rows_match(ledger_rows_by_id(ledger));
  std::map<std::string, int64_t> input, output, requests;
  for (const auto& [id, e] : expected) {
    input[e.agent] += e.input;
    output[e.agent] += e.output;
    ++requests[e.agent];
  }

  std::string out, err;
  ASSERT_EQ(usage_cli({"--ledger", ledger, "--by", "agent"}, &out, &err), 0) << err;
  // A title, the header, alice (3 requests) and bob (2), cost 0 without a cost filter, TOTAL.
  EXPECT_NE(out.find("usage by agent, whole ledger"), std::string::npos) << out;
  EXPECT_NE(out.find("REQUESTS"), std::string::npos) << out;
  for (const std::string agent : {"alice", "bob"}) {
    const size_t at = out.find("\n" + agent + " ");
    ASSERT_NE(at, std::string::npos) << out;
    const std::string line = out.substr(at + 1, out.find('\n', at + 1) - at - 1);
    EXPECT_NE(line.find(" " + std::to_string(requests[agent]) + " "), std::string::npos) << line;
    EXPECT_NE(line.find(" " + std::to_string(input[agent]) + " "), std::string::npos) << line;
    EXPECT_NE(line.find("0.000000"), std::string::npos) << line;
  }
  EXPECT_NE(out.find("\nTOTAL "), std::string::npos) << out;

  ASSERT_EQ(usage_cli({"--ledger", ledger, "--by=agent", "--json", "--since", "1h"}, &out, &err), 0)
      << err;
  auto report = Json::parse(out);
  ASSERT_TRUE(report) << out;
  EXPECT_EQ((*report)["by"].str(), "agent");
  EXPECT_TRUE((*report)["since"].is_string());
  EXPECT_EQ((*report)["total"]["requests"].as_int(), 5);
  EXPECT_EQ((*report)["total"]["input_tokens"].as_int(), input["alice"] + input["bob"]);
  EXPECT_EQ((*report)["total"]["output_tokens"].as_int(), output["alice"] + output["bob"]);
  ASSERT_EQ((*report)["rows"].size(), 2u);
  for (const Json& row : (*report)["rows"].items()) {
    const std::string agent = row["key"].str();
    EXPECT_EQ(row["requests"].as_int(), requests[agent]) << agent;
    EXPECT_EQ(row["input_tokens"].as_int(), input[agent]) << agent;
    EXPECT_EQ(row["output_tokens"].as_int(), output[agent]) << agent;
    EXPECT_EQ(row["estimated_share"].as_number(-1), 0) << agent;
  }
}

TEST_F(LedgerTest, AdminUsageMatchesTheCliAndRefusesABadBy) {
  SluiceServer sluice;
  start(sluice);
  json_request(sluice, kAliceKey, "alice", kFastModel, kFastPhysical, "one");
  json_request(sluice, kBobKey, "bob", kFastModel, kFastPhysical, "two words");
  stream_request(sluice, kBobKey, "bob", kSmartModel, kSmartPhysical, "three little words");
  ASSERT_TRUE(eventually([&] { return rows_written(sluice) == 3; }, 20s));

  auto r = sluice.admin_client().get("/usage?by=model&since=1h");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
  auto body = r->json();
  ASSERT_TRUE(body) << r->body;
  EXPECT_EQ((*body)["by"].str(), "model");
  int64_t fast_input = 0;
  for (const auto& [id, e] : expected)
    if (e.model == kFastModel) fast_input += e.input;
  bool saw_fast = false;
  for (const Json& row : (*body)["rows"].items()) {
    if (row["key"].str() != kFastModel) continue;
    saw_fast = true;
    EXPECT_EQ(row["requests"].as_int(), 2);
    EXPECT_EQ(row["input_tokens"].as_int(), fast_input);
  }
  EXPECT_TRUE(saw_fast) << r->body;
  EXPECT_EQ((*body)["total"]["requests"].as_int(), 3);

  // The CLI reads the same file while sluice is still writing it (WAL) and agrees.
  std::string out, err;
  ASSERT_EQ(usage_cli({"--ledger", ledger, "--by", "model", "--json"}, &out, &err), 0) << err;
  auto cli = Json::parse(out);
  ASSERT_TRUE(cli) << out;
  EXPECT_EQ((*cli)["rows"].dump(), (*body)["rows"].dump());
  EXPECT_EQ((*cli)["total"].dump(), (*body)["total"].dump());

  auto bad = sluice.admin_client().get("/usage?by=colour");
  EXPECT_TRUE(is_openai_error(bad, 400, "invalid_usage_query"));
  EXPECT_NE(bad->body.find("agent, model, provider or tool"), std::string::npos) << bad->body;
  EXPECT_TRUE(is_openai_error(sluice.admin_client().get("/usage?since=soon"), 400));
}

TEST_F(LedgerTest, LedgerOffMeansUsage404) {
  GatewayConfig config;  // state: {ledger: ""}
  config.provider_base_url = mock.base_url();
  SluiceServer sluice;
  ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  EXPECT_TRUE(is_openai_error(sluice.admin_client().get("/usage"), 404, "ledger_disabled"));
}

TEST_F(LedgerTest, UsageCliErrorsGoToStderrWithExitCodes) {
  std::string out, err;
  EXPECT_EQ(usage_cli({"--ledger", data.file("missing.db")}, &out, &err), 1);
  EXPECT_NE(err.find("no such file"), std::string::npos) << err;
  EXPECT_EQ(out, "");

  const std::string not_ledger = data.write("notes.txt", "just text, not a database at all");
  EXPECT_EQ(usage_cli({"--ledger", not_ledger}, &out, &err), 1);
  EXPECT_NE(err.find("not a sluice ledger"), std::string::npos) << err;

  EXPECT_EQ(usage_cli({"--ledger", not_ledger, "--by", "team"}, &out, &err), 2);
  EXPECT_NE(err.find("agent, model, provider or tool"), std::string::npos) << err;
  EXPECT_EQ(usage_cli({"--ledger", not_ledger, "--since", "yesterday"}, &out, &err), 2);
  EXPECT_NE(err.find("not a duration"), std::string::npos) << err;
  EXPECT_EQ(usage_cli({}, &out, &err), 2);
  EXPECT_NE(err.find("--ledger FILE is required"), std::string::npos) << err;
}

}  // namespace
}  // namespace sluice::test
