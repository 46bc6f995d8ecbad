// HTTP/1.1 connection reuse (DESIGN §5 "HTTP/1.1" agents' API; §2 request path per
// connection): keep-alive serves many requests on one connection, pipelined requests get their
// responses in order, and `Connection: close` is honoured.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class PipeliningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  std::string raw_chat(const std::string& text, const std::string& extra_headers = "") {
    std::string body = chat_body(kFastModel, text);
    return std::string("POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n") +
           "Authorization: Bearer " + kAliceKey + "\r\nContent-Type: application/json\r\n" +
           extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  static std::string content_of(const HttpResponse& r) {
    return r.json().value_or(Json())["choices"][0]["message"]["content"].str();
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(PipeliningTest, KeepAliveServesSequentialRequestsOnOneConnection) {
  HttpClient client = sluice.client();
  for (const char* text : {"one", "two", "three"}) {
    auto r =
        client.post_json("/v1/chat/completions", chat_body(kFastModel, text), bearer(kAliceKey));
    ASSERT_TRUE(r) << client.error() << "\n" << sluice.describe();
    EXPECT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(content_of(*r), std::string("[") + kFastPhysical + "] " + text);
  }
  EXPECT_EQ(client.connects(), 1) << "sluice closed a keep-alive connection between requests";
}

TEST_F(PipeliningTest, PipelinedRequestsAreAnsweredInOrder) {
  HttpClient client = sluice.client();
  ASSERT_TRUE(client.connect());
  // Three requests in one write; the middle one is a GET that sluice answers itself.
  std::string models = std::string("GET /v1/models HTTP/1.1\r\nHost: s\r\nAuthorization: Bearer ") +
                       kAliceKey + "\r\n\r\n";
  ASSERT_TRUE(client.send_raw(raw_chat("first") + models + raw_chat("third")));

  auto first = client.read_response();
  ASSERT_TRUE(first) << client.error() << "\n" << sluice.describe();
  EXPECT_EQ(content_of(*first), std::string("[") + kFastPhysical + "] first") << first->describe();
  auto second = client.read_response();
  ASSERT_TRUE(second) << client.error();
  EXPECT_EQ(second->json().value_or(Json())["object"].str(), "list") << second->describe();
  auto third = client.read_response();
  ASSERT_TRUE(third) << client.error();
  EXPECT_EQ(content_of(*third), std::string("[") + kFastPhysical + "] third") << third->describe();
  EXPECT_EQ(client.connects(), 1);
}

TEST_F(PipeliningTest, ThreePipelinedChatsAreAnsweredInOrder) {
  HttpClient client = sluice.client();
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.send_raw(raw_chat("alpha") + raw_chat("beta") + raw_chat("gamma")));
  for (const char* text : {"alpha", "beta", "gamma"}) {
    auto r = client.read_response();
    ASSERT_TRUE(r) << text << ": " << client.error() << "\n" << sluice.describe();
    EXPECT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(content_of(*r), std::string("[") + kFastPhysical + "] " + text);
  }
}

TEST_F(PipeliningTest, ConnectionCloseIsHonoured) {
  HttpClient client = sluice.client();
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.send_raw(raw_chat("last one", "Connection: close\r\n")));
  auto r = client.read_response();
  ASSERT_TRUE(r) << client.error();
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_TRUE(client.wait_for_close(5s)) << "sluice kept the connection open";
}

// HTTP/1.0 without keep-alive: one response, then the connection closes.
TEST_F(PipeliningTest, Http10ConnectionClosesAfterTheResponse) {
  HttpClient client = sluice.client();
  ASSERT_TRUE(client.connect());
  std::string body = chat_body(kFastModel, "old client");
  ASSERT_TRUE(client.send_raw(std::string("POST /v1/chat/completions HTTP/1.0\r\nHost: s\r\n") +
                              "Authorization: Bearer " + kAliceKey +
                              "\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body));
  auto r = client.read_response();
  ASSERT_TRUE(r) << client.error();
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(content_of(*r), std::string("[") + kFastPhysical + "] old client");
  EXPECT_TRUE(client.wait_for_close(5s)) << "sluice kept an HTTP/1.0 connection open";
}

// curl and many SDKs send `Expect: 100-continue` before a large body and wait for the interim
// response (nginx and Envoy send it); the exchange then completes normally.
TEST_F(PipeliningTest, ExpectContinueIsAnswered) {
  HttpClient client = sluice.client();
  client.set_timeout(3s);
  ASSERT_TRUE(client.connect());
  std::string body = chat_body(kFastModel, "after continue");
  ASSERT_TRUE(client.send_raw(std::string("POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n") +
                              "Authorization: Bearer " + kAliceKey +
                              "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                              "Content-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n"));
  // Nothing but the interim response may come before the body is sent.
  std::string interim;
  while (interim.find("\r\n\r\n") == std::string::npos) {
    auto piece = client.read_raw_some();
    ASSERT_TRUE(piece) << "no 100 Continue within 3 s: " << client.error();
    interim += *piece;
  }
  EXPECT_EQ(interim.rfind("HTTP/1.1 100", 0), 0u) << interim;
  ASSERT_TRUE(client.send_raw(body));
  client.set_timeout(10s);
  auto r = client.read_response();
  ASSERT_TRUE(r) << client.error();
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(content_of(*r), std::string("[") + kFastPhysical + "] after continue");
}

}  // namespace
}  // namespace sluice::test
