// The circuit_breaker filter against real mock providers (issue 5 item 8: "breaker open →
// skipped → half-open probe → closed"). No retry filter in the chain, so every request makes
// at most one attempt and each step is visible from outside:
//  - the failing requests' errors reach the client;
//  - once a's circuit is open, the next request never reaches a (its /__requests count does
//    not move) and the model group's second target b serves it — or, with a as the only
//    target, the client gets 503 all_providers_unavailable naming "circuit open";
//  - after open_for one request probes a; its verdict closes or re-opens the circuit;
//  - sluice_circuit_state{provider="a"} on the admin port's /metrics says 2 while open, 0 after;
//  - max_concurrent: with the only target busy, a second request gets 503 with
//    `x-sluice-overloaded: true`.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// open_for is long enough that the few requests made while the circuit is open all fall inside
// it even on a loaded machine; the waits for it to pass are lower bounds (sleep at least).
constexpr auto kOpenFor = 2s;
constexpr auto kMaxOpenFor = 4s;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
    std::string y;
    y += "listen: 127.0.0.1:0\n";
    y += "admin: 127.0.0.1:0\n";
    y += "workers: 2\n";  // the circuit is per process, whichever worker takes a request
    y += "providers:\n";
    y += "  a:\n";
    y += "    type: openai\n";
    y += "    base_url: " + a.base_url() + "\n";
    y += "    api_key: sk-a\n";
    y += "    circuit_breaker: {consecutive_failures: 2, open_for: 2s, max_open_for: 4s}\n";
    y += "  b:\n";
    y += "    type: openai\n";
    y += "    base_url: " + b.base_url() + "\n";
    y += "    api_key: sk-b\n";
    y += "  capped:\n";  // b's mock again, under its own name and state
    y += "    type: openai\n";
    y += "    base_url: " + b.base_url() + "\n";
    y += "    api_key: sk-capped\n";
    y += "    circuit_breaker: {max_concurrent: 1}\n";
    y += "models:\n";
    y += "  duo:\n";
    y += "    strategy: priority\n";
    y += "    targets:\n";
    y += "      - {provider: a, model: a-model}\n";
    y += "      - {provider: b, model: b-model}\n";
    y += "  solo:\n";
    y += "    targets:\n";
    y += "      - {provider: a, model: a-model}\n";
    y += "  single:\n";
    y += "    targets:\n";
    y += "      - {provider: capped, model: capped-model}\n";
    y += "filters:\n";
    y += "  - model_alias: {}\n";
    y += "  - circuit_breaker: {}\n";
    y += "state: {ledger: \"\"}\n";
    y += "access_log: {path: \"\", format: json}\n";
    ASSERT_TRUE(sluice.start(sluice_binary(), y));
  }

  std::optional<HttpResponse> chat(const std::string& model) {
    HttpClient client = sluice.client();
    client.set_timeout(20s);
    auto r = client.post_json("/v1/chat/completions", chat_body(model, "hello"));
    EXPECT_TRUE(r) << "no answer from sluice: " << client.error() << "\n" << sluice.describe();
    return r;
  }

  static size_t count(MockProvider& mock) {
    auto all = mock.requests();
    return all ? all->size() : 0;
  }

  // The physical model of the last request `mock` received ("" if none).
  static std::string last_model(MockProvider& mock) {
    Json seen = last_upstream_request(mock);
    auto body = Json::parse(seen["body"].str());
    return body ? (*body)["model"].str() : "";
  }

  // The value of sluice_circuit_state{provider="<name>"} on /metrics ("" when absent).
  std::string circuit_gauge(const std::string& provider) {
    HttpClient admin = sluice.admin_client();
    auto r = admin.get("/metrics");
    if (!r || r->status != 200) return "<no /metrics>";
    const std::string prefix = "\nsluice_circuit_state{provider=\"" + provider + "\"} ";
    size_t at = r->body.find(prefix);
    if (at == std::string::npos) return "";
    at += prefix.size();
    return r->body.substr(at, r->body.find('\n', at) - at);
  }

  // circuit_gauge(provider) once it reads `want`, or its last reading after 5 s: the breaker
  // records an attempt's outcome as the attempt ends, which may be just after the client has
  // its answer.
  std::string circuit_gauge_settles_at(const std::string& provider, const std::string& want) {
    std::string seen;
    eventually([&] { return (seen = circuit_gauge(provider)) == want; }, 5s);
    return seen;
  }

  // Two requests whose attempt on a fails with a 500 that reaches the client: a's circuit opens.
  void open_a(const std::string& model = "duo") {
    ASSERT_TRUE(a.control("status:500", 2));
    for (int i = 0; i < 2; ++i) {
      auto r = chat(model);
      ASSERT_TRUE(r);
      EXPECT_TRUE(r->status == 500 || r->status == 502) << r->describe();
      EXPECT_TRUE(is_openai_error(r, r->status));
    }
    ASSERT_EQ(count(a), 2u);
    EXPECT_EQ(count(b), 0u) << "no retry filter: the failures were not retried elsewhere";
    EXPECT_EQ(circuit_gauge_settles_at("a", "2"), "2") << "open after 2 consecutive failures";
  }

  // The next duo request is served by b without touching a.
  void expect_served_by_b() {
    const size_t a_before = count(a), b_before = count(b);
    auto r = chat("duo");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(count(a), a_before) << "a's circuit is open: nothing may be sent to a";
    EXPECT_EQ(count(b), b_before + 1);
    EXPECT_EQ(last_model(b), "b-model");
  }

  // The next duo request goes to a and a answers it.
  void expect_served_by_a() {
    const size_t a_before = count(a), b_before = count(b);
    auto r = chat("duo");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(count(a), a_before + 1);
    EXPECT_EQ(count(b), b_before);
    EXPECT_EQ(last_model(a), "a-model");
  }

  MockProvider a{mock_provider_binary()};
  MockProvider b{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(CircuitBreakerTest, ClosedCircuitSendsEverythingToTheFirstTarget) {
  expect_served_by_a();
  expect_served_by_a();
  EXPECT_EQ(circuit_gauge_settles_at("a", "0"), "0");
}

TEST_F(CircuitBreakerTest, OpenCircuitIsSkippedThenAProbeClosesIt) {
  open_a();
  expect_served_by_b();
  expect_served_by_b();
  EXPECT_EQ(circuit_gauge_settles_at("a", "2"), "2");

  std::this_thread::sleep_for(kOpenFor + 200ms);
  // a works again: the next request is the probe, it reaches a and closes the circuit.
  expect_served_by_a();
  EXPECT_EQ(circuit_gauge_settles_at("a", "0"), "0");
  expect_served_by_a();
  expect_served_by_a();
}

TEST_F(CircuitBreakerTest, FailedProbeReopensTheCircuit) {
  open_a();
  std::this_thread::sleep_for(kOpenFor + 200ms);
  ASSERT_TRUE(a.control("status:503", 1));
  {
    auto r = chat("duo");  // the probe: a fails it, and (no retry) its error reaches the client
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->status == 503 || r->status == 502) << r->describe();
    EXPECT_EQ(count(a), 3u) << "the probe went to a";
    EXPECT_EQ(count(b), 0u);
  }
  EXPECT_EQ(circuit_gauge_settles_at("a", "2"), "2") << "re-opened";
  expect_served_by_b();

  // Re-opened for twice open_for (4 s, = max_open_for); then a probe again, which succeeds.
  std::this_thread::sleep_for(kMaxOpenFor + 200ms);
  expect_served_by_a();
  EXPECT_EQ(circuit_gauge_settles_at("a", "0"), "0");
  expect_served_by_a();
}

TEST_F(CircuitBreakerTest, OnlyTargetOpenIs503NamingTheCircuit) {
  open_a("solo");
  auto r = chat("solo");
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 503, "all_providers_unavailable"));
  auto body = r->json();
  ASSERT_TRUE(body) << r->describe();
  const std::string message = (*body)["error"]["message"].str();
  EXPECT_NE(message.find("a: skipped (circuit open)"), std::string::npos) << message;
  EXPECT_FALSE(r->has_header("x-sluice-overloaded")) << "an open circuit is not overload";
  EXPECT_EQ(count(a), 2u) << "nothing was sent to a";

  std::this_thread::sleep_for(kOpenFor + 200ms);
  auto probe = chat("solo");
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->status, 200) << probe->describe();
  EXPECT_EQ(count(a), 3u);
  EXPECT_EQ(circuit_gauge_settles_at("a", "0"), "0");
}

TEST_F(CircuitBreakerTest, ClientErrorsDoNotOpenTheCircuit) {
  // 400s are the request's fault, not the provider's: a stays in use.
  ASSERT_TRUE(a.control("status:400", 3));
  for (int i = 0; i < 3; ++i) {
    auto r = chat("duo");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->describe();
  }
  EXPECT_EQ(circuit_gauge("a"), "0");
  expect_served_by_a();
}

TEST_F(CircuitBreakerTest, AtMaxConcurrentTheOnlyTargetIs503Overloaded) {
  ASSERT_TRUE(b.control("slow:1000", 1));
  auto slow = std::async(std::launch::async, [this] { return chat("single"); });
  // Wait until the first request is at the provider (in flight), then send a second one.
  ASSERT_TRUE(eventually([&] { return count(b) == 1; }, 10s)) << "the slow request never arrived";
  auto r = chat("single");
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 503, "all_providers_unavailable"));
  EXPECT_EQ(r->header("x-sluice-overloaded"), "true") << r->describe();
  auto body = r->json();
  ASSERT_TRUE(body);
  const std::string message = (*body)["error"]["message"].str();
  EXPECT_NE(message.find("capped: skipped (at max_concurrent (1))"), std::string::npos) << message;
  EXPECT_EQ(count(b), 1u) << "the second request was not sent";

  auto first = slow.get();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200) << first->describe();
  // Capacity is back once the first attempt finished.
  auto after = chat("single");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200) << after->describe();
  EXPECT_EQ(circuit_gauge("capped"), "0") << "overload is not a failure";
}

}  // namespace
}  // namespace sluice::test
