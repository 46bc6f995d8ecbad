// SIGTERM drains (DESIGN §10: "No data is lost on ... a SIGTERM"; docs/operations.md: listeners
// close at once, requests in flight — streams included — run to their end, then exit 0).
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/support/gateway_test.h"
#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class GracefulShutdownTest : public GatewayTest {};

TEST_F(GracefulShutdownTest, StreamInFlightCompletesAndNewConnectionsAreRefused) {
  // 10 content events 400 ms apart: the stream lasts about 4.4 s after its first event.
  ASSERT_TRUE(mock.control("slow_chunks:400,chunks:10"));
  HttpClient streamer = sluice.client();
  streamer.set_timeout(20s);
  auto head = streamer.start_request("POST", "/v1/chat/completions",
                                     chat_body(kFastModel, "drain me", true),
                                     {{"Authorization", std::string("Bearer ") + kAliceKey},
                                      {"Content-Type", "application/json"}});
  ASSERT_TRUE(head) << streamer.error() << "\n" << sluice.describe();
  ASSERT_EQ(head->status, 200) << head->describe();
  std::vector<SseEvent> events;
  auto first = streamer.read_sse_event();
  ASSERT_TRUE(first) << streamer.error();
  events.push_back(*first);

  ASSERT_TRUE(sluice.process().signal(SIGTERM));

  // The listener closes at once: a new connection is refused while the stream still runs.
  HttpClient newcomer = sluice.client();
  newcomer.set_timeout(1s);
  bool refused = eventually([&] { return !newcomer.connect(); }, 3s);
  EXPECT_TRUE(refused) << "sluice still accepts connections 3 s after SIGTERM";

  while (auto ev = streamer.read_sse_event()) events.push_back(*ev);
  EXPECT_TRUE(streamer.body_complete())
      << "the stream was cut by the shutdown: " << streamer.error() << " after " << events.size()
      << " events";
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(events.size(), 12u);  // 10 content events, the finish event, [DONE]

  auto code = sluice.process().wait_exit(20s);
  ASSERT_TRUE(code) << "sluice did not exit after draining\n" << sluice.describe();
  EXPECT_EQ(*code, 0) << sluice.describe();
}

TEST_F(GracefulShutdownTest, IdleSluiceExitsZeroPromptly) {
  HttpClient idle = sluice.client();  // an idle keep-alive connection must not hold the exit
  auto r = idle.post_json("/v1/chat/completions", chat_body(kFastModel, "x"), bearer(kAliceKey));
  ASSERT_TRUE(r) << idle.error();
  ASSERT_TRUE(sluice.process().signal(SIGTERM));
  auto code = sluice.process().wait_exit(10s);
  ASSERT_TRUE(code) << "sluice did not exit within 10 s\n" << sluice.describe();
  EXPECT_EQ(*code, 0) << sluice.describe();
}

}  // namespace
}  // namespace sluice::test
