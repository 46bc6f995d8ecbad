// Back-pressure (DESIGN §10, issue 2 item 5): a client that stops reading a large stream makes
// sluice stop reading from the provider above its write watermark, so sluice's memory stays
// bounded by its buffers, not by the size of the answer; and nothing is lost once the client
// reads again.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// Resident set of a process, in KiB, from /proc (0 if unreadable).
long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

TEST(BackpressureTest, SlowClientBoundsMemoryAndStillGetsEverything) {
  MockProvider mock{mock_provider_binary()};
  ASSERT_TRUE(mock.ok());
  GatewayConfig config;
  config.provider_base_url = mock.base_url();
  SluiceServer sluice;
  ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  const pid_t pid = sluice.process().pid();

  // Warm up so the baseline includes the pools and buffers of a served request.
  HttpClient warm = sluice.client();
  auto first = warm.post_json("/v1/chat/completions", chat_body(kFastModel, "hi"), bearer(kAliceKey));
  ASSERT_TRUE(first && first->status == 200) << sluice.describe();
  const long baseline = rss_kib(pid);
  ASSERT_GT(baseline, 0);

  // About 30 MB of SSE (8 MB of filler, one event per 64-byte word): far more than every buffer on the way can hold.
  constexpr uint64_t kPadBytes = 8000000;
  ASSERT_TRUE(mock.control("pad:" + std::to_string(kPadBytes)));
  HttpClient client = sluice.client();
  client.set_timeout(60s);
  auto head = client.start_request("POST", "/v1/chat/completions",
                                   chat_body(kFastModel, "flood me", true), bearer(kAliceKey));
  ASSERT_TRUE(head) << client.error() << "\n" << sluice.describe();
  ASSERT_EQ(head->status, 200) << head->describe();

  // The client reads nothing for a while; the provider keeps trying to send.
  long peak = baseline;
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(100ms);
    peak = std::max(peak, rss_kib(pid));
  }
  // sluice may hold its write queue (a few hundred KiB) plus read buffers; the kernel's socket
  // buffers are not in its RSS. 16 MiB of slack is generous and still far below the stream.
  EXPECT_LT(peak - baseline, 16 * 1024) << "sluice buffered the stream instead of pausing the "
                                           "provider: RSS grew from "
                                        << baseline << " KiB to " << peak << " KiB";

  // Now read it all: every byte arrives and the stream ends properly.
  uint64_t received = 0;
  std::string tail;
  while (auto piece = client.read_body_piece()) {
    received += piece->size();
    tail = (tail + *piece).substr(tail.size() + piece->size() > 400 ? tail.size() + piece->size() - 400 : 0);
  }
  EXPECT_TRUE(client.body_complete()) << client.error();
  EXPECT_GT(received, kPadBytes) << "the stream was cut; it ended with: " << tail;
  EXPECT_LT(rss_kib(pid) - baseline, 16 * 1024);
}

}  // namespace
}  // namespace sluice::test
