// Many agents at once on one worker (DESIGN §2: one libuv loop serves every connection, nothing
// blocks): concurrent requests and streams all complete, and each gets its own answer — no
// response is crossed with another's on the shared upstream pool.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/gateway_test.h"
#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class ConcurrencyTest : public GatewayTest {};

TEST_F(ConcurrencyTest, ConcurrentRequestsEachGetTheirOwnAnswer) {
  constexpr int kClients = 16;
  constexpr int kRequestsEach = 4;
  // Each reply is delayed so that the requests really overlap in sluice.
  ASSERT_TRUE(mock.control("slow:50", -1));
  std::atomic<int> good{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      HttpClient client(sluice.port());
      client.set_timeout(30s);
      for (int i = 0; i < kRequestsEach; ++i) {
        std::string text = "client-" + std::to_string(c) + "-request-" + std::to_string(i);
        auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, text),
                                  bearer(kAliceKey));
        std::string want = std::string("[") + kFastPhysical + "] " + text;
        if (!r) {
          failures[c] = text + ": " + client.error();
          return;
        }
        std::string got = r->json().value_or(Json())["choices"][0]["message"]["content"].str();
        if (r->status != 200 || got != want) {
          failures[c] = text + ": " + r->describe();
          return;
        }
        ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f;
  EXPECT_EQ(good.load(), kClients * kRequestsEach);
}

TEST_F(ConcurrencyTest, ConcurrentSlowStreamsAllComplete) {
  constexpr int kStreams = 8;
  ASSERT_TRUE(mock.control("slow_chunks:100,chunks:8", -1));
  std::vector<StreamResult> results(kStreams);
  std::vector<std::thread> threads;
  for (int s = 0; s < kStreams; ++s) {
    threads.emplace_back([&, s] {
      HttpClient client(sluice.port());
      client.set_timeout(30s);
      results[s] = client.stream_post("/v1/chat/completions",
                                      chat_body(kFastModel, "stream-" + std::to_string(s), true),
                                      bearer(kAliceKey));
    });
  }
  for (auto& t : threads) t.join();
  for (int s = 0; s < kStreams; ++s) {
    const StreamResult& r = results[s];
    ASSERT_TRUE(r.complete) << "stream " << s << ": " << r.describe();
    ASSERT_EQ(r.events.size(), 10u) << r.describe();  // 8 content + finish + [DONE]
    EXPECT_EQ(r.events.back().data, "[DONE]");
    std::string text;
    for (const SseEvent& e : r.events)
      text += Json::parse(e.data).value_or(Json())["choices"][0]["delta"]["content"].str();
    EXPECT_EQ(text.rfind(std::string("[") + kFastPhysical + "] stream-" + std::to_string(s), 0), 0u)
        << "stream " << s << " got: " << text;
  }
}

}  // namespace
}  // namespace sluice::test
