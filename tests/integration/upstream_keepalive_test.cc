// Upstream connections are pooled and kept alive (DESIGN §2 "pooled keep-alive connection";
// §11 "upstream keep-alive pools per worker"): sequential requests reuse one provider
// connection, seen from the provider's side.
#include <gtest/gtest.h>

#include "tests/support/gateway_test.h"
#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

class UpstreamKeepAliveTest : public GatewayTest {};

TEST_F(UpstreamKeepAliveTest, SequentialRequestsReuseOneProviderConnection) {
  auto before = mock.stats();
  ASSERT_TRUE(before);
  int64_t opened_before = (*before)["connections_total"].as_int();
  for (int i = 0; i < 10; ++i) {
    HttpClient client = sluice.client();  // a new agent connection each time
    auto r =
        client.post_json("/v1/chat/completions", chat_body(kFastModel, "reuse"), bearer(kAliceKey));
    ASSERT_TRUE(r) << client.error();
    ASSERT_EQ(r->status, 200) << r->describe();
    StreamResult s = client.stream_post(
        "/v1/chat/completions", chat_body(kFastModel, "reuse stream", true), bearer(kAliceKey));
    ASSERT_TRUE(s.complete) << s.describe();
  }
  auto after = mock.stats();
  ASSERT_TRUE(after);
  // Each stats() call is one connection of its own; sluice's 20 requests should need one.
  int64_t opened_by_sluice = (*after)["connections_total"].as_int() - opened_before - 1;
  EXPECT_LE(opened_by_sluice, 2) << "20 sequential requests opened " << opened_by_sluice
                                 << " provider connections";
  EXPECT_EQ((*after)["requests_total"].as_int(), 20);
}

}  // namespace
}  // namespace sluice::test
