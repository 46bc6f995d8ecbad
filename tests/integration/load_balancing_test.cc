// Load balancing as an operator sees it, with real sockets and two mock providers behind one
// sluice: a `weighted` group splits traffic by weight (checked on what each provider actually
// received), and a `latency` group sends traffic to the faster provider and follows when the
// two swap speeds (exploration re-measures the one it had moved away from). Who served a
// request is read from the x-sluice-provider response header.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kWeightedModel = "lb-weighted";
constexpr const char* kLatencyModel = "lb-latency";
constexpr const char* kProviderA = "mockai";  // GatewayConfig's provider, on mock_a
constexpr const char* kProviderB = "mockb";
constexpr const char* kSlow = "slow:80";  // ms before the first byte

class LoadBalancingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock_a.ok());
    ASSERT_TRUE(mock_b.ok());
    GatewayConfig config;
    config.provider_base_url = mock_a.base_url();
    config.extra_providers = std::string("  ") + kProviderB +
                             ":\n    type: openai\n    base_url: " + mock_b.base_url() +
                             "\n    api_key: sk-mock-b\n";
    config.extra_models = std::string("  ") + kWeightedModel +
                          ":\n"
                          "    strategy: weighted\n"
                          "    targets:\n"
                          "      - {provider: mockai, model: weighted-a, weight: 1}\n"
                          "      - {provider: mockb, model: weighted-b, weight: 3}\n"
                          "  " +
                          kLatencyModel +
                          ":\n"
                          "    strategy: latency\n"
                          "    targets:\n"
                          "      - {provider: mockai, model: latency-a}\n"
                          "      - {provider: mockb, model: latency-b}\n";
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
    client = std::make_unique<HttpClient>(sluice.client());
    client->set_timeout(20s);
  }

  // One chat request for `model`; the provider that served it ("" and a failure otherwise).
  std::string served_by(const std::string& model) {
    auto r = client->post_json("/v1/chat/completions", chat_body(model, "hello"), bearer(kBobKey));
    if (!r) {
      ADD_FAILURE() << "no answer: " << client->error() << "\n" << sluice.describe();
      return "";
    }
    if (r->status != 200) {
      ADD_FAILURE() << r->describe();
      return "";
    }
    return r->header("x-sluice-provider");
  }

  // Who served each of `n` requests, in order.
  std::vector<std::string> serve(const std::string& model, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n && !::testing::Test::HasFailure(); ++i) out.push_back(served_by(model));
    return out;
  }

  static int count(const std::vector<std::string>& served, const std::string& provider,
                   size_t from = 0) {
    int n = 0;
    for (size_t i = from; i < served.size(); ++i) n += served[i] == provider;
    return n;
  }

  static int64_t requests_total(MockProvider& mock) {
    auto stats = mock.stats();
    return stats ? (*stats)["requests_total"].as_int(-1) : -1;
  }

  MockProvider mock_a{mock_provider_binary()};
  MockProvider mock_b{mock_provider_binary()};
  SluiceServer sluice;
  std::unique_ptr<HttpClient> client;
};

TEST_F(LoadBalancingTest, WeightedOneToThreeSplitsFourHundredRequestsAbout100To300) {
  const int64_t a_before = requests_total(mock_a);
  const int64_t b_before = requests_total(mock_b);
  auto served = serve(kWeightedModel, 400);
  ASSERT_EQ(served.size(), 400u);

  const int64_t a_received = requests_total(mock_a) - a_before;
  const int64_t b_received = requests_total(mock_b) - b_before;
  EXPECT_NEAR(a_received, 100, 25);
  EXPECT_NEAR(b_received, 300, 25);
  // The header tells the client the same story the providers do.
  EXPECT_EQ(count(served, kProviderA), a_received);
  EXPECT_EQ(count(served, kProviderB), b_received);
  // Each provider got the physical model of its own target.
  EXPECT_NE(last_upstream_request(mock_a)["body"].str().find("weighted-a"), std::string::npos);
  EXPECT_NE(last_upstream_request(mock_b)["body"].str().find("weighted-b"), std::string::npos);
}

TEST_F(LoadBalancingTest, LatencyPrefersTheFasterProviderAndFollowsWhenTheySwap) {
  ASSERT_TRUE(mock_a.control(kSlow, -1));
  // Warm-up: both get measured (an unmeasured provider goes first), and the EWMA settles.
  serve(kLatencyModel, 20);
  auto served = serve(kLatencyModel, 100);
  ASSERT_EQ(served.size(), 100u);
  EXPECT_GE(count(served, kProviderB), 80) << "B answers 80 ms sooner than A";
  EXPECT_GT(count(served, kProviderA), 0) << "A is still re-measured now and then";

  // A recovers, B slows down. Traffic keeps going to B until an exploring request measures
  // A again (one request in 20) and B's own EWMA has risen past A's.
  ASSERT_TRUE(mock_a.reset());
  ASSERT_TRUE(mock_b.control(kSlow, -1));
  served = serve(kLatencyModel, 100);
  ASSERT_EQ(served.size(), 100u);
  size_t first_a = 0;
  while (first_a < served.size() && served[first_a] != kProviderA) ++first_a;
  EXPECT_LT(first_a, 40u) << "no request went back to A";
  EXPECT_GE(count(served, kProviderA, 50), 40) << "of the last 50 requests, most go to A";
}

}  // namespace
}  // namespace sluice::test
