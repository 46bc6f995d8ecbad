// DESIGN §10: "A request whose bytes reached a provider is never sent again behind the retry
// policy's back." Two mock providers A and B; sluice keeps a keep-alive connection to A after a
// first request, then A misbehaves on that pooled connection:
//   - A reads the whole next request, then resets the connection before any response byte.
//     That request may have been billed: it is an attempt (a `reset`) that the retry filter
//     decides on — the next target with `retry: {attempts: 2, fallback: true}`, a 502 without a
//     retry filter — counted in x-sluice-attempts and the metrics and charged its prompt
//     estimate in the ledger. A sees it once.
//   - A closes the pooled connection while it is idle (no request on it). That is not an
//     attempt: the next request goes on a new connection, transparently (attempts 1).
// (The race where A's close is in flight when the request picks the connection is covered
// deterministically in tests/unit/upstream_pool_test.cc.)
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPair = "pair";  // targets: a, then b (priority)
constexpr const char* kSolo = "solo";  // targets: a only

class NoSilentResendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
  }

  // `retry`: the retry filter's settings as a YAML flow map, or "" for no retry filter.
  void start(const std::string& retry) {
    std::string y;
    y += "listen: 127.0.0.1:0\n";
    y += "admin: 127.0.0.1:0\n";
    y += "workers: 1\n";
    y += "providers:\n";
    y += "  a:\n    type: openai\n    base_url: " + a.base_url() + "\n    api_key: sk-a\n";
    y += "  b:\n    type: openai\n    base_url: " + b.base_url() + "\n    api_key: sk-b\n";
    y += "models:\n";
    y += std::string("  ") + kPair + ":\n    strategy: priority\n    targets:\n";
    y += "      - {provider: a, model: model-a}\n      - {provider: b, model: model-b}\n";
    y += std::string("  ") + kSolo + ":\n    targets:\n      - {provider: a, model: model-a}\n";
    y += "filters:\n";
    y += "  - model_alias: {}\n";
    y += "  - cost: {prices: {model-a: {input: 3, output: 15}, model-b: {input: 3, output: 15}}}\n";
    if (!retry.empty()) y += "  - retry: " + retry + "\n";
    y += "state: {ledger: " + json_quote(ledger) + ", flush_interval: 20ms}\n";
    ASSERT_TRUE(sluice.start(sluice_binary(), y));
  }

  std::optional<HttpResponse> chat(const std::string& model, const std::string& text,
                                   const Headers& headers = {}) {
    HttpClient client = sluice.client();
    client.set_timeout(10s);
    auto r = client.post_json("/v1/chat/completions", chat_body(model, text), headers);
    EXPECT_TRUE(r) << "no answer from sluice: " << client.error() << "\n" << sluice.describe();
    return r;
  }

  // A first request through A leaves one keep-alive connection to A in sluice's pool.
  void warm_up_a() {
    auto r = chat(kSolo, "warm up");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->describe();
    ASSERT_EQ(r->header("x-sluice-provider"), "a");
  }

  static int64_t requests_received(MockProvider& mock) {
    auto s = mock.stats();
    EXPECT_TRUE(s) << "the mock did not answer /__stats";
    return s ? (*s)["requests_total"].as_int() : -1;
  }
  static int64_t connections_opened(MockProvider& mock) {
    auto s = mock.stats();
    EXPECT_TRUE(s) << "the mock did not answer /__stats";
    return s ? (*s)["connections_total"].as_int() : -1;
  }

  std::optional<LedgerTestRow> row_of(const std::string& request_id) {
    std::optional<LedgerTestRow> found;
    eventually(
        [&] {
          auto rows = read_ledger_rows(ledger);
          if (!rows) return false;
          for (const LedgerTestRow& r : *rows)
            if (r.request_id == request_id) found = r;
          return found.has_value();
        },
        20s);
    if (!found) ADD_FAILURE() << "no ledger row for " << request_id << "\n" << sluice.describe();
    return found;
  }

  std::string metrics_text() {
    auto r = sluice.admin_client().get("/metrics");
    return r ? r->body : "";
  }

  MockProvider a{mock_provider_binary()};
  MockProvider b{mock_provider_binary()};
  TempDir data;
  std::string ledger = data.file("ledger.db");
  SluiceServer sluice;
};

// The prompt estimate sluice charges an unanswered attempt (4 bytes a token, rounded up).
int64_t prompt_estimate(const std::string& body) {
  return static_cast<int64_t>((body.size() + 3) / 4);
}

TEST_F(NoSilentResendTest, ResetAfterTheWholeRequestIsAnAttemptTheRetryFilterMovesOn) {
  start("{attempts: 2, fallback: true, backoff: {base: 1ms, max: 5ms}}");
  warm_up_a();
  ASSERT_EQ(requests_received(a), 1);
  ASSERT_TRUE(a.control("reset", 1));  // A reads the next request whole, then RST

  const std::string text = "billed once, answered by b";
  auto r = chat(kPair, text);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "b") << r->describe();
  EXPECT_EQ(r->header("x-sluice-attempts"), "2") << r->describe();
  std::this_thread::sleep_for(100ms);  // a silent re-send to A would have arrived by now
  EXPECT_EQ(requests_received(a), 2) << "A saw the request more than once";
  EXPECT_EQ(requests_received(b), 1);

  // Counted as a retry for a reset, and charged A's prompt estimate on top of B's answer.
  std::string text_metrics;
  EXPECT_TRUE(eventually(
      [&] {
        text_metrics = metrics_text();
        return text_metrics.find("sluice_retries_total{provider=\"a\",reason=\"reset\"} 1") !=
               std::string::npos;
      },
      5s))
      << text_metrics;
  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  const int64_t answered_input = (*r->json())["usage"]["prompt_tokens"].as_int();
  EXPECT_EQ(row->attempts, 2) << describe(*row);
  EXPECT_EQ(row->estimated, 1) << "A's attempt is an estimate: " << describe(*row);
  EXPECT_EQ(row->input, answered_input + prompt_estimate(chat_body(kPair, text)))
      << "B's prompt plus A's prompt estimate: " << describe(*row);
  EXPECT_GT(row->cost, 0) << describe(*row);
}

TEST_F(NoSilentResendTest, ResetAfterTheWholeRequestWithoutRetryIs502AndCharged) {
  start("");
  warm_up_a();
  ASSERT_TRUE(a.control("reset", 1));

  const std::string text = "billed once, never answered";
  auto r = chat(kSolo, text);
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 502, "upstream_error")) << r->describe();
  EXPECT_EQ(r->header("x-sluice-attempts"), "1") << r->describe();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(requests_received(a), 2) << "A saw the request more than once";

  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, 502) << describe(*row);
  EXPECT_EQ(row->estimated, 1) << describe(*row);
  EXPECT_EQ(row->input, prompt_estimate(chat_body(kSolo, text))) << describe(*row);
  EXPECT_EQ(row->output, 0) << describe(*row);
  EXPECT_NEAR(row->cost, row->input * 3.0 / 1e6, 1e-12) << describe(*row);

  // The pool is not poisoned: the next request is served normally.
  auto next = chat(kSolo, "after the reset");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200) << next->describe();
}

TEST_F(NoSilentResendTest, AConnectionTheProviderClosedWhileIdleIsReplacedTransparently) {
  start("");
  const int64_t opened_before = connections_opened(a);  // the stats call's own connection
  // A answers, then closes the pooled connection without having said Connection: close.
  auto first = chat(kSolo, "answer then hang up", {{"x-mock-behavior", "close_after"}});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->describe();
  std::this_thread::sleep_for(100ms);  // the close reaches sluice while the connection is idle

  auto second = chat(kSolo, "on a new connection");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200) << second->describe();
  EXPECT_EQ(second->header("x-sluice-attempts"), "1") << second->describe();
  EXPECT_EQ(requests_received(a), 2) << "each request reached A exactly once";
  // opened_before's stats call, sluice's two connections, and the stats calls since: A
  // accepted exactly two connections from sluice.
  EXPECT_EQ(connections_opened(a) - opened_before, 2 + 2);
  EXPECT_EQ(metrics_text().find("reason=\"reset\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace sluice::test
