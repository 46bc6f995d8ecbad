// Requests whose HTTP itself is bad or too big (DESIGN §10: llhttp strict, sluice counts head
// bytes and answers 431, CL+TE or two Content-Lengths get 400 and the connection closes; §4
// limits.header_timeout against slowloris; §5 error table: 400, 408-or-close, 431). After each,
// a new connection is served normally and the provider saw nothing of the bad request.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class BadHttpFramingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.limits = "{max_header_bytes: 4KiB, max_headers: 20, header_timeout: 300ms}";
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // Sends `raw` on a fresh connection and reads the answer (nullopt if the connection just
  // closed; `client` tells how).
  std::optional<HttpResponse> send(HttpClient& client, const std::string& raw) {
    client.set_timeout(5s);
    EXPECT_TRUE(client.connect()) << client.error();
    EXPECT_TRUE(client.send_raw(raw)) << client.error();
    return client.read_response();
  }

  void expect_new_connection_works() {
    HttpClient client = sluice.client();
    auto r =
        client.post_json("/v1/chat/completions", chat_body(kFastModel, "valid"), bearer(kAliceKey));
    ASSERT_TRUE(r) << client.error() << "\n" << sluice.describe();
    EXPECT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(mock.requests().value_or(Json()).size(), 1u) << mock.requests_raw();
  }

  std::string valid_body() { return chat_body(kFastModel, "framing"); }
  std::string auth_line() { return std::string("Authorization: Bearer ") + kAliceKey + "\r\n"; }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(BadHttpFramingTest, OversizeHeadIs431) {
  HttpClient client = sluice.client();
  std::string body = valid_body();
  auto r = send(client, "POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n" + auth_line() +
                            "X-Big: " + std::string(8192, 'a') + "\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_TRUE(is_openai_error(r, 431, "request_header_fields_too_large")) << client.error();
  expect_new_connection_works();
}

TEST_F(BadHttpFramingTest, TooManyHeadersIs431) {
  HttpClient client = sluice.client();
  std::string many;
  for (int i = 0; i < 40; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  std::string body = valid_body();
  auto r = send(client, "POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n" + auth_line() + many +
                            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_TRUE(is_openai_error(r, 431, "request_header_fields_too_large")) << client.error();
  expect_new_connection_works();
}

TEST_F(BadHttpFramingTest, ContentLengthWithTransferEncodingIs400AndCloses) {
  HttpClient client = sluice.client();
  std::string body = valid_body();
  auto r = send(client, "POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n" + auth_line() +
                            "Content-Length: " + std::to_string(body.size()) +
                            "\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
  EXPECT_TRUE(is_openai_error(r, 400, "invalid_request_error")) << client.error();
  EXPECT_TRUE(client.wait_for_close(5s)) << "the connection stayed open: " << client.error();
  expect_new_connection_works();
}

TEST_F(BadHttpFramingTest, DuplicateContentLengthIs400AndCloses) {
  HttpClient client = sluice.client();
  std::string body = valid_body();
  std::string cl = "Content-Length: " + std::to_string(body.size()) + "\r\n";
  auto r = send(client, "POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n" + auth_line() + cl +
                            cl + "\r\n" + body);
  EXPECT_TRUE(is_openai_error(r, 400, "invalid_request_error")) << client.error();
  EXPECT_TRUE(client.wait_for_close(5s)) << "the connection stayed open: " << client.error();
  expect_new_connection_works();
}

TEST_F(BadHttpFramingTest, ContentLengthListIs400) {
  HttpClient client = sluice.client();
  std::string body = valid_body();
  std::string n = std::to_string(body.size());
  auto r = send(client, "POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n" + auth_line() +
                            "Content-Length: " + n + ", " + n + "\r\n\r\n" + body);
  EXPECT_TRUE(is_openai_error(r, 400, "invalid_request_error")) << client.error();
  expect_new_connection_works();
}

// "Name : value" (space before the colon) is a classic smuggling vector; strict parsers refuse.
TEST_F(BadHttpFramingTest, SpaceBeforeHeaderColonIs400) {
  HttpClient client = sluice.client();
  std::string body = valid_body();
  auto r = send(client, "POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n" + auth_line() +
                            "Content-Length : " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_TRUE(is_openai_error(r, 400, "invalid_request_error")) << client.error();
  expect_new_connection_works();
}

TEST_F(BadHttpFramingTest, GarbageRequestLineIs400) {
  HttpClient client = sluice.client();
  auto r = send(client, "HELLO THERE\r\n\r\n");
  EXPECT_TRUE(is_openai_error(r, 400, "invalid_request_error")) << client.error();
  expect_new_connection_works();
}

// A head that never completes is answered 408 or closed once header_timeout (300 ms) passes —
// well before the 5 s the client waits (the default header_timeout is 10 s).
TEST_F(BadHttpFramingTest, IncompleteHeadTimesOut) {
  HttpClient client = sluice.client();
  auto r = send(client, "POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\nX-Partial: ");
  if (r) {
    EXPECT_EQ(r->status, 408) << r->describe();
  } else {
    EXPECT_EQ(client.error().find("timeout"), std::string::npos)
        << "sluice neither answered nor closed within 5 s: " << client.error();
  }
  expect_new_connection_works();
}

}  // namespace
}  // namespace sluice::test
