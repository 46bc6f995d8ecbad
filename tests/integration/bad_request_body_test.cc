// Requests whose HTTP is fine but whose content is not (DESIGN §5 error table: 400
// invalid_request_error, 404 not_found_error, 413 request_too_large; §13: every bad input class
// shows a clear error, and the next request still works). None of them reaches the provider.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class BadRequestBodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.limits = "{max_request_body: 2KiB}";
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // After a refused request: the same client (reconnecting if sluice closed the connection)
  // gets a normal answer, and that is the only request the provider ever saw.
  void expect_next_request_works(HttpClient& client) {
    auto r =
        client.post_json("/v1/chat/completions", chat_body(kFastModel, "valid"), bearer(kAliceKey));
    ASSERT_TRUE(r) << client.error() << "\n" << sluice.describe();
    EXPECT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(mock.requests().value_or(Json()).size(), 1u) << mock.requests_raw();
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(BadRequestBodyTest, MalformedJsonIs400) {
  HttpClient client = sluice.client();
  EXPECT_TRUE(
      is_openai_error(client.post_json("/v1/chat/completions", R"({"model": "fast", "messages": [)",
                                       bearer(kAliceKey)),
                      400, "invalid_request_error"));
  expect_next_request_works(client);
}

TEST_F(BadRequestBodyTest, NonObjectJsonIs400) {
  HttpClient client = sluice.client();
  EXPECT_TRUE(
      is_openai_error(client.post_json("/v1/chat/completions", R"(["fast"])", bearer(kAliceKey)),
                      400, "invalid_request_error"));
  expect_next_request_works(client);
}

TEST_F(BadRequestBodyTest, MissingModelIs400) {
  HttpClient client = sluice.client();
  EXPECT_TRUE(is_openai_error(
      client.post_json("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})",
                       bearer(kAliceKey)),
      400, "invalid_request_error"));
  expect_next_request_works(client);
}

TEST_F(BadRequestBodyTest, BodyOverTheLimitIs413) {
  HttpClient client = sluice.client();
  std::string big = chat_body(kFastModel, std::string(4096, 'x'));
  EXPECT_TRUE(is_openai_error(client.post_json("/v1/chat/completions", big, bearer(kAliceKey)), 413,
                              "request_too_large"));
  expect_next_request_works(client);
}

// A declared Content-Length over the limit is refused from the head alone: the client need not
// send (and sluice need not wait for) a body it will refuse.
TEST_F(BadRequestBodyTest, DeclaredLengthOverTheLimitIsRefusedBeforeTheBody) {
  HttpClient client = sluice.client();
  client.set_timeout(5s);
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.send_raw(std::string("POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n"
                                          "Authorization: Bearer ") +
                              kAliceKey +
                              "\r\nContent-Type: application/json\r\n"
                              "Content-Length: 10000000\r\n\r\n{\"model\":"));
  EXPECT_TRUE(is_openai_error(client.read_response(), 413, "request_too_large")) << client.error();
  HttpClient next = sluice.client();
  expect_next_request_works(next);
}

TEST_F(BadRequestBodyTest, UnknownPathIs404) {
  HttpClient client = sluice.client();
  EXPECT_TRUE(is_openai_error(
      client.post_json("/v1/no/such/endpoint", chat_body(kFastModel, "x"), bearer(kAliceKey)), 404,
      "not_found_error"));
  EXPECT_TRUE(
      is_openai_error(client.get("/index.html", bearer(kAliceKey)), 404, "not_found_error"));
  expect_next_request_works(client);
}

}  // namespace
}  // namespace sluice::test
