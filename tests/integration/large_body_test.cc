// Bodies far larger than one read or write buffer pass through intact (DESIGN §2 "streams the
// answer back"; §10 every buffer has a bound, so big bodies must flow, not accumulate), and a
// request body near the limit is accepted whole.
#include <gtest/gtest.h>

#include "tests/support/gateway_test.h"
#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class LargeBodyTest : public GatewayTest {};

TEST_F(LargeBodyTest, LargeResponseArrivesIntact) {
  constexpr size_t kPad = 4 << 20;
  ASSERT_TRUE(mock.control("pad:" + std::to_string(kPad)));
  HttpClient client = sluice.client();
  client.set_timeout(30s);
  auto r =
      client.post_json("/v1/chat/completions", chat_body(kFastModel, "big"), bearer(kAliceKey));
  ASSERT_TRUE(r) << client.error() << "\n" << sluice.describe();
  ASSERT_EQ(r->status, 200) << r->describe();
  std::string content = r->json().value_or(Json())["choices"][0]["message"]["content"].str();
  EXPECT_GE(content.size(), kPad);
  EXPECT_EQ(content.rfind(std::string("[") + kFastPhysical + "] big", 0), 0u);
  EXPECT_EQ(content.find_first_not_of(" p", content.find("big") + 3), std::string::npos)
      << "the padding was altered";
}

TEST_F(LargeBodyTest, LongStreamArrivesIntact) {
  // ~16k events of 64 content bytes each (~5 MB of SSE).
  ASSERT_TRUE(mock.control("pad:1048576"));
  HttpClient client = sluice.client();
  client.set_timeout(30s);
  StreamResult s = client.stream_post("/v1/chat/completions", chat_body(kFastModel, "long", true),
                                      bearer(kAliceKey));
  ASSERT_TRUE(s.complete) << s.error << " after " << s.events.size() << " events";
  EXPECT_EQ(s.events.back().data, "[DONE]");
  size_t text_bytes = 0;
  for (const SseEvent& e : s.events)
    text_bytes +=
        Json::parse(e.data).value_or(Json())["choices"][0]["delta"]["content"].str().size();
  EXPECT_GE(text_bytes, 1048576u);
}

TEST_F(LargeBodyTest, LargeRequestBodyReachesTheProviderWhole) {
  std::string text(3 << 20, 'q');  // 3 MiB, under the default 32MiB limit
  HttpClient client = sluice.client();
  client.set_timeout(30s);
  auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, text), bearer(kAliceKey));
  ASSERT_TRUE(r) << client.error() << "\n" << sluice.describe();
  ASSERT_EQ(r->status, 200) << r->describe();
  // The mock echoes the last user message: all of it came through.
  std::string content = r->json().value_or(Json())["choices"][0]["message"]["content"].str();
  EXPECT_EQ(content, std::string("[") + kFastPhysical + "] " + text);
}

}  // namespace
}  // namespace sluice::test
