// Idle keep-alive connections (issue 14): a connection between requests holds no request slot
// (parser, buffers, proxy session — core/server/request_slot.h), the slots given back are
// pooled up to a bound, and every connection still serves its next request. Read through
// sluice_request_slots{state} on /metrics, which is what an operator sees.
#include <gtest/gtest.h>

#include <vector>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// core/server/request_slot.h: RequestSlotPool::kMaxFree.
constexpr double kMaxFreeSlots = 64;

class IdleConnectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // A metric sample's value from /metrics (-1: absent).
  double metric(const std::string& series) {
    auto r = sluice.admin_client().get("/metrics");
    if (!r) return -1;
    const size_t at = r->body.find(series + " ");
    return at == std::string::npos ? -1 : std::stod(r->body.substr(at + series.size() + 1));
  }
  double slots_in_use() { return metric("sluice_request_slots{state=\"in_use\"}"); }
  double slots_free() { return metric("sluice_request_slots{state=\"free\"}"); }

  static std::string raw_chat(const std::string& text) {
    std::string body = chat_body(kFastModel, text);
    return std::string("POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n") +
           "Authorization: Bearer " + kAliceKey + "\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  static std::string content_of(const HttpResponse& r) {
    return r.json().value_or(Json())["choices"][0]["message"]["content"].str();
  }

  // Sends one chat completion on every connection at once, then reads every answer: all of
  // them are in flight together (the mock holds each for a moment), so the workers need as
  // many slots as connections.
  void chat_on_all(std::vector<HttpClient>& clients, const std::string& round) {
    ASSERT_TRUE(mock.control("slow:200", static_cast<int>(clients.size())));
    for (size_t i = 0; i < clients.size(); ++i) {
      if (!clients[i].connected()) {
        ASSERT_TRUE(clients[i].connect()) << clients[i].error();
      }
      ASSERT_TRUE(clients[i].send_raw(raw_chat(round + std::to_string(i))))
          << i << ": " << clients[i].error();
    }
    for (size_t i = 0; i < clients.size(); ++i) {
      auto r = clients[i].read_response();
      ASSERT_TRUE(r) << i << ": " << clients[i].error() << "\n" << sluice.describe();
      EXPECT_EQ(r->status, 200) << r->describe();
      EXPECT_EQ(content_of(*r), std::string("[") + kFastPhysical + "] " + round + std::to_string(i))
          << r->describe();
    }
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(IdleConnectionsTest, IdleKeepAliveConnectionsHoldNoSlotAndServeTheirNextRequest) {
  constexpr size_t kConnections = 150;  // more than the pool keeps (kMaxFreeSlots)
  std::vector<HttpClient> clients;
  for (size_t i = 0; i < kConnections; ++i) clients.push_back(sluice.client());

  chat_on_all(clients, "first ");
  // Every connection is open and idle now: none holds a slot, and the pool kept at most its
  // bound of the ~150 that the burst needed.
  EXPECT_TRUE(eventually([&] { return slots_in_use() == 0; }, 5s)) << "in use: " << slots_in_use();
  EXPECT_LE(slots_free(), kMaxFreeSlots);
  EXPECT_GE(slots_free(), 1);

  // Each idle connection still works, without reconnecting.
  chat_on_all(clients, "second ");
  for (const HttpClient& c : clients) EXPECT_EQ(c.connects(), 1);
  EXPECT_TRUE(eventually([&] { return slots_in_use() == 0; }, 5s)) << "in use: " << slots_in_use();
  EXPECT_LE(slots_free(), kMaxFreeSlots);
}

TEST_F(IdleConnectionsTest, ARequestHoldsASlotFromItsFirstByteToItsAnswer) {
  HttpClient client = sluice.client();
  ASSERT_TRUE(client.connect());
  EXPECT_TRUE(eventually([&] { return slots_in_use() == 0; }, 5s));  // connected, nothing sent

  const std::string request = raw_chat("halves");
  const size_t half = request.size() / 2;
  ASSERT_TRUE(client.send_raw(request.substr(0, half)));
  EXPECT_TRUE(eventually([&] { return slots_in_use() == 1; }, 5s))
      << "a request that started arriving holds a slot; in use: " << slots_in_use();

  ASSERT_TRUE(client.send_raw(request.substr(half)));
  auto r = client.read_response();
  ASSERT_TRUE(r) << client.error() << "\n" << sluice.describe();
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(content_of(*r), std::string("[") + kFastPhysical + "] halves");
  EXPECT_TRUE(eventually([&] { return slots_in_use() == 0; }, 5s))
      << "answered, the connection is idle again; in use: " << slots_in_use();

  // Pipelined requests are answered in order across the slot's return and reuse.
  ASSERT_TRUE(client.send_raw(raw_chat("p1") + raw_chat("p2")));
  for (const char* text : {"p1", "p2"}) {
    auto p = client.read_response();
    ASSERT_TRUE(p) << text << ": " << client.error();
    EXPECT_EQ(content_of(*p), std::string("[") + kFastPhysical + "] " + text) << p->describe();
  }
  EXPECT_EQ(client.connects(), 1);
  EXPECT_TRUE(eventually([&] { return slots_in_use() == 0; }, 5s));
}

TEST_F(IdleConnectionsTest, ClosedConnectionsGiveTheirSlotsBack) {
  {
    std::vector<HttpClient> clients;
    for (size_t i = 0; i < 10; ++i) clients.push_back(sluice.client());
    for (HttpClient& c : clients) {
      ASSERT_TRUE(c.connect());
      // Half a request each, then the client goes away: the slots come back on close.
      ASSERT_TRUE(c.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\n"));
    }
    EXPECT_TRUE(eventually([&] { return slots_in_use() == 10; }, 5s))
        << "in use: " << slots_in_use();
  }
  EXPECT_TRUE(eventually([&] { return slots_in_use() == 0; }, 5s)) << "in use: " << slots_in_use();
  // And sluice serves the next client as before.
  HttpClient client = sluice.client();
  auto r =
      client.post_json("/v1/chat/completions", chat_body(kFastModel, "after"), bearer(kAliceKey));
  ASSERT_TRUE(r) << client.error();
  EXPECT_EQ(r->status, 200) << r->describe();
}

}  // namespace
}  // namespace sluice::test
