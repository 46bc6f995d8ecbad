// Downstream connection limits (DESIGN §4 limits.idle_timeout and limits.max_connections; §10
// "every wait has a timeout"): an idle keep-alive connection is closed after idle_timeout, and
// connections beyond max_connections are not served while the others are — but are once a
// slot frees.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class ConnectionLimitsTest : public ::testing::Test {
 protected:
  // Each test sets only the limit it is about, so the other cannot interfere (an idle_timeout
  // would free connection slots behind the max_connections test's back).
  void start_with_limits(const std::string& limits) {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.limits = limits;
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  std::optional<HttpResponse> chat(HttpClient& client, const std::string& text) {
    return client.post_json("/v1/chat/completions", chat_body(kFastModel, text), bearer(kAliceKey));
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(ConnectionLimitsTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  ASSERT_NO_FATAL_FAILURE(start_with_limits("{idle_timeout: 500ms}"));
  HttpClient client = sluice.client();
  auto r = chat(client, "then idle");
  ASSERT_TRUE(r) << client.error();
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_TRUE(client.wait_for_close(5s)) << "an idle connection outlived idle_timeout (500ms)";
}

TEST_F(ConnectionLimitsTest, ConnectionsBeyondTheLimitWaitForAFreeSlot) {
  ASSERT_NO_FATAL_FAILURE(start_with_limits("{max_connections: 3}"));
  // Three open connections, each proven accepted by a served request.
  std::vector<HttpClient> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(sluice.client());
    auto r = chat(held.back(), "hold " + std::to_string(i));
    ASSERT_TRUE(r) << held.back().error();
    ASSERT_EQ(r->status, 200) << r->describe();
  }
  // A fourth is not served: refused, closed, or answered with an error — never a 200.
  HttpClient extra = sluice.client();
  extra.set_timeout(2s);
  auto refused = chat(extra, "one too many");
  if (refused) {
    EXPECT_NE(refused->status, 200) << refused->describe();
  }

  // Once the held connections go, new ones are served again.
  held.clear();
  HttpClient later = sluice.client();
  bool served = eventually(
      [&] {
        auto r = chat(later, "after");
        return r && r->status == 200;
      },
      5s);
  EXPECT_TRUE(served) << "no connection was served after the others closed: " << later.error();
}

}  // namespace
}  // namespace sluice::test
