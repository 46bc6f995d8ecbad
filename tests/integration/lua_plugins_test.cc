// The Lua plugins shipped in plugins/lua/ (issue 11 item 5), each run by a real sluice in front
// of the mock provider, as its user sees it: the refusal (status, error shape, code, headers)
// and that a refused request never reached the provider; the pass-through; the text that
// really reached the provider (the mock records every request, and echoes the last user
// message back); a quota held exactly across two workers under concurrent requests; and a
// policy service (a loopback HTTP server in this file) that allows, denies, fails or hangs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kClaudeModel = "sonnet";  // an anthropic-type provider, for /v1/messages

std::string plugin_path(const std::string& name) {
  return std::string(SLUICE_SOURCE_DIR) + "/plugins/lua/" + name + ".lua";
}

// The standard test config (tests/support/gateway_config.h) with `lua_filters` (YAML list items
// of the `filters:` list) right after auth, where DESIGN §2 puts them; plus an anthropic-type
// provider behind model "sonnet" for /v1/messages.
std::string config_with(const MockProvider& mock, const std::string& lua_filters, int workers = 1) {
  GatewayConfig config;
  config.provider_base_url = mock.base_url();
  config.workers = workers;
  config.extra_providers = "  claude:\n    type: anthropic\n    base_url: " + mock.base_url() +
                           "\n    api_key: sk-anthropic-test\n";
  config.extra_models =
      std::string("  ") + kClaudeModel + ":\n    targets:\n      - {provider: claude, model: c}\n";
  config.filters_after_auth = lua_filters;
  return config.to_yaml();
}

// One `- lua:` item of the filter list.
std::string lua_filter(const std::string& plugin, const std::string& config_flow,
                       const std::string& more = "") {
  return "  - lua: {file: " + json_quote(plugin_path(plugin)) + ", config: " + config_flow + more +
         "}\n";
}

// The response is Anthropic's error shape with `status` and error.type `type`.
::testing::AssertionResult is_anthropic_error(const std::optional<HttpResponse>& r, int status,
                                              const std::string& type) {
  if (!r) return ::testing::AssertionFailure() << "no response";
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure() << why << "\ngot: " << r->describe();
  };
  if (r->status != status) return fail("expected status " + std::to_string(status));
  auto body = r->json();
  if (!body) return fail("body is not JSON");
  if ((*body)["type"].str() != "error") return fail("body.type is not \"error\"");
  if ((*body)["error"]["type"].str() != type) return fail("expected error.type \"" + type + "\"");
  if ((*body)["error"]["message"].str().empty()) return fail("error.message is empty");
  return ::testing::AssertionSuccess();
}

// An OpenAI error with exactly this type and code, and "param": null (the full §5 shape).
::testing::AssertionResult is_error(const std::optional<HttpResponse>& r, int status,
                                    const std::string& type, const std::string& code) {
  ::testing::AssertionResult shape = is_openai_error(r, status);
  if (!shape) return shape;
  const Json body = *r->json();
  const Json& error = body["error"];
  if (error["type"].str() != type || error["code"].str() != code)
    return ::testing::AssertionFailure() << "expected type \"" << type << "\" and code \"" << code
                                         << "\"\ngot: " << r->describe();
  if (!error.contains("param") || !error["param"].is_null())
    return ::testing::AssertionFailure() << "expected \"param\": null\ngot: " << r->describe();
  return ::testing::AssertionSuccess();
}

std::string error_message(const std::optional<HttpResponse>& r) {
  if (!r) return "";
  auto body = r->json();
  return body ? (*body)["error"]["message"].str() : "";
}

class LuaPluginTest : public ::testing::Test {
 protected:
  void start(const std::string& lua_filters, int workers = 1) {
    ASSERT_TRUE(mock.ok());
    ASSERT_TRUE(sluice.start(sluice_binary(), config_with(mock, lua_filters, workers)));
  }

  std::optional<HttpResponse> post(const std::string& path, const std::string& body,
                                   const std::string& key = kBobKey) {
    HttpClient client = sluice.client();
    Headers headers = bearer(key);
    if (path == "/v1/messages") headers.emplace_back("anthropic-version", "2023-06-01");
    auto r = client.post_json(path, body, headers);
    EXPECT_TRUE(r) << client.error() << "\n" << sluice.describe();
    return r;
  }
  std::optional<HttpResponse> chat(const std::string& text, const std::string& key = kBobKey) {
    return post("/v1/chat/completions", chat_body(kFastModel, text), key);
  }

  size_t upstream_requests() { return mock.requests().value_or(Json::array()).size(); }

  // The JSON body of the last request the provider received (null when none or not JSON).
  Json upstream_body() {
    return Json::parse(last_upstream_request(mock)["body"].str()).value_or(Json());
  }

  // What the mock answers to `text` on the fast model: it echoes the last user message.
  static std::string echo_of(const std::string& text) {
    return std::string("[") + kFastPhysical + "] " + text;
  }

  // The assistant text of a chat completion.
  static std::string reply_text(const std::optional<HttpResponse>& r) {
    auto body = r ? r->json() : std::nullopt;
    return body ? (*body)["choices"][0]["message"]["content"].str() : "";
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

// ---- keyword_guard ---------------------------------------------------------------------------

class KeywordGuardTest : public LuaPluginTest {
 protected:
  void SetUp() override {
    start(lua_filter("keyword_guard", "{words: [pineapple, \"project nightingale\"]}"));
  }
};

TEST_F(KeywordGuardTest, ABlockedWordIs403PolicyBlockedNamingTheWord) {
  auto r = chat("Tell me about PROJECT Nightingale, please.");
  EXPECT_TRUE(is_error(r, 403, "permission_error", "policy_blocked"));
  EXPECT_NE(error_message(r).find("keyword_guard"), std::string::npos) << r->describe();
  EXPECT_NE(error_message(r).find("\"project nightingale\""), std::string::npos) << r->describe();
  EXPECT_FALSE(r->header("x-request-id").empty()) << r->describe();
  EXPECT_EQ(upstream_requests(), 0u) << "a refused request must not reach the provider";
}

TEST_F(KeywordGuardTest, ACleanRequestPassesUnchanged) {
  const std::string body = chat_body(kFastModel, "I like apples and pine trees.");
  auto r = post("/v1/chat/completions", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(reply_text(r), echo_of("I like apples and pine trees."));
  ASSERT_EQ(upstream_requests(), 1u);
  EXPECT_EQ(upstream_body()["messages"].dump(), Json::parse(body)->operator[]("messages").dump());
}

TEST_F(KeywordGuardTest, WholeWordsOnlyByDefault) {
  auto r = chat("Pineapples are fine, and so is project nightingales.");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
}

TEST_F(KeywordGuardTest, TextContentPartsAreSearched) {
  const std::string body = R"({"model": "fast", "messages": [{"role": "user", "content": [
      {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
      {"type": "text", "text": "what is this pineapple?"}]}]})";
  EXPECT_TRUE(
      is_error(post("/v1/chat/completions", body), 403, "permission_error", "policy_blocked"));
  EXPECT_EQ(upstream_requests(), 0u);
}

TEST_F(KeywordGuardTest, EarlierMessagesAndSystemPromptsAreSearched) {
  const std::string body = R"({"model": "fast", "messages": [
      {"role": "system", "content": "You know all about project nightingale."},
      {"role": "user", "content": "hello"}]})";
  EXPECT_TRUE(
      is_error(post("/v1/chat/completions", body), 403, "permission_error", "policy_blocked"));
}

// The word outside the text a model reads (an end-user id, metadata) is not a match.
TEST_F(KeywordGuardTest, TheWordElsewhereInTheBodyIsNoMatch) {
  const std::string body = R"({"model": "fast", "user": "pineapple",
      "metadata": {"tag": "project nightingale"},
      "messages": [{"role": "user", "content": "hello"}]})";
  auto r = post("/v1/chat/completions", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
}

// JSON may spell a letter as \uXXXX: the cheap raw-body scan must not let that through.
TEST_F(KeywordGuardTest, AWordSpelledWithJsonEscapesIsFound) {
  const std::string body =
      R"({"model": "fast", "messages": [{"role": "user", "content": "a \u0070ineapple\u0021"}]})";
  EXPECT_TRUE(
      is_error(post("/v1/chat/completions", body), 403, "permission_error", "policy_blocked"));
}

TEST_F(KeywordGuardTest, EveryEndpointsTextIsSearched) {
  EXPECT_TRUE(is_error(post("/v1/completions", R"({"model": "fast", "prompt": "pineapple pie"})"),
                       403, "permission_error", "policy_blocked"));
  EXPECT_TRUE(
      is_error(post("/v1/completions", R"({"model": "fast", "prompt": ["ok", "pineapple pie"]})"),
               403, "permission_error", "policy_blocked"));
  EXPECT_TRUE(is_error(post("/v1/embeddings", R"({"model": "embed", "input": ["pineapple"]})"), 403,
                       "permission_error", "policy_blocked"));
  EXPECT_TRUE(is_error(post("/v1/responses", R"({"model": "fast", "input": "a pineapple"})"), 403,
                       "permission_error", "policy_blocked"));
  EXPECT_TRUE(is_error(post("/v1/responses", R"({"model": "fast", "input": [{"role": "user",
                            "content": [{"type": "input_text", "text": "pineapple"}]}]})"),
                       403, "permission_error", "policy_blocked"));
  EXPECT_TRUE(is_error(post("/v1/responses", R"({"model": "fast", "input": "hi",
                            "instructions": "mention project nightingale"})"),
                       403, "permission_error", "policy_blocked"));
  EXPECT_EQ(upstream_requests(), 0u);
  // And the same endpoints without the words are served.
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/completions", R"({"model": "fast", "prompt": "apple pie"})"},
           {"/v1/embeddings", R"({"model": "embed", "input": ["apple"]})"},
           {"/v1/responses", R"({"model": "fast", "input": "an apple"})"}}) {
    auto r = post(path, body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << path << ": " << r->describe();
  }
}

// On Anthropic's endpoint the refusal is in Anthropic's error shape (DESIGN §5), and the
// `system` prompt is searched too.
TEST_F(KeywordGuardTest, AnthropicMessagesGetAnthropicsErrorShape) {
  const std::string in_system = R"({"model": "sonnet", "max_tokens": 64,
      "system": [{"type": "text", "text": "Talk about project nightingale."}],
      "messages": [{"role": "user", "content": "hello"}]})";
  EXPECT_TRUE(is_anthropic_error(post("/v1/messages", in_system), 403, "permission_error"));
  const std::string in_message = R"({"model": "sonnet", "max_tokens": 64,
      "messages": [{"role": "user", "content": [{"type": "text", "text": "pineapple?"}]}]})";
  EXPECT_TRUE(is_anthropic_error(post("/v1/messages", in_message), 403, "permission_error"));
  EXPECT_EQ(upstream_requests(), 0u);
  auto r = post("/v1/messages", messages_body(kClaudeModel, "hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
}

// A streaming request is refused before any stream starts: a plain JSON error.
TEST_F(KeywordGuardTest, AStreamingRequestIsRefusedWithJson) {
  auto r = post("/v1/chat/completions", chat_body(kFastModel, "pineapple", /*stream=*/true));
  EXPECT_TRUE(is_error(r, 403, "permission_error", "policy_blocked"));
  EXPECT_EQ(upstream_requests(), 0u);
}

class KeywordGuardOptionsTest : public LuaPluginTest {};

TEST_F(KeywordGuardOptionsTest, CaseSensitiveSubstringsWithoutTheWord) {
  start(
      lua_filter("keyword_guard",
                 "{words: [Pine], case_sensitive: true, whole_words: false, reveal_word: false}"));
  auto lower = chat("pineapple");
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->status, 200) << "case_sensitive: \"Pine\" is not \"pine\"\n"
                                << lower->describe();
  auto inside = chat("Pineapple");
  EXPECT_TRUE(is_error(inside, 403, "permission_error", "policy_blocked"))
      << "whole_words: false matches inside a word";
  EXPECT_EQ(error_message(inside).find("Pine"), std::string::npos)
      << "reveal_word: false must not name the word: " << error_message(inside);
}

TEST_F(KeywordGuardOptionsTest, AConfigWithoutWordsIsRefusedAtLoad) {
  ASSERT_TRUE(mock.ok());
  const std::string file = sluice.dir().write(
      "bad.yaml", config_with(mock, lua_filter("keyword_guard", "{case_sensitive: true}")));
  auto validate =
      Process::start({sluice_binary(), "validate", "-c", file}, sluice.dir().file("validate"));
  ASSERT_TRUE(validate);
  EXPECT_EQ(validate->wait_exit(20s), 1) << validate->describe();
  EXPECT_NE(validate->stderr_text().find("words"), std::string::npos)
      << "the error should name the missing key:\n"
      << validate->stderr_text();
}

// ---- pii_redact ------------------------------------------------------------------------------

class PiiRedactTest : public LuaPluginTest {
 protected:
  void SetUp() override { start(lua_filter("pii_redact", "{}")); }
};

TEST_F(PiiRedactTest, AddressesAndNumbersNeverReachTheProvider) {
  auto r = chat("Mail jane.doe+work@example.co.uk or call +1 (555) 123-4567, or 0171 2345678.");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  const std::string masked = "Mail [email] or call [phone], or [phone].";
  EXPECT_EQ(upstream_body()["messages"][0]["content"].str(), masked) << upstream_body().dump();
  EXPECT_EQ(reply_text(r), echo_of(masked)) << "the mock echoes what it received";
  const std::string raw = last_upstream_request(mock).dump();
  for (const char* secret : {"jane.doe", "example.co.uk", "123-4567", "2345678"})
    EXPECT_EQ(raw.find(secret), std::string::npos) << secret << " reached the provider: " << raw;
}

TEST_F(PiiRedactTest, EveryMessageAndContentPartIsMasked) {
  const std::string body = R"({"model": "fast", "messages": [
      {"role": "system", "content": "The operator is ops@example.com."},
      {"role": "user", "content": [{"type": "text", "text": "I am bob@example.org"}]},
      {"role": "user", "content": "ring 555.123.4567"}]})";
  auto r = post("/v1/chat/completions", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  Json seen = upstream_body();
  EXPECT_EQ(seen["messages"][0]["content"].str(), "The operator is [email].") << seen.dump();
  EXPECT_EQ(seen["messages"][1]["content"][0]["text"].str(), "I am [email]") << seen.dump();
  EXPECT_EQ(seen["messages"][1]["content"][0]["type"].str(), "text") << seen.dump();
  EXPECT_EQ(seen["messages"][2]["content"].str(), "ring [phone]") << seen.dump();
  EXPECT_EQ(seen["model"].str(), kFastPhysical) << "the rest of the chain still ran";
}

// Numbers that are not phone numbers stay, and so does everything outside message text.
TEST_F(PiiRedactTest, OtherNumbersAndFieldsAreLeftAlone) {
  const std::string text =
      "pi is 3.14159265358, the host 192.168.100.200, the date 2024-05-01, order 1234567.";
  const std::string body =
      R"({"model": "fast", "user": "carol@example.com", "max_tokens": 123456789,
      "messages": [{"role": "user", "content": ")" +
      text + R"("}]})";
  auto r = post("/v1/chat/completions", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  Json seen = upstream_body();
  EXPECT_EQ(seen["messages"][0]["content"].str(), text) << seen.dump();
  EXPECT_EQ(seen["user"].str(), "carol@example.com") << seen.dump();
  EXPECT_EQ(seen["max_tokens"].as_int(), 123456789) << seen.dump();
}

// Nothing to mask: the body goes upstream byte for byte (not re-encoded), only the model
// spliced by model_alias.
TEST_F(PiiRedactTest, ARequestWithNothingToMaskIsNotRewritten) {
  const std::string body =
      "{\"model\": \"fast\",   \"temperature\": 0.50,\n \"messages\": [{\"role\": \"user\", "
      "\"content\": \"write to me at the office, room 12\"}]}";
  auto r = post("/v1/chat/completions", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  std::string expected = body;
  expected.replace(expected.find("\"fast\""), 6, std::string("\"") + kFastPhysical + "\"");
  EXPECT_EQ(last_upstream_request(mock)["body"].str(), expected);
}

TEST_F(PiiRedactTest, AnthropicSystemAndMessagesAreMasked) {
  const std::string body = R"({"model": "sonnet", "max_tokens": 64,
      "system": "Escalate to boss@example.com.",
      "messages": [{"role": "user", "content": [{"type": "text", "text": "+44 20 7946 0958"}]}]})";
  auto r = post("/v1/messages", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  Json seen = upstream_body();
  EXPECT_EQ(seen["system"].str(), "Escalate to [email].") << seen.dump();
  EXPECT_EQ(seen["messages"][0]["content"][0]["text"].str(), "[phone]") << seen.dump();
}

TEST_F(PiiRedactTest, CompletionsPromptAndResponsesInputAreMasked) {
  auto r = post("/v1/completions", R"({"model": "fast", "prompt": "from a@example.com"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(upstream_body()["prompt"].str(), "from [email]");
  r = post("/v1/responses", R"({"model": "fast", "input": "call 06-12-34-56-78"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(upstream_body()["input"].str(), "call [phone]");
}

class PiiRedactOptionsTest : public LuaPluginTest {};

TEST_F(PiiRedactOptionsTest, OnlyTheChosenKindsWithTheirMasks) {
  start(lua_filter("pii_redact", "{kinds: [email], email_mask: \"<address removed>\"}"));
  auto r = chat("x@example.com, +1 555 123 4567");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(upstream_body()["messages"][0]["content"].str(), "<address removed>, +1 555 123 4567");
}

// ---- agent_quota -----------------------------------------------------------------------------

constexpr int kAliceQuota = 10;
constexpr int kBobQuota = 3;

int seconds_to_utc_midnight() {
  return static_cast<int>(86400 - std::time(nullptr) % 86400);
}

class AgentQuotaTest : public LuaPluginTest {
 protected:
  void SetUp() override {
    // A run that straddles midnight UTC would see the quota reset mid-test.
    if (seconds_to_utc_midnight() < 120) GTEST_SKIP() << "too close to midnight UTC";
    start(quota_filter(kAliceQuota, kBobQuota), /*workers=*/2);
  }

  static std::string quota_filter(int alice, int bob) {
    return lua_filter("agent_quota", "{requests_per_day: " + std::to_string(alice) +
                                         ", per_agent: {bob: " + std::to_string(bob) + "}}");
  }

  // `n` requests at once, each on its own connection (so both workers take some).
  std::vector<std::optional<HttpResponse>> concurrently(int n, const std::string& key) {
    std::vector<std::future<std::optional<HttpResponse>>> futures;
    for (int i = 0; i < n; ++i)
      futures.push_back(std::async(std::launch::async, [this, key, i] {
        HttpClient client = sluice.client();
        return client.post_json("/v1/chat/completions",
                                chat_body(kFastModel, "n" + std::to_string(i)), bearer(key));
      }));
    std::vector<std::optional<HttpResponse>> out;
    for (auto& f : futures) out.push_back(f.get());
    return out;
  }

  static int count_status(const std::vector<std::optional<HttpResponse>>& rs, int status) {
    int n = 0;
    for (const auto& r : rs) n += r && r->status == status;
    return n;
  }
};

TEST_F(AgentQuotaTest, ExactAcrossWorkersUnderConcurrentRequests) {
  std::vector<std::optional<HttpResponse>> all;
  for (int round = 0; round < 3; ++round)
    for (auto& r : concurrently(8, kAliceKey)) all.push_back(std::move(r));
  ASSERT_EQ(all.size(), 24u);
  for (const auto& r : all) ASSERT_TRUE(r) << "a request got no answer\n" << sluice.describe();
  EXPECT_EQ(count_status(all, 200), kAliceQuota);
  EXPECT_EQ(count_status(all, 429), 24 - kAliceQuota);
  EXPECT_EQ(upstream_requests(), static_cast<size_t>(kAliceQuota))
      << "refused requests must not reach the provider";
}

TEST_F(AgentQuotaTest, TheRefusalSaysWhenTheQuotaResets) {
  for (int i = 0; i < kBobQuota; ++i) {
    auto r = chat("hi");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(r->header("x-quota-limit"), std::to_string(kBobQuota)) << r->describe();
    EXPECT_EQ(r->header("x-quota-remaining"), std::to_string(kBobQuota - i - 1)) << r->describe();
  }
  auto r = chat("one too many");
  EXPECT_TRUE(is_error(r, 429, "rate_limit_error", "daily_quota_exceeded"));
  EXPECT_NE(error_message(r).find("bob"), std::string::npos) << r->describe();
  const int expected = seconds_to_utc_midnight();
  const int retry_after = std::atoi(r->header("retry-after").c_str());
  EXPECT_NEAR(retry_after, expected, 5) << "retry-after is the time to midnight UTC\n"
                                        << r->describe();
  EXPECT_EQ(r->header("x-quota-limit"), std::to_string(kBobQuota)) << r->describe();
  EXPECT_EQ(r->header("x-quota-remaining"), "0") << r->describe();
  EXPECT_EQ(r->header("x-quota-reset"), r->header("retry-after")) << r->describe();
  EXPECT_EQ(upstream_requests(), static_cast<size_t>(kBobQuota));
}

// Each agent has its own count: bob's refusals do not touch alice's quota.
TEST_F(AgentQuotaTest, AgentsAreCountedApart) {
  auto bobs = concurrently(kBobQuota + 2, kBobKey);
  EXPECT_EQ(count_status(bobs, 200), kBobQuota);
  auto r = chat("alice is fine", kAliceKey);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-quota-remaining"), std::to_string(kAliceQuota - 1)) << r->describe();
}

// The count lives in sluice.shared, which a reload keeps: a raised quota continues from it.
TEST_F(AgentQuotaTest, AReloadKeepsTheCountAndAppliesTheNewQuota) {
  EXPECT_EQ(count_status(concurrently(kBobQuota + 1, kBobKey), 200), kBobQuota);
  sluice.dir().write("sluice.yaml", config_with(mock, quota_filter(kAliceQuota, kBobQuota + 2), 2));
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload && reload->status == 200) << (reload ? reload->describe() : sluice.describe());
  // bob made kBobQuota + 1 requests; two more fit under the new quota only if that count was
  // kept (and the refused one counted): exactly one more is answered.
  auto after = concurrently(3, kBobKey);
  EXPECT_EQ(count_status(after, 200), 1);
  EXPECT_EQ(count_status(after, 429), 2);
}

// ---- policy_callout --------------------------------------------------------------------------

// A policy service for the tests: a loopback HTTP/1.1 server that reads one POST per connection
// and answers with what `decide` returns for the JSON question — or, for `hang`, keeps the
// connection open without a byte until the server stops. Records every question it got.
class PolicyServer {
 public:
  struct Answer {
    int status = 200;
    std::string body;
    bool hang = false;
  };
  using Decide = std::function<Answer(const Json& question)>;

  explicit PolicyServer(Decide decide) : decide_(std::move(decide)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "policy server: cannot listen";
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~PolicyServer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    released_.notify_all();
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : connections_) t.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/check"; }

  std::vector<Json> questions() {
    std::lock_guard<std::mutex> lock(mutex_);
    return questions_;
  }
  // Request headers of the last question, names lowercased.
  std::vector<std::pair<std::string, std::string>> last_headers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_headers_;
  }

 private:
  bool stopping() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  void accept_loop() {
    while (!stopping()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      connections_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  // Reads the head and a Content-Length body (bounded by 5 s), answers, returns.
  void serve(int fd) {
    std::string in;
    size_t head_end = std::string::npos, need = 0;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
      if (head_end == std::string::npos) {
        head_end = in.find("\r\n\r\n");
        if (head_end == std::string::npos) continue;
        need = head_end + 4 + content_length(in.substr(0, head_end));
      }
      if (in.size() >= need) break;
    }
    if (head_end == std::string::npos || in.size() < need) return;
    Json question = Json::parse(in.substr(head_end + 4, need - head_end - 4)).value_or(Json());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      questions_.push_back(question);
      last_headers_ = parse_headers(in.substr(0, head_end));
    }
    Answer answer = decide_(question);
    if (answer.hang) {
      std::unique_lock<std::mutex> lock(mutex_);
      released_.wait(lock, [this] { return stopping_; });
      return;
    }
    std::string out = "HTTP/1.1 " + std::to_string(answer.status) +
                      " X\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(answer.body.size()) + "\r\nConnection: close\r\n\r\n" +
                      answer.body;
    (void)!::write(fd, out.data(), out.size());
  }

  static std::vector<std::pair<std::string, std::string>> parse_headers(const std::string& head) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t at = head.find("\r\n");
    while (at != std::string::npos) {
      const size_t start = at + 2;
      at = head.find("\r\n", start);
      const std::string line =
          head.substr(start, at == std::string::npos ? std::string::npos : at - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      out.emplace_back(name, line.substr(v));
    }
    return out;
  }

  static size_t content_length(const std::string& head) {
    for (const auto& [name, value] : parse_headers(head))
      if (name == "content-length") return std::stoul(value);
    return 0;
  }

  Decide decide_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // only the acceptor adds; joined at the end
  std::mutex mutex_;
  std::condition_variable released_;
  bool stopping_ = false;
  std::vector<Json> questions_;
  std::vector<std::pair<std::string, std::string>> last_headers_;
};

// The test policy: alice may, bob may not; the carol agent's calls hang; messages saying
// "server-error" get a 500 and "nonsense" a 200 that is no verdict.
PolicyServer::Answer test_policy(const Json& q) {
  const std::string text = q["body"]["messages"][0]["content"].str();
  if (q["agent"].str() == "carol") return {0, "", /*hang=*/true};
  if (text == "server-error") return {500, R"({"error": "boom"})", false};
  if (text == "nonsense") return {200, "<html>ok</html>", false};
  if (q["agent"].str() == "alice") return {200, R"({"allow": true})", false};
  return {200, R"({"allow": false, "reason": "bob is on leave"})", false};
}

constexpr const char* kCarolKey = "sk-agent-carol-hangs-4d";
constexpr int kPolicyTimeoutMs = 1000;

class PolicyCalloutTest : public LuaPluginTest {
 protected:
  void start_with(const std::string& extra_config) {
    ASSERT_TRUE(mock.ok());
    std::string yaml = config_with(
        mock,
        lua_filter("policy_callout", "{url: " + json_quote(policy.url()) +
                                         ", timeout: " + std::to_string(kPolicyTimeoutMs) +
                                         ", include_body: true, headers: {x-policy-token: t0k3n}" +
                                         extra_config + "}"));
    const std::string agents = "agents:\n";
    yaml.insert(yaml.find(agents) + agents.size(),
                "  carol:\n    keys: [\"" + agent_key_digest(kCarolKey) + "\"]\n");
    ASSERT_TRUE(sluice.start(sluice_binary(), yaml));
  }

  PolicyServer policy{test_policy};
};

TEST_F(PolicyCalloutTest, AnAllowedRequestGoesOnAndTheServiceWasAskedAboutIt) {
  start_with("");
  auto r = chat("hello", kAliceKey);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(upstream_requests(), 1u);
  auto questions = policy.questions();
  ASSERT_EQ(questions.size(), 1u);
  const Json& q = questions[0];
  EXPECT_EQ(q["agent"].str(), "alice") << q.dump();
  EXPECT_EQ(q["model"].str(), kFastModel) << q.dump();
  EXPECT_EQ(q["endpoint"].str(), "chat.completions") << q.dump();
  EXPECT_EQ(q["request_id"].str(), r->header("x-request-id")) << q.dump();
  EXPECT_EQ(q["body"]["messages"][0]["content"].str(), "hello") << "include_body: " << q.dump();
  bool token_sent = false;
  for (const auto& [name, value] : policy.last_headers())
    token_sent = token_sent || (name == "x-policy-token" && value == "t0k3n");
  EXPECT_TRUE(token_sent) << "config.headers go to the policy service";
}

TEST_F(PolicyCalloutTest, ADeniedRequestIs403WithTheServicesReason) {
  start_with("");
  auto r = chat("hello", kBobKey);
  EXPECT_TRUE(is_error(r, 403, "permission_error", "policy_blocked"));
  EXPECT_NE(error_message(r).find("bob is on leave"), std::string::npos) << r->describe();
  EXPECT_EQ(upstream_requests(), 0u);
}

TEST_F(PolicyCalloutTest, ABrokenServiceFailsClosedWith503) {
  start_with("");
  EXPECT_TRUE(is_error(chat("server-error", kAliceKey), 503, "api_error", "policy_unavailable"));
  EXPECT_TRUE(is_error(chat("nonsense", kAliceKey), 503, "api_error", "policy_unavailable"));
  EXPECT_EQ(upstream_requests(), 0u);
}

// A hanging service: the request is refused once `timeout` passes, not later, and meanwhile
// the same worker (workers: 1) keeps serving other requests.
TEST_F(PolicyCalloutTest, AHangingServiceFailsClosedWithinTheTimeoutWhileOthersFlow) {
  start_with("");
  const auto started = std::chrono::steady_clock::now();
  auto hung = std::async(std::launch::async, [this] {
    HttpClient client = sluice.client();
    auto r =
        client.post_json("/v1/chat/completions", chat_body(kFastModel, "hello"), bearer(kCarolKey));
    return std::make_pair(r, std::chrono::steady_clock::now());
  });
  ASSERT_TRUE(eventually([&] { return policy.questions().size() == 1; }, 5s))
      << "carol's question never reached the policy service";
  for (int i = 0; i < 3; ++i) {
    auto r = chat("hello", kAliceKey);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << "other requests must flow while one waits\n" << r->describe();
  }
  EXPECT_EQ(hung.wait_for(0s), std::future_status::timeout)
      << "the allowed requests were answered only after the hanging call ended";
  auto [r, finished] = hung.get();
  EXPECT_TRUE(is_error(r, 503, "api_error", "policy_unavailable"));
  const auto waited = finished - started;
  EXPECT_GE(waited, std::chrono::milliseconds(kPolicyTimeoutMs - 50));
  EXPECT_LT(waited, std::chrono::milliseconds(kPolicyTimeoutMs) + 1500ms)
      << "refused only after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms";
  EXPECT_EQ(upstream_requests(), 3u);
}

TEST_F(PolicyCalloutTest, ServiceDownFailsClosed) {
  ASSERT_TRUE(mock.ok());
  std::string yaml = config_with(
      mock, lua_filter("policy_callout",
                       "{url: \"http://127.0.0.1:" + std::to_string(unused_port()) + "/check\"}"));
  ASSERT_TRUE(sluice.start(sluice_binary(), yaml));
  EXPECT_TRUE(is_error(chat("hello", kAliceKey), 503, "api_error", "policy_unavailable"));
  EXPECT_EQ(upstream_requests(), 0u);
}

TEST_F(PolicyCalloutTest, FailOpenLetsRequestsThroughWhenTheServiceCannotBeAsked) {
  start_with(", fail_open: true");
  auto r = chat("server-error", kAliceKey);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  // fail_open is about an unavailable service, not a "no".
  EXPECT_TRUE(is_error(chat("hello", kBobKey), 403, "permission_error", "policy_blocked"));
  EXPECT_EQ(upstream_requests(), 1u);
}

// ---- the shipped configs ---------------------------------------------------------------------

std::string validate_exit_and_output(const TempDir& dir, const std::string& config_path,
                                     std::string* output) {
  auto validate =
      Process::start({sluice_binary(), "validate", "-c", config_path}, dir.file("validate"));
  if (!validate) return "not started";
  auto code = validate->wait_exit(20s);
  *output = validate->stderr_text() + validate->stdout_text();
  return code ? std::to_string(*code) : "still running";
}

TEST(ShippedPluginConfigsTest, TheExamplesValidate) {
  TempDir dir;
  for (const char* file : {"/conf/sluice.yaml", "/conf/examples/plugins.yaml"}) {
    std::string output;
    EXPECT_EQ(validate_exit_and_output(dir, std::string(SLUICE_SOURCE_DIR) + file, &output), "0")
        << file << ":\n"
        << output;
  }
}

// conf/sluice.yaml's keyword_guard, running offline as the README's quick start does (only
// the ports, the ledger and the plugin's path are changed for the test).
TEST(ShippedPluginConfigsTest, TheDefaultConfigsLuaPolicyRefusesItsDemoWords) {
  std::string yaml = read_file(std::string(SLUICE_SOURCE_DIR) + "/conf/sluice.yaml");
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << "conf/sluice.yaml no longer says " << from;
    yaml.replace(at, from.size(), to);
  };
  replace("listen: 127.0.0.1:8080", "listen: 127.0.0.1:0");
  replace("admin: 127.0.0.1:9901", "admin: 127.0.0.1:0");
  replace("workers: auto", "workers: 1");
  replace("ledger: sluice-ledger.db", "ledger: \"\"");
  // Every Lua file of the config (the policy, the text.shout tool).
  for (size_t at = yaml.find("../plugins/lua/"); at != std::string::npos;
       at = yaml.find("../plugins/lua/", at)) {
    yaml.replace(at, 3, std::string(SLUICE_SOURCE_DIR) + "/");
  }
  SluiceServer sluice;
  ASSERT_TRUE(sluice.start(sluice_binary(), yaml));
  HttpClient client = sluice.client();
  const Headers key = bearer("sk-sluice-demo");
  EXPECT_TRUE(
      is_error(client.post_json("/v1/chat/completions",
                                chat_body("fast", "Tell me about project nightingale"), key),
               403, "permission_error", "policy_blocked"));
  auto r = client.post_json("/v1/chat/completions", chat_body("fast", "hello"), key);
  ASSERT_TRUE(r) << client.error();
  EXPECT_EQ(r->status, 200) << r->describe();
}

}  // namespace
}  // namespace sluice::test
