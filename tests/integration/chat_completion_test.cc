// A non-streamed chat completion through sluice, as the agent and as the provider see it.
// Checks DESIGN §5 (response headers x-request-id, x-sluice-provider, x-sluice-model,
// x-sluice-attempts), §4 (model_alias splices the physical model; the provider's api_key and
// headers go upstream) and §10 (the agent's key never goes upstream, the provider key never
// comes back, hop-by-hop headers are dropped).
#include <gtest/gtest.h>

#include "tests/support/gateway_test.h"
#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

class ChatCompletionTest : public GatewayTest {};

// §5: the provider's answer comes back with sluice's routing headers.
TEST_F(ChatCompletionTest, ReturnsTheProviderAnswerWithRoutingHeaders) {
  HttpClient client = sluice.client();
  auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, "what is a sluice?"),
                            bearer(kAliceKey));
  ASSERT_TRUE(r) << client.error() << "\n" << sluice.describe();
  ASSERT_EQ(r->status, 200) << r->describe();
  auto body = r->json();
  ASSERT_TRUE(body) << r->describe();
  EXPECT_EQ((*body)["object"].str(), "chat.completion");
  // The mock answers "[<model it received>] <last user message>".
  EXPECT_EQ((*body)["choices"][0]["message"]["content"].str(),
            std::string("[") + kFastPhysical + "] what is a sluice?");
  EXPECT_GT((*body)["usage"]["total_tokens"].as_int(), 0) << r->describe();

  EXPECT_FALSE(r->header("x-request-id").empty()) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "mockai") << r->describe();
  EXPECT_EQ(r->header("x-sluice-model"), kFastPhysical) << r->describe();
  EXPECT_EQ(r->header("x-sluice-attempts"), "1") << r->describe();
  EXPECT_NE(r->header("content-type").find("application/json"), std::string::npos);
}

// §5: x-request-id is the client's when it sent one, else a fresh one per request.
TEST_F(ChatCompletionTest, RequestIdIsEchoedOrGenerated) {
  HttpClient client = sluice.client();
  Headers headers = bearer(kAliceKey);
  headers.emplace_back("X-Request-Id", "client-trace-0042");
  auto echoed = client.post_json("/v1/chat/completions", chat_body(kFastModel, "a"), headers);
  ASSERT_TRUE(echoed) << client.error();
  EXPECT_EQ(echoed->header("x-request-id"), "client-trace-0042") << echoed->describe();

  auto first =
      client.post_json("/v1/chat/completions", chat_body(kFastModel, "b"), bearer(kAliceKey));
  auto second =
      client.post_json("/v1/chat/completions", chat_body(kFastModel, "c"), bearer(kAliceKey));
  ASSERT_TRUE(first && second) << client.error();
  EXPECT_FALSE(first->header("x-request-id").empty());
  EXPECT_NE(first->header("x-request-id"), second->header("x-request-id"));
}

// §4, §10: upstream gets the physical model, the provider's key and headers, the prompt intact,
// and nothing of the agent's credentials.
TEST_F(ChatCompletionTest, UpstreamSeesPhysicalModelAndProviderCredentialsOnly) {
  HttpClient client = sluice.client();
  auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, "keep me intact"),
                            bearer(kAliceKey));
  ASSERT_TRUE(r) << client.error();
  ASSERT_EQ(r->status, 200) << r->describe();

  Json seen = last_upstream_request(mock);
  ASSERT_TRUE(seen.is_object()) << "the mock received nothing";
  EXPECT_EQ(seen["method"].str(), "POST");
  EXPECT_EQ(seen["path"].str(), "/v1/chat/completions");
  auto upstream_body = Json::parse(seen["body"].str());
  ASSERT_TRUE(upstream_body) << seen.dump();
  EXPECT_EQ((*upstream_body)["model"].str(), kFastPhysical);
  EXPECT_EQ((*upstream_body)["messages"][0]["content"].str(), "keep me intact");
  EXPECT_EQ((*upstream_body)["messages"][0]["role"].str(), "user");

  const Json& headers = seen["headers"];
  EXPECT_EQ(headers["authorization"].str(), std::string("Bearer ") + kProviderApiKey)
      << seen.dump();
  EXPECT_EQ(headers["x-provider-tag"].str(), kProviderHeaderValue) << seen.dump();
  EXPECT_EQ(seen.dump().find(kAliceKey), std::string::npos)
      << "the agent's key went upstream: " << seen.dump();
}

// §10: the provider key never reaches the agent.
TEST_F(ChatCompletionTest, ProviderKeyIsNotInTheResponse) {
  HttpClient client = sluice.client();
  auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, "x"), bearer(kAliceKey));
  ASSERT_TRUE(r) << client.error();
  EXPECT_EQ(r->describe().find(kProviderApiKey), std::string::npos) << r->describe();
}

// §10: hop-by-hop headers (and those a Connection header names) stay on the client's hop.
TEST_F(ChatCompletionTest, HopByHopHeadersAreNotForwarded) {
  HttpClient client = sluice.client();
  Headers headers = bearer(kAliceKey);
  headers.emplace_back("Connection", "keep-alive, X-Hop-Only");
  headers.emplace_back("Keep-Alive", "timeout=99");
  headers.emplace_back("X-Hop-Only", "hop-value");
  headers.emplace_back("Proxy-Authorization", "Basic aG9wOmhvcA==");
  auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, "x"), headers);
  ASSERT_TRUE(r) << client.error();
  ASSERT_EQ(r->status, 200) << r->describe();
  Json upstream = last_upstream_request(mock)["headers"];
  EXPECT_FALSE(upstream.contains("keep-alive")) << upstream.dump();
  EXPECT_FALSE(upstream.contains("x-hop-only")) << upstream.dump();
  EXPECT_FALSE(upstream.contains("proxy-authorization")) << upstream.dump();
}

// A request body sent with chunked transfer-encoding (as some SDKs stream uploads) is
// de-chunked and forwarded whole.
TEST_F(ChatCompletionTest, ChunkedRequestBodyIsForwardedWhole) {
  std::string body = chat_body(kFastModel, "sent in chunks");
  std::string half1 = body.substr(0, body.size() / 2), half2 = body.substr(body.size() / 2);
  auto hex = [](size_t n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%zx", n);
    return std::string(buf);
  };
  HttpClient client = sluice.client();
  ASSERT_TRUE(client.connect()) << client.error();
  ASSERT_TRUE(client.send_raw(std::string("POST /v1/chat/completions HTTP/1.1\r\n") +
                              "Host: sluice\r\nAuthorization: Bearer " + kAliceKey +
                              "\r\nContent-Type: application/json\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n" +
                              hex(half1.size()) + "\r\n" + half1 + "\r\n" + hex(half2.size()) +
                              "\r\n" + half2 + "\r\n0\r\n\r\n"));
  auto r = client.read_response();
  ASSERT_TRUE(r) << client.error();
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->json().value_or(Json())["choices"][0]["message"]["content"].str(),
            std::string("[") + kFastPhysical + "] sent in chunks");
}

}  // namespace
}  // namespace sluice::test
