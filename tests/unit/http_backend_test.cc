// The HTTP backend's request head: which auth headers reach a provider (and which of the
// agent's never do), for an untranslated request and for one a plugin's translation shaped
// (its path and headers; with its own body, none of the client's headers); and what the
// built-in mock provider answers on /v1/messages — Anthropic's message JSON and SSE events.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <uv.h>

#include <string>
#include <vector>

#include "core/http/request_parser.h"
#include "core/json/request_fields.h"
#include "core/providers/http_backend.h"
#include "core/providers/mock_backend.h"
#include "core/providers/provider_auth.h"

namespace sluice::providers {
namespace {

config::Provider anthropic_provider() {
  config::Provider p;
  p.name = "claude";
  p.type = "anthropic";  // a plugin's type: core adds no auth header of its own
  p.api_key = "sk-ant-provider";
  p.base_url = "https://api.anthropic.com/v1";
  p.url.host_header = "api.anthropic.com";
  p.url.path_prefix = "/v1";
  return p;
}

using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(ProviderAuth, APluginTypeGetsNoAuthHeaderFromCore) {
  EXPECT_TRUE(provider_auth_headers(anthropic_provider()).empty());
}

TEST(ProviderAuth, OpenAiSendsABearerToken) {
  config::Provider p = anthropic_provider();
  p.type = "openai";
  EXPECT_EQ(provider_auth_headers(p), (Headers{{"Authorization", "Bearer sk-ant-provider"}}));
  p.api_key.clear();
  EXPECT_TRUE(provider_auth_headers(p).empty());
}

TEST(ProviderAuth, AConfiguredAuthorizationReplacesTheBearerToken) {
  config::Provider p = anthropic_provider();
  p.type = "openai";
  p.headers = {{"authorization", "Token abc"}};
  EXPECT_TRUE(provider_auth_headers(p).empty());
}

// A parsed downstream request plus its fields, as the session hands them to a backend.
struct Downstream {
  http::HttpRequest request;
  json::RequestFields fields;
  explicit Downstream(const std::string& raw) {
    http::ParserLimits limits;
    http::RequestParser parser(limits, &request);
    auto r = parser.feed(raw.data(), raw.size());
    EXPECT_EQ(r.state, http::RequestParser::State::Complete);
    EXPECT_EQ(json::parse_request_fields(request.body, &fields).status, json::ParseStatus::Ok);
  }
  AttemptRequest attempt(std::string_view model) const {
    return AttemptRequest{filter::Endpoint::Messages, &request, &fields, model, "req-1"};
  }
};

std::string messages_request(std::string_view body, std::string_view extra_headers) {
  return "POST /v1/messages HTTP/1.1\r\nHost: sluice\r\nContent-Type: application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

// Runs `check` on a backend for `provider`, then shuts it down on a private loop.
template <typename Check>
void with_backend(const config::Provider& provider, Check check) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    HttpBackend backend(&loop, provider);
    check(backend);
    bool closed = false;
    backend.shutdown([](void* arg) { *static_cast<bool*>(arg) = true; }, &closed);
    while (!closed) uv_run(&loop, UV_RUN_ONCE);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

constexpr const char* kAgentHeaders =
    "x-api-key: sk-agent\r\nAuthorization: Bearer sk-agent\r\nanthropic-version: 2023-06-01\r\n"
    "anthropic-beta: tools-2024-04-04\r\n";

TEST(HttpBackend, ANativeTranslationSetsPathAndHeadersAndKeepsTheClientsOthers) {
  with_backend(anthropic_provider(), [](HttpBackend& backend) {
    Downstream in(
        messages_request(R"({"model":"claude","max_tokens":5,"messages":[]})", kAgentHeaders));
    TranslatedRequest t;
    t.path = "/messages";
    t.headers = {{"x-api-key", "sk-ant-provider"}, {"anthropic-version", "2023-06-01"}};
    AttemptRequest a = in.attempt("claude-3-5-haiku");
    a.translated = &t;
    std::string head;
    backend.build_head(a, 42, head);
    EXPECT_EQ(head.rfind("POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\n", 0), 0u)
        << head;
    EXPECT_NE(head.find("\r\nx-api-key: sk-ant-provider\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nanthropic-version: 2023-06-01\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nanthropic-beta: tools-2024-04-04\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nContent-Length: 42\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("sk-agent"), std::string::npos) << head;
    EXPECT_EQ(head.find("Authorization"), std::string::npos) << head;
    // Exactly one version header (the client's copy is dropped, not sent twice).
    EXPECT_EQ(head.find("anthropic-version"), head.rfind("anthropic-version")) << head;
  });
}

TEST(HttpBackend, ATranslatedBodyGoesWithNoneOfTheClientsHeaders) {
  with_backend(anthropic_provider(), [](HttpBackend& backend) {
    Downstream in(
        messages_request(R"({"model":"claude","max_tokens":5,"messages":[]})", kAgentHeaders));
    TranslatedRequest t;
    t.path = "/chat/completions";
    t.body = "{}";
    AttemptRequest a = in.attempt("gpt-4o");
    a.translated = &t;
    std::string head;
    backend.build_head(a, 2, head);
    EXPECT_EQ(head.rfind("POST /v1/chat/completions HTTP/1.1\r\n", 0), 0u) << head;
    EXPECT_EQ(head.find("anthropic-"), std::string::npos) << head;
    EXPECT_EQ(head.find("sk-agent"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nx-request-id: req-1\r\n"), std::string::npos) << head;
  });
}

TEST(HttpBackend, TheProvidersOwnHeadersWinOverATranslations) {
  config::Provider p = anthropic_provider();
  p.headers = {{"anthropic-version", "2024-01-01"}};
  with_backend(p, [](HttpBackend& backend) {
    Downstream in(messages_request(R"({"model":"claude","messages":[]})", ""));
    TranslatedRequest t;
    t.path = "/messages";
    t.headers = {{"anthropic-version", "2023-06-01"}};
    AttemptRequest a = in.attempt("claude");
    a.translated = &t;
    std::string head;
    backend.build_head(a, 2, head);
    EXPECT_NE(head.find("anthropic-version: 2024-01-01"), std::string::npos) << head;
    EXPECT_EQ(head.find("2023-06-01"), std::string::npos) << head;
  });
}

// The built-in mock on /v1/messages.
MockScript mock_script(std::string_view body, uint32_t stream_chunks = 0) {
  config::MockSettings settings;
  settings.stream_chunks = stream_chunks;
  Downstream in(messages_request(body, ""));
  MockScript script;
  build_mock_script(settings, in.attempt("mock-claude"), 7, script);
  return script;
}

TEST(MockMessages, JsonMessageInAnthropicsShape) {
  MockScript s = mock_script(
      R"({"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi there"}]})");
  EXPECT_FALSE(s.streamed);
  ASSERT_EQ(s.pieces.size(), 1u);
  simdjson::dom::parser parser;
  simdjson::dom::element m = parser.parse(s.pieces[0]);
  EXPECT_EQ(std::string_view(m["id"]), "msg_mock_7");
  EXPECT_EQ(std::string_view(m["type"]), "message");
  EXPECT_EQ(std::string_view(m["role"]), "assistant");
  EXPECT_EQ(std::string_view(m["model"]), "mock-claude");
  EXPECT_EQ(std::string_view(m["content"].at(0)["type"]), "text");
  EXPECT_EQ(std::string_view(m["content"].at(0)["text"]), "hi there");  // echo
  EXPECT_EQ(std::string_view(m["stop_reason"]), "end_turn");
  EXPECT_TRUE(m["stop_sequence"].is_null());
  simdjson::dom::element usage = m["usage"];
  EXPECT_GT(uint64_t(usage["input_tokens"]), 0u);
  EXPECT_EQ(uint64_t(usage["output_tokens"]), 2u);  // one per word
  EXPECT_EQ(uint64_t(usage["cache_read_input_tokens"]), 0u);
  EXPECT_EQ(uint64_t(usage["cache_creation_input_tokens"]), 0u);
}

TEST(MockMessages, StreamIsAnthropicsEventSequence) {
  MockScript s = mock_script(
      R"({"model":"claude","max_tokens":10,"stream":true,)"
      R"("messages":[{"role":"user","content":[{"type":"text","text":"one two three"}]}]})");
  EXPECT_TRUE(s.streamed);
  std::vector<std::string> names;
  std::string text;
  uint64_t input_tokens = 0, output_tokens = 0;
  simdjson::dom::parser parser;
  for (const std::string& piece : s.pieces) {
    ASSERT_EQ(piece.rfind("event: ", 0), 0u) << piece;
    ASSERT_GE(piece.size(), 2u);
    EXPECT_EQ(piece.substr(piece.size() - 2), "\n\n");
    const size_t nl = piece.find('\n');
    const std::string name = piece.substr(7, nl - 7);
    ASSERT_EQ(piece.compare(nl + 1, 6, "data: "), 0) << piece;
    simdjson::dom::element data = parser.parse(piece.substr(nl + 7, piece.size() - nl - 9));
    EXPECT_EQ(std::string_view(data["type"]), name);  // event name = data.type
    names.push_back(name);
    if (name == "message_start") {
      EXPECT_EQ(std::string_view(data["message"]["model"]), "mock-claude");
      input_tokens = uint64_t(data["message"]["usage"]["input_tokens"]);
      EXPECT_EQ(uint64_t(data["message"]["usage"]["output_tokens"]), 1u);
    } else if (name == "content_block_delta") {
      EXPECT_EQ(std::string_view(data["delta"]["type"]), "text_delta");
      text.append(std::string_view(data["delta"]["text"]));
    } else if (name == "message_delta") {
      EXPECT_EQ(std::string_view(data["delta"]["stop_reason"]), "end_turn");
      output_tokens = uint64_t(data["usage"]["output_tokens"]);
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"message_start", "content_block_start", "ping",
                                             "content_block_delta", "content_block_delta",
                                             "content_block_delta", "content_block_stop",
                                             "message_delta", "message_stop"}));
  EXPECT_EQ(text, "one two three");
  EXPECT_GT(input_tokens, 0u);
  EXPECT_EQ(output_tokens, 3u);
}

}  // namespace
}  // namespace sluice::providers
