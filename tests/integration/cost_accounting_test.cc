// What sluice charges, seen from outside (issue 6 items 1–4 and 8, DESIGN §7, §8): a real sluice
// with the `cost` filter and inline prices in front of the test mock provider, whose usage
// numbers are known, so every charge can be computed exactly: tokens × USD per 1M tokens. Each
// test reads back what an operator would — the ledger row (SQLite), /metrics, `sluice usage`,
// GET /usage — and what the client saw.
#include <netinet/in.h>
#include <signal.h>

#include <cmath>
#include <fstream>
#include <map>
#include <regex>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// USD per 1M tokens.
struct Price {
  double input = 0, output = 0, cached_input = 0, cache_write = 0;
};

// The prices this test configures inline (filters: - cost: {prices: {...}}).
constexpr Price kFastPrice{3, 15, 0.3, 3.75};
constexpr Price kSmartPrice{1.25, 10, 0.125, 1.25};
constexpr Price kEmbedPrice{0.02, 0, 0.02, 0.02};
constexpr const char* kClaudeModel = "sonnet";
constexpr const char* kClaudePhysical = "mock-claude-physical-4";
constexpr Price kClaudePrice{3, 15, 0.3, 3.75};

// The cost formula of DESIGN §8 / core/usage/usage.h, written out independently: uncached
// input at the input price, cache reads and writes at theirs, output at the output price.
double cost_of(const Price& p, int64_t input, int64_t output, int64_t cached, int64_t cache_write) {
  const double uncached = static_cast<double>(input - cached - cache_write);
  return (uncached * p.input + static_cast<double>(cached) * p.cached_input +
          static_cast<double>(cache_write) * p.cache_write +
          static_cast<double>(output) * p.output) /
         1e6;
}

std::string price_yaml(const Price& p) {
  auto n = [](double d) {
    std::ostringstream s;
    s << d;
    return s.str();
  };
  return "{input: " + n(p.input) + ", output: " + n(p.output) +
         ", cached_input: " + n(p.cached_input) + ", cache_write: " + n(p.cache_write) + "}";
}

using Row = LedgerTestRow;

// Every row, in insertion order; nullopt while the file cannot be read (not created yet).
std::optional<std::vector<Row>> read_rows(const std::string& path) {
  return read_ledger_rows(path);
}

// The value of one sample of /metrics: the line `name{...}` whose labels include every one of
// `labels` (0 when there is none: a counter child not created yet counts as 0).
double metric(const std::string& text, const std::string& name,
              const std::map<std::string, std::string>& labels) {
  size_t at = 0;
  while ((at = text.find(name + "{", at)) != std::string::npos) {
    const bool line_start = at == 0 || text[at - 1] == '\n';
    const size_t close = text.find('}', at);
    const size_t end = text.find('\n', at);
    if (!line_start || close == std::string::npos || close > end) {
      at += name.size();
      continue;
    }
    const std::string label_text = text.substr(at + name.size() + 1, close - at - name.size() - 1);
    bool all = true;
    for (const auto& [k, v] : labels)
      if (label_text.find(k + "=\"" + v + "\"") == std::string::npos) all = false;
    // A label set may be a prefix of another (model="fast" vs model="faster"): exact quotes
    // above make that impossible, and a wanted label missing means another child.
    if (all) return std::stod(text.substr(close + 2, end - close - 2));
    at = end;
  }
  return 0;
}

// {"model", "messages", "stream": true, "stream_options": {"include_usage": true}}.
std::string stream_body_with_usage(const std::string& model, const std::string& text) {
  auto body = Json::parse(chat_body(model, text, true));
  Json options = Json::object();
  options.set("include_usage", true);
  body->set("stream_options", options);
  return body->dump();
}

Headers with_behavior(const std::string& key, const std::string& behavior) {
  Headers h = bearer(key);
  h.emplace_back("x-mock-behavior", behavior);
  return h;
}

// The usage object of the last event that carried one (OpenAI stream), or null.
Json stream_usage(const StreamResult& s) {
  Json usage;
  for (const SseEvent& e : s.events) {
    auto data = Json::parse(e.data);
    if (data && (*data)["usage"].is_object()) usage = (*data)["usage"];
  }
  return usage;
}

// Every delta.content of an OpenAI chat stream, joined: the content the client received.
std::string stream_content(const StreamResult& s) {
  std::string content;
  for (const SseEvent& e : s.events) {
    auto data = Json::parse(e.data);
    if (!data) continue;
    for (const Json& choice : (*data)["choices"].items())
      if (choice["delta"]["content"].is_string()) content += choice["delta"]["content"].str();
  }
  return content;
}

size_t stream_data_bytes(const StreamResult& s) {
  size_t n = 0;
  for (const SseEvent& e : s.events) n += e.data.size();
  return n + s.leftover.size();
}

size_t count_lines_containing(const std::string& text, const std::string& a, const std::string& b) {
  size_t n = 0, start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    if (line.find(a) != std::string_view::npos && line.find(b) != std::string_view::npos) ++n;
    start = end + 1;
  }
  return n;
}

class CostAccountingTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }

  // The standard gateway config with the chain auth, model_alias, cost (inline prices) and
  // this test's ledger; `config` for extra providers/models.
  std::string yaml(GatewayConfig config) const {
    if (config.provider_base_url.empty()) config.provider_base_url = mock.base_url();
    std::string y = config.to_yaml();
    auto replace = [&](const std::string& from, const std::string& to) {
      const size_t at = y.find(from);
      if (at == std::string::npos) {
        ADD_FAILURE() << "GatewayConfig no longer writes " << from;
        return;
      }
      y.replace(at, from.size(), to);
    };
    replace("  - model_alias: {}\n",
            "  - model_alias: {}\n"
            "  - cost:\n"
            "      prices:\n"
            "        " +
                std::string(kFastPhysical) + ": " + price_yaml(kFastPrice) + "\n" + "        " +
                kSmartPhysical + ": " + price_yaml(kSmartPrice) + "\n" + "        " +
                kEmbedPhysical + ": " + price_yaml(kEmbedPrice) + "\n" + "        " +
                kClaudePhysical + ": " + price_yaml(kClaudePrice) + "\n");
    replace("state: {ledger: \"\"}\n",
            "state: {ledger: " + json_quote(ledger) + ", flush_interval: 20ms}\n");
    return y;
  }

  void start(const GatewayConfig& config = {}) {
    ASSERT_TRUE(sluice.start(sluice_binary(), yaml(config)));
  }

  std::string metrics() {
    auto r = sluice.admin_client().get("/metrics");
    return r && r->status == 200 ? r->body : "";
  }

  // The ledger row of one request, once the writer has committed it (up to 20 s).
  std::optional<Row> row_of(const std::string& request_id) {
    std::optional<Row> found;
    eventually(
        [&] {
          auto rows = read_rows(ledger);
          if (!rows) return false;
          for (const Row& r : *rows)
            if (r.request_id == request_id) found = r;
          return found.has_value();
        },
        20s);
    if (!found)
      ADD_FAILURE() << "no ledger row for request " << request_id << "\n" << sluice.describe();
    return found;
  }

  // The row's cost is the formula applied to the row's own tokens at `price`.
  static void expect_cost_matches_tokens(const Row& r, const Price& price) {
    EXPECT_NEAR(r.cost, cost_of(price, r.input, r.output, r.cached, r.cache_write), 1e-9)
        << describe(r);
  }

  // sluice_tokens_total and sluice_cost_usd_total of (agent, logical model) grow by exactly
  // the row's numbers: `before` is /metrics before the request.
  void expect_metrics_grew_by(const std::string& before, const Row& r) {
    const std::map<std::string, std::string> in{
        {"agent", r.agent}, {"model", r.model}, {"type", "input"}};
    const std::map<std::string, std::string> out{
        {"agent", r.agent}, {"model", r.model}, {"type", "output"}};
    const std::map<std::string, std::string> cached{
        {"agent", r.agent}, {"model", r.model}, {"type", "cached"}};
    const std::map<std::string, std::string> cost{{"agent", r.agent}, {"model", r.model}};
    std::string after;
    // Metrics are counted at on_complete, a moment after the client's last byte.
    eventually(
        [&] {
          after = metrics();
          return std::abs(metric(after, "sluice_cost_usd_total", cost) -
                          metric(before, "sluice_cost_usd_total", cost) - r.cost) < 1e-9 &&
                 metric(after, "sluice_tokens_total", out) -
                         metric(before, "sluice_tokens_total", out) ==
                     static_cast<double>(r.output);
        },
        5s);
    EXPECT_EQ(metric(after, "sluice_tokens_total", in) - metric(before, "sluice_tokens_total", in),
              static_cast<double>(r.input))
        << describe(r);
    EXPECT_EQ(
        metric(after, "sluice_tokens_total", out) - metric(before, "sluice_tokens_total", out),
        static_cast<double>(r.output))
        << describe(r);
    EXPECT_EQ(metric(after, "sluice_tokens_total", cached) -
                  metric(before, "sluice_tokens_total", cached),
              static_cast<double>(r.cached))
        << describe(r);
    EXPECT_NEAR(metric(after, "sluice_cost_usd_total", cost) -
                    metric(before, "sluice_cost_usd_total", cost),
                r.cost, 1e-9)
        << describe(r);
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

  MockProvider mock{mock_provider_binary()};
  TempDir data;  // the ledger lives here
  std::string ledger = data.file("ledger.db");
  SluiceServer sluice;
  int cli_runs = 0;
};

// ---- exact charges, OpenAI shapes -------------------------------------------------------------

TEST_F(CostAccountingTest, OpenAiJsonIsChargedTheProvidersUsageTimesThePrice) {
  start();
  const std::string before = metrics();
  auto r = sluice.client().post_json(
      "/v1/chat/completions", chat_body(kFastModel, "price these seven words exactly please"),
      bearer(kAliceKey));
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
  auto body = r->json();
  ASSERT_TRUE(body);
  const int64_t prompt = (*body)["usage"]["prompt_tokens"].as_int(-1);
  const int64_t completion = (*body)["usage"]["completion_tokens"].as_int(-1);
  ASSERT_GT(prompt, 0);
  ASSERT_GT(completion, 0);

  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->agent, "alice");
  EXPECT_EQ(row->model, kFastModel);
  EXPECT_EQ(row->physical_model, kFastPhysical);
  EXPECT_EQ(row->status, 200);
  EXPECT_EQ(row->input, prompt);
  EXPECT_EQ(row->output, completion);
  EXPECT_EQ(row->cached, 0);
  EXPECT_EQ(row->estimated, 0);
  EXPECT_NEAR(row->cost, (prompt * 3.0 + completion * 15.0) / 1e6, 1e-9) << describe(*row);
  EXPECT_GT(row->cost, 0);
  expect_metrics_grew_by(before, *row);
}

TEST_F(CostAccountingTest, StreamWithIncludeUsageIsChargedTheUsageChunk) {
  start();
  const std::string before = metrics();
  StreamResult s = sluice.client().stream_post(
      "/v1/chat/completions", stream_body_with_usage(kSmartModel, "stream me some words"),
      bearer(kBobKey));
  ASSERT_TRUE(s.complete && s.head && s.head->status == 200) << s.describe();
  const Json usage = stream_usage(s);
  ASSERT_TRUE(usage.is_object()) << "the client asked include_usage and got no usage: "
                                 << s.describe();
  auto row = row_of(s.head->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->physical_model, kSmartPhysical);
  EXPECT_EQ(row->input, usage["prompt_tokens"].as_int(-1));
  EXPECT_EQ(row->output, usage["completion_tokens"].as_int(-1));
  EXPECT_EQ(row->estimated, 0);
  EXPECT_NEAR(row->cost,
              cost_of(kSmartPrice, usage["prompt_tokens"].as_int(),
                      usage["completion_tokens"].as_int(), 0, 0),
              1e-9);
  EXPECT_GT(row->cost, 0);
  expect_metrics_grew_by(before, *row);
}

// Issue 6 item 2: the client did not ask for usage, sluice asked upstream for it, charged it
// and kept it from the client.
TEST_F(CostAccountingTest, StreamWithoutIncludeUsageIsStillChargedTheProvidersUsage) {
  start();
  const std::string text = "the same question twice over";
  // The numbers the provider reports for this request, as a client asking for them sees them.
  StreamResult asked = sluice.client().stream_post(
      "/v1/chat/completions", stream_body_with_usage(kFastModel, text), bearer(kBobKey));
  ASSERT_TRUE(asked.complete) << asked.describe();
  const Json usage = stream_usage(asked);
  ASSERT_TRUE(usage.is_object()) << asked.describe();
  // Its metrics are counted just before its ledger row is queued: once the row is there,
  // /metrics no longer moves for it.
  ASSERT_TRUE(row_of(asked.head->header("x-request-id")));

  const std::string before = metrics();
  StreamResult s = sluice.client().stream_post("/v1/chat/completions",
                                               chat_body(kFastModel, text, true), bearer(kBobKey));
  ASSERT_TRUE(s.complete && s.head && s.head->status == 200) << s.describe();
  for (const SseEvent& e : s.events) {
    EXPECT_EQ(e.data.find("\"usage\""), std::string::npos)
        << "a client that did not ask for usage got it: " << e.data;
  }
  ASSERT_FALSE(s.events.empty());
  EXPECT_EQ(s.events.back().data, "[DONE]");

  auto row = row_of(s.head->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->estimated, 0) << "sluice should have asked the provider for usage: "
                               << describe(*row);
  EXPECT_EQ(row->input, usage["prompt_tokens"].as_int(-1));
  EXPECT_EQ(row->output, usage["completion_tokens"].as_int(-1));
  expect_cost_matches_tokens(*row, kFastPrice);
  EXPECT_GT(row->cost, 0);
  expect_metrics_grew_by(before, *row);
}

// Issue 6 item 1: "a usage chunk whose choices is not empty still counts" — a server that puts
// usage in its finish_reason chunk is charged that usage, and that chunk (content, not a
// usage-only chunk) reaches the client whole.
TEST_F(CostAccountingTest, UsageInAChunkWithChoicesCounts) {
  start();
  for (const bool asked : {true, false}) {
    const std::string text = "usage rides on the last choice";
    const std::string body =
        asked ? stream_body_with_usage(kFastModel, text) : chat_body(kFastModel, text, true);
    StreamResult s = sluice.client().stream_post("/v1/chat/completions", body,
                                                 with_behavior(kBobKey, "usage_in_last_chunk"));
    ASSERT_TRUE(s.complete && s.head && s.head->status == 200) << s.describe();
    Json usage;
    bool finish_seen = false;
    for (const SseEvent& e : s.events) {
      auto data = Json::parse(e.data);
      if (!data || (*data)["choices"].size() == 0) continue;
      if ((*data)["choices"][0]["finish_reason"].str() == "stop") {
        finish_seen = true;
        usage = (*data)["usage"];
      }
    }
    ASSERT_TRUE(finish_seen) << s.describe();
    ASSERT_TRUE(usage.is_object())
        << "the finish chunk lost its usage (asked " << asked << "): " << s.describe();
    auto row = row_of(s.head->header("x-request-id"));
    ASSERT_TRUE(row);
    EXPECT_EQ(row->estimated, 0) << describe(*row);
    EXPECT_EQ(row->input, usage["prompt_tokens"].as_int(-1)) << describe(*row);
    EXPECT_EQ(row->output, usage["completion_tokens"].as_int(-1)) << describe(*row);
    expect_cost_matches_tokens(*row, kFastPrice);
    EXPECT_GT(row->cost, 0);
  }
}

TEST_F(CostAccountingTest, CachedPromptTokensArePricedAtTheCachedPrice) {
  start();
  const std::string prompt =
      "a long system prompt that the provider has cached from an earlier call of this agent, "
      "twenty four words or more so the cache has something to hold";
  // JSON.
  auto r = sluice.client().post_json("/v1/chat/completions", chat_body(kFastModel, prompt),
                                     with_behavior(kAliceKey, "cached:16"));
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
  auto body = r->json();
  ASSERT_TRUE(body);
  const Json& u = (*body)["usage"];
  ASSERT_EQ(u["prompt_tokens_details"]["cached_tokens"].as_int(), 16) << r->body;
  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  // After the first request's row: its metrics are counted before the row is queued.
  const std::string before = metrics();
  EXPECT_EQ(row->input, u["prompt_tokens"].as_int(-1));
  EXPECT_EQ(row->cached, 16);
  EXPECT_EQ(row->estimated, 0);
  const int64_t in = u["prompt_tokens"].as_int(), out = u["completion_tokens"].as_int();
  EXPECT_NEAR(row->cost, ((in - 16) * 3.0 + 16 * 0.3 + out * 15.0) / 1e6, 1e-9) << describe(*row);

  // Stream with include_usage: the same pricing from the usage chunk.
  StreamResult s = sluice.client().stream_post("/v1/chat/completions",
                                               stream_body_with_usage(kFastModel, prompt),
                                               with_behavior(kAliceKey, "cached:10"));
  ASSERT_TRUE(s.complete && s.head && s.head->status == 200) << s.describe();
  const Json usage = stream_usage(s);
  ASSERT_EQ(usage["prompt_tokens_details"]["cached_tokens"].as_int(), 10) << s.describe();
  auto streamed = row_of(s.head->header("x-request-id"));
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->cached, 10);
  EXPECT_EQ(streamed->input, usage["prompt_tokens"].as_int(-1));
  EXPECT_EQ(streamed->output, usage["completion_tokens"].as_int(-1));
  EXPECT_NEAR(streamed->cost,
              ((usage["prompt_tokens"].as_int() - 10) * 3.0 + 10 * 0.3 +
               usage["completion_tokens"].as_int() * 15.0) /
                  1e6,
              1e-9)
      << describe(*streamed);
  expect_metrics_grew_by(before, *streamed);
}

TEST_F(CostAccountingTest, EmbeddingsArePricedForTheirInputOnly) {
  start();
  Json body = Json::object();
  body.set("model", kEmbedModel);
  body.set("input", Json::array().push_back("first text to embed").push_back("and a second one"));
  auto r = sluice.client().post_json("/v1/embeddings", body.dump(), bearer(kAliceKey));
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
  auto reply = r->json();
  ASSERT_TRUE(reply);
  const int64_t prompt = (*reply)["usage"]["prompt_tokens"].as_int(-1);
  ASSERT_GT(prompt, 0);
  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->physical_model, kEmbedPhysical);
  EXPECT_EQ(row->input, prompt);
  EXPECT_EQ(row->output, 0);
  EXPECT_EQ(row->estimated, 0);
  EXPECT_NEAR(row->cost, prompt * 0.02 / 1e6, 1e-12) << describe(*row);
  EXPECT_GT(row->cost, 0);
}

// The Responses API (usage.input_tokens/output_tokens, in the body or response.completed) and
// legacy completions (a stream without include_usage: sluice asks for it) are charged the
// provider's numbers too.
TEST_F(CostAccountingTest, ResponsesAndLegacyCompletionsAreChargedTheProvidersUsage) {
  start();
  Json request = Json::object();
  request.set("model", kFastModel);
  request.set("input", "what do the responses cost");
  auto r = sluice.client().post_json("/v1/responses", request.dump(), bearer(kAliceKey));
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
  auto body = r->json();
  ASSERT_TRUE(body);
  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->input, (*body)["usage"]["input_tokens"].as_int(-1)) << describe(*row);
  EXPECT_EQ(row->output, (*body)["usage"]["output_tokens"].as_int(-1)) << describe(*row);
  EXPECT_EQ(row->estimated, 0) << describe(*row);
  expect_cost_matches_tokens(*row, kFastPrice);
  EXPECT_GT(row->cost, 0);

  request.set("stream", true);
  StreamResult s = sluice.client().stream_post("/v1/responses", request.dump(), bearer(kAliceKey));
  ASSERT_TRUE(s.complete && s.head && s.head->status == 200) << s.describe();
  Json usage;
  for (const SseEvent& e : s.events)
    if (e.event == "response.completed") usage = (*Json::parse(e.data))["response"]["usage"];
  ASSERT_TRUE(usage.is_object()) << s.describe();
  auto streamed = row_of(s.head->header("x-request-id"));
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->input, usage["input_tokens"].as_int(-1)) << describe(*streamed);
  EXPECT_EQ(streamed->output, usage["output_tokens"].as_int(-1)) << describe(*streamed);
  EXPECT_EQ(streamed->estimated, 0) << describe(*streamed);
  expect_cost_matches_tokens(*streamed, kFastPrice);

  // Legacy completions: the same prompt with and without include_usage is charged the same.
  auto completion = [&](bool include_usage) {
    Json c = Json::object();
    c.set("model", kFastModel);
    c.set("prompt", "complete this sentence about sluices");
    c.set("stream", true);
    if (include_usage) {
      Json options = Json::object();
      options.set("include_usage", true);
      c.set("stream_options", options);
    }
    return sluice.client().stream_post("/v1/completions", c.dump(), bearer(kAliceKey));
  };
  StreamResult asked = completion(true);
  ASSERT_TRUE(asked.complete) << asked.describe();
  const Json asked_usage = stream_usage(asked);
  ASSERT_TRUE(asked_usage.is_object()) << asked.describe();
  StreamResult plain = completion(false);
  ASSERT_TRUE(plain.complete && plain.head) << plain.describe();
  for (const SseEvent& e : plain.events)
    EXPECT_EQ(e.data.find("\"usage\""), std::string::npos) << e.data;
  auto plain_row = row_of(plain.head->header("x-request-id"));
  ASSERT_TRUE(plain_row);
  EXPECT_EQ(plain_row->estimated, 0) << describe(*plain_row);
  EXPECT_EQ(plain_row->input, asked_usage["prompt_tokens"].as_int(-1)) << describe(*plain_row);
  EXPECT_EQ(plain_row->output, asked_usage["completion_tokens"].as_int(-1)) << describe(*plain_row);
  expect_cost_matches_tokens(*plain_row, kFastPrice);
}

// A reload that changes a price charges the requests after it at the new price; the ledger
// keeps what earlier requests cost.
TEST_F(CostAccountingTest, AReloadedPriceAppliesToLaterRequests) {
  start();
  auto ask = [&] {
    auto r = sluice.client().post_json(
        "/v1/chat/completions", chat_body(kFastModel, "same words every time"), bearer(kAliceKey));
    EXPECT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    return r ? row_of(r->header("x-request-id")) : std::nullopt;
  };
  auto before = ask();
  ASSERT_TRUE(before);
  expect_cost_matches_tokens(*before, kFastPrice);

  constexpr Price kDoubled{6, 30, 0.6, 7.5};
  std::string reloaded = read_file(sluice.config_path());
  const std::string old_entry = std::string(kFastPhysical) + ": " + price_yaml(kFastPrice);
  const size_t at = reloaded.find(old_entry);
  ASSERT_NE(at, std::string::npos) << reloaded;
  reloaded.replace(at, old_entry.size(), std::string(kFastPhysical) + ": " + price_yaml(kDoubled));
  {
    std::ofstream out(sluice.config_path(), std::ios::trunc);
    out << reloaded;
  }
  auto r = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");

  auto after = ask();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->input, before->input);
  EXPECT_EQ(after->output, before->output);
  expect_cost_matches_tokens(*after, kDoubled);
  EXPECT_NEAR(after->cost, 2 * before->cost, 1e-12) << describe(*after);
  // The earlier row is what it was.
  auto rows = read_rows(ledger);
  ASSERT_TRUE(rows);
  for (const Row& row : *rows) {
    if (row.request_id == before->request_id) {
      EXPECT_EQ(row.cost, before->cost);
    }
  }
}

// ---- exact charges, Anthropic shape ------------------------------------------------------------

class AnthropicCostTest : public CostAccountingTest {
 protected:
  void start_with_anthropic() {
    GatewayConfig config;
    config.extra_providers =
        "  claude:\n"
        "    type: anthropic\n"
        "    base_url: " +
        mock.base_url() +
        "\n"
        "    api_key: sk-ant-provider-secret\n";
    config.extra_models = "  " + std::string(kClaudeModel) +
                          ":\n"
                          "    targets:\n"
                          "      - {provider: claude, model: " +
                          kClaudePhysical + "}\n";
    start(config);
  }
};

// Anthropic's input_tokens excludes cache reads and writes: sluice's input is their sum, each
// part at its own price.
TEST_F(AnthropicCostTest, JsonChargesInputCacheReadCacheWriteAndOutputExactly) {
  start_with_anthropic();
  const std::string before = metrics();
  auto r = sluice.client().post_json(
      "/v1/messages", messages_body(kClaudeModel, "explain caching in a few words", false),
      with_behavior(kBobKey, "cached:40,cache_write:25"));
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
  auto body = r->json();
  ASSERT_TRUE(body) << r->body;
  const Json& u = (*body)["usage"];
  const int64_t input = u["input_tokens"].as_int(-1), output = u["output_tokens"].as_int(-1);
  const int64_t cache_read = u["cache_read_input_tokens"].as_int(-1);
  const int64_t cache_creation = u["cache_creation_input_tokens"].as_int(-1);
  ASSERT_GT(input, 0) << r->body;
  ASSERT_GT(output, 0) << r->body;
  ASSERT_EQ(cache_read, 40) << "cache_read_input_tokens: " << r->body;
  ASSERT_EQ(cache_creation, 25) << "cache_creation_input_tokens: " << r->body;

  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->physical_model, kClaudePhysical);
  EXPECT_EQ(row->provider, "claude");
  EXPECT_EQ(row->input, input + cache_read + cache_creation);
  EXPECT_EQ(row->cached, cache_read);
  EXPECT_EQ(row->cache_write, cache_creation);
  EXPECT_EQ(row->output, output);
  EXPECT_EQ(row->estimated, 0);
  EXPECT_NEAR(row->cost,
              (input * 3.0 + cache_read * 0.3 + cache_creation * 3.75 + output * 15.0) / 1e6, 1e-9)
      << describe(*row);
  expect_metrics_grew_by(before, *row);
}

// The stream's usage comes in two parts: message_start (input, cache) and message_delta
// (output, cumulative).
TEST_F(AnthropicCostTest, StreamChargesMessageStartAndMessageDeltaUsage) {
  start_with_anthropic();
  StreamResult s = sluice.client().stream_post(
      "/v1/messages", messages_body(kClaudeModel, "stream a short answer about caches", true),
      with_behavior(kBobKey, "cached:30,cache_write:12"));
  ASSERT_TRUE(s.complete && s.head && s.head->status == 200) << s.describe();
  int64_t input = -1, cache_read = -1, cache_creation = -1, output = -1;
  for (const SseEvent& e : s.events) {
    auto data = Json::parse(e.data);
    if (!data) continue;
    const Json& u = e.event == "message_start" ? (*data)["message"]["usage"] : (*data)["usage"];
    if (!u.is_object()) continue;
    if (u["input_tokens"].is_number()) input = u["input_tokens"].as_int();
    if (u["cache_read_input_tokens"].is_number())
      cache_read = u["cache_read_input_tokens"].as_int();
    if (u["cache_creation_input_tokens"].is_number())
      cache_creation = u["cache_creation_input_tokens"].as_int();
    if (u["output_tokens"].is_number()) output = u["output_tokens"].as_int();
  }
  ASSERT_GT(input, 0) << s.describe();
  ASSERT_GT(output, 0) << s.describe();
  ASSERT_EQ(cache_read, 30) << s.describe();
  ASSERT_EQ(cache_creation, 12) << s.describe();

  auto row = row_of(s.head->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->input, input + cache_read + cache_creation);
  EXPECT_EQ(row->cached, cache_read);
  EXPECT_EQ(row->cache_write, cache_creation);
  EXPECT_EQ(row->output, output);
  EXPECT_EQ(row->estimated, 0);
  EXPECT_NEAR(row->cost,
              (input * 3.0 + cache_read * 0.3 + cache_creation * 3.75 + output * 15.0) / 1e6, 1e-9)
      << describe(*row);
}

// An Anthropic stream cut after message_start: its input counts are the provider's, its output
// is an estimate (message_delta never came), and the row says estimated.
TEST_F(AnthropicCostTest, AStreamCutBeforeMessageDeltaKeepsItsInputAndEstimatesOutput) {
  start_with_anthropic();
  StreamResult s = sluice.client().stream_post(
      "/v1/messages", messages_body(kClaudeModel, "this stream will be cut", true),
      with_behavior(kBobKey, "cut,cached:20"));
  ASSERT_TRUE(s.head && s.head->status == 200) << s.describe();
  int64_t input = -1, cache_read = -1;
  for (const SseEvent& e : s.events) {
    if (e.event != "message_start") continue;
    auto data = Json::parse(e.data);
    ASSERT_TRUE(data) << e.data;
    const Json& u = (*data)["message"]["usage"];
    input = u["input_tokens"].as_int(-1);
    cache_read = u["cache_read_input_tokens"].as_int(-1);
  }
  ASSERT_GT(input, 0) << "the cut stream should still carry message_start: " << s.describe();
  auto row = row_of(s.head->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->estimated, 1) << describe(*row);
  EXPECT_EQ(row->input, input + cache_read) << describe(*row);
  EXPECT_EQ(row->cached, cache_read) << describe(*row);
  EXPECT_GE(row->output, 1) << describe(*row);
  expect_cost_matches_tokens(*row, kClaudePrice);
  EXPECT_GT(row->cost, 0);
}

// ---- estimates: never $0 for a request that reached a provider ------------------------------

TEST_F(CostAccountingTest, AStreamTheProviderCutsIsChargedAnEstimate) {
  start();
  const std::string body = chat_body(kFastModel, "a stream the provider will cut short", true);
  StreamResult s =
      sluice.client().stream_post("/v1/chat/completions", body, with_behavior(kAliceKey, "cut"));
  ASSERT_TRUE(s.head && s.head->status == 200) << s.describe();
  const std::string content = stream_content(s);
  ASSERT_FALSE(content.empty()) << "the mock streams 2 events before the cut: " << s.describe();

  auto row = row_of(s.head->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->estimated, 1) << describe(*row);
  EXPECT_GT(row->cost, 0) << describe(*row);
  // Prompt from the request body's size, completion from the bytes streamed (~4 bytes/token).
  EXPECT_GE(row->input, 1) << describe(*row);
  EXPECT_LE(row->input, static_cast<int64_t>((body.size() + 3) / 4)) << describe(*row);
  EXPECT_GE(row->output, static_cast<int64_t>((content.size() + 3) / 4)) << describe(*row);
  EXPECT_LE(row->output, static_cast<int64_t>((stream_data_bytes(s) + 3) / 4) + 1)
      << describe(*row) << "\n"
      << s.describe();
  expect_cost_matches_tokens(*row, kFastPrice);
}

TEST_F(CostAccountingTest, AClientThatLeavesMidStreamIsChargedAnEstimate) {
  start();
  std::string request_id;
  {
    HttpClient leaver = sluice.client();
    auto head = leaver.start_request("POST", "/v1/chat/completions",
                                     chat_body(kFastModel, "I will not wait for the end", true),
                                     {{"Authorization", std::string("Bearer ") + kAliceKey},
                                      {"Content-Type", "application/json"},
                                      {"x-mock-behavior", "slow_chunks:200,chunks:30"}});
    ASSERT_TRUE(head && head->status == 200) << leaver.error();
    request_id = head->header("x-request-id");
    ASSERT_TRUE(leaver.read_sse_event()) << leaver.error();
    ASSERT_TRUE(leaver.read_sse_event()) << leaver.error();
  }  // closes the socket with the stream in flight

  auto row = row_of(request_id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->error_code, "client_closed") << describe(*row);
  EXPECT_EQ(row->estimated, 1) << describe(*row);
  EXPECT_GE(row->input, 1) << describe(*row);
  EXPECT_GE(row->output, 1) << describe(*row);
  EXPECT_GT(row->cost, 0) << describe(*row);
  expect_cost_matches_tokens(*row, kFastPrice);
}

// The client leaves while the provider is still thinking (no answer byte yet): the provider had
// the prompt, so the prompt estimate is charged.
TEST_F(CostAccountingTest, AClientThatLeavesBeforeTheAnswerIsChargedThePromptEstimate) {
  start();
  const std::string body = chat_body(kFastModel, "a slow provider and an impatient client");
  std::string request_id = "cost-test-leaver-1";
  {
    HttpClient leaver = sluice.client();
    ASSERT_TRUE(leaver.connect()) << leaver.error();
    ASSERT_TRUE(
        leaver.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: sluice\r\n"
                        "Authorization: Bearer " +
                        std::string(kAliceKey) +
                        "\r\nContent-Type: application/json\r\n"
                        "x-request-id: " +
                        request_id +
                        "\r\nx-mock-behavior: slow:1500\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body));
    // The provider has the request once the mock logged it.
    ASSERT_TRUE(eventually(
        [&] {
          auto requests = mock.requests();
          return requests && requests->size() > 0;
        },
        5s));
  }  // closes the socket before any answer
  auto row = row_of(request_id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->error_code, "client_closed") << describe(*row);
  EXPECT_EQ(row->estimated, 1) << describe(*row);
  EXPECT_EQ(row->input, static_cast<int64_t>((body.size() + 3) / 4)) << describe(*row);
  EXPECT_EQ(row->output, 0) << describe(*row);
  EXPECT_NEAR(row->cost, row->input * 3.0 / 1e6, 1e-12) << describe(*row);
}

TEST_F(CostAccountingTest, AProviderThatOmitsUsageIsChargedAnEstimate) {
  start();
  auto r = sluice.client().post_json("/v1/chat/completions",
                                     chat_body(kFastModel, "no usage in this answer"),
                                     with_behavior(kAliceKey, "no_usage"));
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
  ASSERT_FALSE(r->json()->contains("usage")) << r->body;
  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->estimated, 1) << describe(*row);
  EXPECT_GE(row->input, 1) << describe(*row);
  EXPECT_GE(row->output, 1) << describe(*row);
  EXPECT_LE(row->output, static_cast<int64_t>((r->body.size() + 3) / 4)) << describe(*row);
  EXPECT_GT(row->cost, 0);
  expect_cost_matches_tokens(*row, kFastPrice);

  // A stream whose provider sends no usage chunk although it was asked for one.
  StreamResult s = sluice.client().stream_post(
      "/v1/chat/completions", stream_body_with_usage(kFastModel, "no usage chunk either"),
      with_behavior(kAliceKey, "no_usage"));
  ASSERT_TRUE(s.complete && s.head && s.head->status == 200) << s.describe();
  auto streamed = row_of(s.head->header("x-request-id"));
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->estimated, 1) << describe(*streamed);
  EXPECT_GE(streamed->output, static_cast<int64_t>((stream_content(s).size() + 3) / 4))
      << describe(*streamed);
  EXPECT_GT(streamed->cost, 0);
  expect_cost_matches_tokens(*streamed, kFastPrice);
}

// The provider had the prompt and never answered (a timeout, a reset): it may bill the prompt,
// so sluice charges the prompt estimate. A provider that was never reached costs nothing.
TEST_F(CostAccountingTest, AnUnansweredAttemptIsChargedThePromptEstimate) {
  GatewayConfig config;
  config.provider_timeouts = "{first_byte: 300ms}";
  config.extra_providers =
      "  down:\n"
      "    type: openai\n"
      "    base_url: http://127.0.0.1:" +
      std::to_string(unused_port()) +
      "/v1\n"
      "    api_key: sk-nobody\n";
  config.extra_models =
      "  nowhere:\n"
      "    targets:\n"
      "      - {provider: down, model: " +
      std::string(kFastPhysical) + "}\n";
  start(config);

  struct Case {
    std::string behavior;
    int status;
  };
  for (const Case& c : {Case{"hang", 504}, Case{"reset", 502}}) {
    const std::string body = chat_body(kFastModel, "are you there, provider? (" + c.behavior + ")");
    auto r = sluice.client().post_json("/v1/chat/completions", body,
                                       with_behavior(kAliceKey, c.behavior));
    ASSERT_TRUE(r) << c.behavior;
    EXPECT_EQ(r->status, c.status) << r->describe();
    auto row = row_of(r->header("x-request-id"));
    ASSERT_TRUE(row) << c.behavior;
    EXPECT_EQ(row->status, c.status) << describe(*row);
    EXPECT_EQ(row->estimated, 1) << describe(*row);
    EXPECT_EQ(row->input, static_cast<int64_t>((body.size() + 3) / 4)) << describe(*row);
    EXPECT_EQ(row->output, 0) << describe(*row);
    EXPECT_NEAR(row->cost, row->input * 3.0 / 1e6, 1e-12) << describe(*row);
    EXPECT_GT(row->cost, 0) << describe(*row);
  }

  // Nothing listens: the prompt never left sluice.
  auto r = sluice.client().post_json("/v1/chat/completions", chat_body("nowhere", "hello?"),
                                     bearer(kBobKey));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->describe();
  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->cost, 0) << describe(*row);
  EXPECT_EQ(row->input, 0) << describe(*row);
  EXPECT_EQ(row->output, 0) << describe(*row);
}

// DESIGN §10: "the attempt is charged for what was used". An attempt that timed out after the
// provider had the prompt is charged its prompt estimate when it is the last one (above) — and
// when the retry filter goes on to another attempt, too.
// DISABLED: fails on main — core/server/response_relay.cc (attempt failure handling) calls
// try_again() before estimate_unanswered_attempt(), and settle_usage() replaces ctx.usage with
// the last attempt's, so the timed-out attempt is charged nothing: the row has only attempt 2's
// usage (estimated 0). Enable once retried attempts accumulate their estimates.
TEST_F(CostAccountingTest, ARetriedAttemptThatTimedOutIsChargedToo) {
  GatewayConfig config;
  config.provider_timeouts = "{first_byte: 300ms}";
  std::string yaml_text = yaml(config);
  const std::string chain_end = "state: {ledger:";
  yaml_text.insert(
      yaml_text.find(chain_end),
      "  - retry: {attempts: 2, retry_on: [timeout], backoff: {base: 10ms, max: 20ms}}\n");
  ASSERT_TRUE(sluice.start(sluice_binary(), yaml_text));
  ASSERT_TRUE(mock.control("hang", 1));  // the first attempt hangs, the second answers
  const std::string body = chat_body(kFastModel, "the first attempt will time out");
  auto r = sluice.client().post_json("/v1/chat/completions", body, bearer(kAliceKey));
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
  ASSERT_EQ(r->header("x-sluice-attempts"), "2");
  const int64_t answered_input = (*r->json())["usage"]["prompt_tokens"].as_int();
  const int64_t answered_output = (*r->json())["usage"]["completion_tokens"].as_int();
  auto row = row_of(r->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->input, answered_input + static_cast<int64_t>((body.size() + 3) / 4))
      << "attempt 2's prompt plus attempt 1's prompt estimate: " << describe(*row);
  EXPECT_EQ(row->output, answered_output) << describe(*row);
  EXPECT_EQ(row->estimated, 1) << "part of the charge is an estimate: " << describe(*row);
  expect_cost_matches_tokens(*row, kFastPrice);
}

// A JSON answer cut halfway: the client gets a truncated answer (its head was already sent),
// the provider billed what it generated, so sluice charges an estimate.
TEST_F(CostAccountingTest, AJsonAnswerCutHalfwayIsChargedAnEstimate) {
  start();
  HttpClient client = sluice.client();
  auto head = client.start_request("POST", "/v1/chat/completions",
                                   chat_body(kFastModel, "a json answer the provider cuts short"),
                                   {{"Authorization", std::string("Bearer ") + kAliceKey},
                                    {"Content-Type", "application/json"},
                                    {"x-mock-behavior", "cut"}});
  ASSERT_TRUE(head) << client.error();
  std::string received;
  while (auto piece = client.read_body_piece()) received += *piece;
  EXPECT_FALSE(client.body_complete() && Json::parse(received))
      << "the cut answer arrived whole: " << received;
  auto row = row_of(head->header("x-request-id"));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->estimated, 1) << describe(*row);
  EXPECT_GE(row->input, 1) << describe(*row);
  EXPECT_GT(row->cost, 0) << describe(*row);
  expect_cost_matches_tokens(*row, kFastPrice);
}

// ---- unpriced and local models --------------------------------------------------------------

// A provider that is not on loopback (sluice takes loopback providers for local, free ones):
// the mock listens on every address and sluice reaches it through a non-loopback one.
class RemoteProviderCostTest : public CostAccountingTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(remote_mock.ok());
    address = non_loopback_ipv4();
    if (address.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  }

  MockProvider remote_mock{mock_provider_binary(), {"--host", "0.0.0.0"}};
  std::string address;
};

TEST_F(RemoteProviderCostTest, AnUnpricedModelIsChargedZeroWarnedOnceAndCounted) {
  const std::string unpriced_physical = "mock-unpriced-physical-9";
  GatewayConfig config;
  config.provider_base_url = "http://" + address + ":" + std::to_string(remote_mock.port()) + "/v1";
  config.extra_models =
      "  mystery:\n"
      "    targets:\n"
      "      - {provider: mockai, model: " +
      unpriced_physical + "}\n";
  start(config);

  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto r = sluice.client().post_json(
        "/v1/chat/completions", chat_body("mystery", "what does this cost " + std::to_string(i)),
        bearer(kBobKey));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    ids.push_back(r->header("x-request-id"));
  }
  // The same provider with a priced model is charged: it is not taken for a local one.
  auto priced = sluice.client().post_json("/v1/chat/completions",
                                          chat_body(kFastModel, "and this one"), bearer(kBobKey));
  ASSERT_TRUE(priced && priced->status == 200);

  for (const std::string& id : ids) {
    auto row = row_of(id);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->physical_model, unpriced_physical);
    EXPECT_EQ(row->cost, 0) << describe(*row);
    EXPECT_EQ(row->estimated, 0) << describe(*row);
    EXPECT_GT(row->input, 0) << "tokens are still counted: " << describe(*row);
  }
  auto priced_row = row_of(priced->header("x-request-id"));
  ASSERT_TRUE(priced_row);
  EXPECT_GT(priced_row->cost, 0) << describe(*priced_row);

  EXPECT_TRUE(eventually(
      [&] {
        return metric(metrics(), "sluice_unpriced_requests_total",
                      {{"model", unpriced_physical}}) == 2;
      },
      5s))
      << metrics();
  EXPECT_EQ(metric(metrics(), "sluice_unpriced_requests_total", {{"model", kFastPhysical}}), 0);
  EXPECT_EQ(count_lines_containing(sluice.stderr_text(), unpriced_physical, "price"), 1u)
      << "one warning for the model, not one per request:\n"
      << sluice.stderr_text();
}

// The {input, output} price of `model` as conf/prices.yaml lists it (one flow map per line).
std::optional<Price> listed_price(const std::string& model) {
  const std::string text = read_file(std::string(SLUICE_SOURCE_DIR) + "/conf/prices.yaml");
  std::smatch m;
  const std::regex line("(^|\n)" + std::regex_replace(model, std::regex(R"([.\-])"), R"(\$&)") +
                        R"(:\s*\{input:\s*([0-9.]+),\s*output:\s*([0-9.]+))");
  if (!std::regex_search(text, m, line)) return std::nullopt;
  Price p;
  p.input = std::stod(m[2]);
  p.output = std::stod(m[3]);
  return p;
}

// Issue 6 item 4: without a price in the config, conf/prices.yaml's (compiled in) applies,
// dated names take their family's price, and an inline entry overrides only that model.
TEST_F(RemoteProviderCostTest, DefaultPricesComeFromConfPricesYamlAndInlineOverridesOneModel) {
  GatewayConfig config;
  config.provider_base_url = "http://" + address + ":" + std::to_string(remote_mock.port()) + "/v1";
  config.extra_models =
      "  mini:\n"
      "    targets:\n"
      "      - {provider: mockai, model: gpt-4o-mini-2024-07-18}\n"
      "  four:\n"
      "    targets:\n"
      "      - {provider: mockai, model: gpt-4o-2024-08-06}\n";
  std::string yaml_text = yaml(config);
  const std::string prices = "      prices:\n";
  yaml_text.insert(yaml_text.find(prices) + prices.size(),
                   "        gpt-4o: {input: 7, output: 11}\n");
  ASSERT_TRUE(sluice.start(sluice_binary(), yaml_text));

  auto mini_price = listed_price("gpt-4o-mini");
  ASSERT_TRUE(mini_price) << "conf/prices.yaml does not list gpt-4o-mini";
  ASSERT_GT(mini_price->input, 0);
  for (const auto& [model, price] : {std::pair<std::string, Price>{"mini", *mini_price},
                                     std::pair<std::string, Price>{"four", Price{7, 11, 7, 7}}}) {
    auto r = sluice.client().post_json("/v1/chat/completions",
                                       chat_body(model, "what is the list price of this"),
                                       bearer(kBobKey));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    auto row = row_of(r->header("x-request-id"));
    ASSERT_TRUE(row);
    EXPECT_NEAR(row->cost, (row->input * price.input + row->output * price.output) / 1e6, 1e-12)
        << model << ": " << describe(*row);
    EXPECT_GT(row->cost, 0) << describe(*row);
  }
  EXPECT_EQ(count_lines_containing(sluice.stderr_text(), "gpt-4o", "no price"), 0u)
      << sluice.stderr_text();
}

TEST_F(CostAccountingTest, LocalProvidersCostNothingAndAreNotUnpriced) {
  GatewayConfig config;
  config.extra_providers =
      "  builtin:\n"
      "    type: mock\n";
  config.extra_models =
      "  local:\n"
      "    targets:\n"
      "      - {provider: builtin, model: local-llm-7b}\n"
      "  ollama:\n"
      "    targets:\n"
      "      - {provider: mockai, model: qwen-local-8b}\n";
  start(config);
  // The built-in mock provider, and an OpenAI-type provider on loopback (Ollama, vLLM, …).
  for (const std::string model : {"local", "ollama"}) {
    auto r = sluice.client().post_json(
        "/v1/chat/completions", chat_body(model, "a question for a local model"), bearer(kBobKey));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    auto row = row_of(r->header("x-request-id"));
    ASSERT_TRUE(row);
    EXPECT_EQ(row->cost, 0) << describe(*row);
    EXPECT_GT(row->input, 0) << describe(*row);
    EXPECT_GT(row->output, 0) << describe(*row);
  }
  const std::string m = metrics();
  EXPECT_EQ(metric(m, "sluice_unpriced_requests_total", {{"model", "local-llm-7b"}}), 0) << m;
  EXPECT_EQ(metric(m, "sluice_unpriced_requests_total", {{"model", "qwen-local-8b"}}), 0) << m;
  EXPECT_EQ(count_lines_containing(sluice.stderr_text(), "local-llm-7b", "price"), 0u)
      << sluice.stderr_text();
  EXPECT_EQ(count_lines_containing(sluice.stderr_text(), "qwen-local-8b", "price"), 0u)
      << sluice.stderr_text();
}

// ---- reports -----------------------------------------------------------------------------

// The sums of the ledger's rows per key: what `sluice usage` and GET /usage must show.
struct Sum {
  int64_t requests = 0, input = 0, output = 0, cached = 0, estimated = 0;
  double cost = 0;
};

std::map<std::string, Sum> sum_by(const std::vector<Row>& rows, const std::string& by) {
  std::map<std::string, Sum> sums;
  for (const Row& r : rows) {
    const std::string& key = by == "agent" ? r.agent : by == "model" ? r.model : r.provider;
    Sum& s = sums[key];
    ++s.requests;
    s.input += r.input;
    s.output += r.output;
    s.cached += r.cached;
    s.estimated += r.estimated;
    s.cost += r.cost;
  }
  return sums;
}

void expect_report_matches(const Json& report, const std::map<std::string, Sum>& sums,
                           const std::string& what) {
  ASSERT_EQ(report["rows"].size(), sums.size()) << what << ": " << report.dump();
  Sum total;
  for (const Json& row : report["rows"].items()) {
    const std::string key = row["key"].str();
    auto it = sums.find(key);
    ASSERT_NE(it, sums.end()) << what << ": unexpected key " << key;
    const Sum& s = it->second;
    EXPECT_EQ(row["requests"].as_int(), s.requests) << what << " " << key;
    EXPECT_EQ(row["input_tokens"].as_int(), s.input) << what << " " << key;
    EXPECT_EQ(row["output_tokens"].as_int(), s.output) << what << " " << key;
    EXPECT_EQ(row["cached_tokens"].as_int(), s.cached) << what << " " << key;
    EXPECT_NEAR(row["cost_usd"].as_number(-1), s.cost, 1e-9) << what << " " << key;
    EXPECT_NEAR(row["estimated_share"].as_number(-1),
                static_cast<double>(s.estimated) / static_cast<double>(s.requests), 1e-9)
        << what << " " << key;
    total.requests += s.requests;
    total.input += s.input;
    total.cost += s.cost;
  }
  EXPECT_EQ(report["total"]["requests"].as_int(), total.requests) << what;
  EXPECT_EQ(report["total"]["input_tokens"].as_int(), total.input) << what;
  EXPECT_NEAR(report["total"]["cost_usd"].as_number(-1), total.cost, 1e-9) << what;
}

TEST_F(CostAccountingTest, UsageReportsAreTheSumsOfTheLedgerRows) {
  GatewayConfig config;
  config.extra_providers =
      "  builtin:\n"
      "    type: mock\n";
  config.extra_models =
      "  local:\n"
      "    targets:\n"
      "      - {provider: builtin, model: local-llm-7b}\n";
  start(config);
  std::vector<std::string> ids;
  auto json = [&](const std::string& key, const std::string& model, const std::string& text,
                  const std::string& behavior = "ok") {
    auto r = sluice.client().post_json("/v1/chat/completions", chat_body(model, text),
                                       with_behavior(key, behavior));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    ids.push_back(r->header("x-request-id"));
  };
  json(kAliceKey, kFastModel, "first question from alice");
  json(kAliceKey, kFastModel, "second question, with a cached prompt prefix", "cached:3");
  json(kBobKey, kSmartModel, "bob asks the smart model something");
  json(kBobKey, kFastModel, "bob's answer comes without usage", "no_usage");
  json(kBobKey, "local", "and a local one");
  StreamResult s = sluice.client().stream_post(
      "/v1/chat/completions", stream_body_with_usage(kSmartModel, "a streamed one for bob"),
      bearer(kBobKey));
  ASSERT_TRUE(s.complete && s.head) << s.describe();
  ids.push_back(s.head->header("x-request-id"));
  for (const std::string& id : ids) ASSERT_TRUE(row_of(id));

  auto rows = read_rows(ledger);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), ids.size());

  // GET /usage while sluice runs.
  for (const std::string by : {"agent", "model", "provider"}) {
    auto r = sluice.admin_client().get("/usage?by=" + by + "&since=1h");
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    auto report = r->json();
    ASSERT_TRUE(report) << r->body;
    expect_report_matches(*report, sum_by(*rows, by), "GET /usage?by=" + by);
  }

  ASSERT_TRUE(sluice.process().signal(SIGTERM));
  ASSERT_TRUE(sluice.process().wait_exit(30s).has_value());

  for (const std::string by : {"agent", "model", "provider"}) {
    std::string out, err;
    ASSERT_EQ(usage_cli({"--ledger", ledger, "--by", by, "--json"}, &out, &err), 0) << err;
    auto report = Json::parse(out);
    ASSERT_TRUE(report) << out;
    expect_report_matches(*report, sum_by(*rows, by), "sluice usage --by " + by + " --json");

    // The table: one line per key with its requests, tokens and cost (8 decimals).
    ASSERT_EQ(usage_cli({"--ledger", ledger, "--by", by}, &out, &err), 0) << err;
    for (const auto& [key, sum] : sum_by(*rows, by)) {
      const size_t at = out.find("\n" + key + " ");
      ASSERT_NE(at, std::string::npos) << key << " missing from:\n" << out;
      const std::string line = out.substr(at + 1, out.find('\n', at + 1) - at - 1);
      char cost[32];
      std::snprintf(cost, sizeof cost, "%.8f", sum.cost);
      EXPECT_NE(line.find(" " + std::to_string(sum.requests) + " "), std::string::npos) << line;
      EXPECT_NE(line.find(" " + std::to_string(sum.input) + " "), std::string::npos) << line;
      EXPECT_NE(line.find(" " + std::to_string(sum.output) + " "), std::string::npos) << line;
      EXPECT_NE(line.find(cost), std::string::npos) << "cost " << cost << " in: " << line;
    }
  }
}

}  // namespace
}  // namespace sluice::test
