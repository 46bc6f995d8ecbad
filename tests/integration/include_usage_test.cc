// include_usage end to end (DESIGN §8, issue 6 item 2): for an OpenAI-type stream whose client
// did not ask for usage, sluice asks the provider (stream_options.include_usage: true spliced
// into the body), reads the usage chunk for the ledger, and gives the client the stream the
// provider would have sent it without: no usage-only chunk, no "usage": null in the chunks,
// every other byte as the provider sent it. A client that asked gets the provider's stream
// untouched. Checked against the tests/support mock (which records the body it received and
// the body it answered) and against the built-in `type: mock` provider.
#include <signal.h>

#include <map>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kLocalModel = "local";  // served by the built-in mock provider

using LedgerUsage = LedgerTestRow;

// A streamed response exactly as the client's socket got it.
struct RawStream {
  int status = 0;
  std::string request_id;
  std::string body;  // de-chunked bytes
  bool complete = false;
};

RawStream stream_raw(SluiceServer& server, const std::string& path, const std::string& body) {
  RawStream out;
  HttpClient client = server.client();
  auto head = client.start_request(
      "POST", path, body,
      {{"Authorization", std::string("Bearer ") + kBobKey}, {"Content-Type", "application/json"}});
  if (!head) {
    ADD_FAILURE() << "no response head: " << client.error();
    return out;
  }
  out.status = head->status;
  out.request_id = head->header("x-request-id");
  while (auto piece = client.read_body_piece()) out.body += *piece;
  out.complete = client.body_complete();
  return out;
}

// SSE events of a body, each with its blank line.
std::vector<std::string> events_of(const std::string& body) {
  std::vector<std::string> events;
  size_t start = 0;
  for (size_t at = body.find("\n\n"); at != std::string::npos; at = body.find("\n\n", start)) {
    events.push_back(body.substr(start, at + 2 - start));
    start = at + 2;
  }
  if (start < body.size()) events.push_back(body.substr(start));
  return events;
}

std::optional<Json> event_json(const std::string& event) {
  if (!event.starts_with("data: ")) return std::nullopt;
  return Json::parse(std::string_view(event).substr(6, event.size() - 8));
}

bool is_usage_only_chunk(const std::string& event) {
  auto data = event_json(event);
  return data && (*data)["choices"].is_array() && (*data)["choices"].size() == 0 &&
         (*data)["usage"].is_object();
}

// What OpenAI would have sent a client that did not ask, from what the provider sent sluice:
// the usage-only chunk dropped and `,"usage":null` out of every chunk (the mock writes it as
// the last member).
std::string without_usage(const std::string& provider_body) {
  std::string out;
  for (std::string event : events_of(provider_body)) {
    if (is_usage_only_chunk(event)) continue;
    const std::string member = ",\"usage\":null}";
    const size_t at = event.rfind(member);
    if (at != std::string::npos) event.replace(at, member.size(), "}");
    out += event;
  }
  return out;
}

// The usage-only chunk's numbers in a provider body ({-1, -1} when it has none).
std::pair<int64_t, int64_t> reported_usage(const std::string& provider_body) {
  for (const std::string& event : events_of(provider_body)) {
    if (!is_usage_only_chunk(event)) continue;
    const Json usage = (*event_json(event))["usage"];
    return {usage["prompt_tokens"].as_int(-1), usage["completion_tokens"].as_int(-1)};
  }
  return {-1, -1};
}

// `body` with its first `"model":"fast"` naming the physical model instead.
std::string with_physical_model(std::string body) {
  const std::string from = std::string("\"model\":\"") + kFastModel + "\"";
  const size_t at = body.find(from);
  if (at != std::string::npos) {
    body.replace(at, from.size(), std::string("\"model\":\"") + kFastPhysical + "\"");
  }
  return body;
}

const std::string kMessages = R"("messages":[{"role":"user","content":"count to five please"}])";

class IncludeUsageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.extra_providers = "  demo:\n    type: mock\n";
    config.extra_models = std::string("  ") + kLocalModel +
                          ":\n    targets:\n      - {provider: demo, model: mock-small}\n";
    std::string yaml = config.to_yaml();
    const std::string off = "state: {ledger: \"\"}\n";
    const size_t at = yaml.find(off);
    ASSERT_NE(at, std::string::npos) << "GatewayConfig no longer turns the ledger off that way";
    yaml.replace(at, off.size(),
                 "state: {ledger: " + json_quote(ledger) + ", flush_interval: 50ms}\n");
    ASSERT_TRUE(sluice.start(sluice_binary(), yaml));
  }

  // SIGTERM (which flushes the ledger), then every row.
  std::map<std::string, LedgerUsage> stop_and_ledger_rows_by_id() {
    EXPECT_TRUE(sluice.process().signal(SIGTERM));
    auto code = sluice.process().wait_exit(30s);
    EXPECT_TRUE(code.has_value()) << sluice.describe();
    return ledger_rows_by_id(ledger);
  }

  MockProvider mock{mock_provider_binary()};
  TempDir data;
  std::string ledger = data.file("ledger.db");
  SluiceServer sluice;
};

TEST_F(IncludeUsageTest, ClientThatDidNotAskSeesTheStreamWithoutUsageYetItIsCounted) {
  // Every way a client can not ask: no stream_options, null, an object without the key (other
  // options kept), include_usage: false.
  struct Case {
    std::string client_body;
    std::string upstream_body;  // what the provider must receive
  };
  const std::string fast = std::string(R"("model":")") + kFastModel + "\"";
  const std::string physical = std::string(R"("model":")") + kFastPhysical + "\"";
  const std::vector<Case> cases = {
      {"{" + fast + "," + kMessages + R"(,"stream":true})",
       R"({"stream_options":{"include_usage":true},)" + physical + "," + kMessages +
           R"(,"stream":true})"},
      {"{" + fast + "," + kMessages + R"(,"stream":true,"stream_options":null})",
       "{" + physical + "," + kMessages +
           R"(,"stream":true,"stream_options":{"include_usage":true}})"},
      {"{" + fast + "," + kMessages +
           R"(,"stream":true,"stream_options":{"include_obfuscation":false}})",
       "{" + physical + "," + kMessages +
           R"(,"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}})"},
      {"{" + fast + "," + kMessages + R"(,"stream":true,"stream_options":{"include_usage":false}})",
       "{" + physical + "," + kMessages +
           R"(,"stream":true,"stream_options":{"include_usage":true}})"},
  };
  std::map<std::string, std::pair<int64_t, int64_t>> expected;  // request id → provider's usage
  for (const Case& c : cases) {
    SCOPED_TRACE(c.client_body);
    const RawStream s = stream_raw(sluice, "/v1/chat/completions", c.client_body);
    ASSERT_EQ(s.status, 200) << s.body;
    ASSERT_TRUE(s.complete);

    const Json upstream = last_upstream_request(mock);
    EXPECT_EQ(upstream["body"].str(), c.upstream_body);
    EXPECT_EQ(upstream["headers"]["content-length"].str(), std::to_string(c.upstream_body.size()));

    const std::string provider_body = upstream["reply_body"].str();
    ASSERT_NE(provider_body.find(R"("choices":[],"usage":{)"), std::string::npos)
        << "the provider did not send a usage chunk: " << provider_body;
    // What the client got: the provider's stream minus the usage chunk and the null members,
    // byte for byte — so no "usage" key at all, and no chunk with empty choices.
    EXPECT_EQ(s.body, without_usage(provider_body));
    EXPECT_EQ(s.body.find("\"usage\""), std::string::npos) << s.body;
    EXPECT_EQ(s.body.find("\"choices\":[]"), std::string::npos) << s.body;
    EXPECT_TRUE(s.body.ends_with("data: [DONE]\n\n"));
    expected[s.request_id] = reported_usage(provider_body);
  }
  // The usage the client never saw is in the ledger, as the provider reported it.
  const auto rows = stop_and_ledger_rows_by_id();
  for (const auto& [id, usage] : expected) {
    auto it = rows.find(id);
    ASSERT_NE(it, rows.end()) << "no ledger row for " << id;
    EXPECT_EQ(it->second.input, usage.first) << id;
    EXPECT_EQ(it->second.output, usage.second) << id;
    EXPECT_EQ(it->second.estimated, 0) << id;
  }
}

TEST_F(IncludeUsageTest, ClientThatAskedGetsTheProvidersStreamUntouched) {
  const std::string body = std::string(R"({"model":")") + kFastModel + "\"," + kMessages +
                           R"(,"stream":true,"stream_options":{"include_usage":true}})";
  const RawStream s = stream_raw(sluice, "/v1/chat/completions", body);
  ASSERT_EQ(s.status, 200) << s.body;
  const Json upstream = last_upstream_request(mock);
  EXPECT_EQ(upstream["body"].str(), with_physical_model(body));  // only the model changed
  const std::string provider_body = upstream["reply_body"].str();
  EXPECT_EQ(s.body, provider_body);
  const auto usage = reported_usage(provider_body);
  ASSERT_GT(usage.first, 0);
  const auto rows = stop_and_ledger_rows_by_id();
  ASSERT_TRUE(rows.count(s.request_id));
  EXPECT_EQ(rows.at(s.request_id).input, usage.first);
  EXPECT_EQ(rows.at(s.request_id).output, usage.second);
  EXPECT_EQ(rows.at(s.request_id).estimated, 0);
}

TEST_F(IncludeUsageTest, LegacyCompletionsStreamToo) {
  const std::string body =
      std::string(R"({"model":")") + kFastModel + R"(","prompt":"one two three","stream":true})";
  const RawStream s = stream_raw(sluice, "/v1/completions", body);
  ASSERT_EQ(s.status, 200) << s.body;
  const Json upstream = last_upstream_request(mock);
  EXPECT_TRUE(upstream["body"].str().starts_with(R"({"stream_options":{"include_usage":true},)"))
      << upstream["body"].str();
  const std::string provider_body = upstream["reply_body"].str();
  EXPECT_EQ(s.body, without_usage(provider_body));
  EXPECT_EQ(s.body.find("\"usage\""), std::string::npos) << s.body;
  const auto usage = reported_usage(provider_body);
  const auto rows = stop_and_ledger_rows_by_id();
  ASSERT_TRUE(rows.count(s.request_id));
  EXPECT_EQ(rows.at(s.request_id).input, usage.first);
  EXPECT_EQ(rows.at(s.request_id).output, usage.second);
  EXPECT_EQ(rows.at(s.request_id).estimated, 0);
}

TEST_F(IncludeUsageTest, NonStreamingRequestIsNotChanged) {
  const std::string body = std::string(R"({"model":")") + kFastModel + "\"," + kMessages + "}";
  auto r = sluice.client().post_json("/v1/chat/completions", body, bearer(kBobKey));
  ASSERT_TRUE(r && r->status == 200);
  EXPECT_EQ(last_upstream_request(mock)["body"].str(), with_physical_model(body));
  EXPECT_EQ(r->body, last_upstream_request(mock)["reply_body"].str());
}

TEST_F(IncludeUsageTest, BuiltInMockProviderAnswersAndIsStrippedTheSameWay) {
  // The built-in mock answers as if the splice had been sent; the client sees no usage.
  const std::string text = "alpha beta gamma delta";
  const std::string without = std::string(R"({"model":")") + kLocalModel +
                              R"(","messages":[{"role":"user","content":")" + text +
                              R"("}],"stream":true})";
  const RawStream plain = stream_raw(sluice, "/v1/chat/completions", without);
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.body.find("\"usage\""), std::string::npos) << plain.body;
  EXPECT_EQ(plain.body.find("\"choices\":[]"), std::string::npos) << plain.body;
  EXPECT_NE(plain.body.find("gamma"), std::string::npos) << plain.body;
  EXPECT_TRUE(plain.body.ends_with("data: [DONE]\n\n"));

  // Asked for, the usage chunk arrives — after "usage": null on every other chunk, as OpenAI.
  const std::string with = std::string(R"({"model":")") + kLocalModel +
                           R"(","messages":[{"role":"user","content":")" + text +
                           R"("}],"stream":true,"stream_options":{"include_usage":true}})";
  const RawStream asked = stream_raw(sluice, "/v1/chat/completions", with);
  ASSERT_EQ(asked.status, 200) << asked.body;
  const std::vector<std::string> events = events_of(asked.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "data: [DONE]\n\n");
  EXPECT_TRUE(is_usage_only_chunk(events[events.size() - 2])) << asked.body;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    EXPECT_NE(events[i].find(",\"usage\":null}"), std::string::npos) << events[i];
  }
  const auto asked_usage = reported_usage(asked.body);
  EXPECT_EQ(asked_usage.second, 4);  // a chunk per word of the echoed message

  const auto rows = stop_and_ledger_rows_by_id();
  for (const RawStream* s : {&plain, &asked}) {
    ASSERT_TRUE(rows.count(s->request_id)) << s->request_id;
    const LedgerUsage& row = rows.at(s->request_id);
    EXPECT_EQ(row.provider, "demo");
    EXPECT_EQ(row.estimated, 0) << "the usage was reported, not estimated";
    EXPECT_GT(row.input, 0);
    EXPECT_EQ(row.output, 4);
  }
  EXPECT_EQ(rows.at(asked.request_id).input, asked_usage.first);
}

}  // namespace
}  // namespace sluice::test
