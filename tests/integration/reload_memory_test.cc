// Reload without a trace (issue 14 item 5; DESIGN §2): a generation's memory is released once
// no request pins its snapshot. sluice runs the default chain on two workers (the bug this
// guards against only showed with more than one: each worker's retired copy of a snapshot
// counted the other's, so no generation was ever freed) against the in-process mock provider.
// What a user sees: RSS (VmRSS of the process) back within a small bound after hundreds of
// reloads, and /status + sluice_config_generations_alive saying how many generations are held.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAgentKey = "sk-reload-memory-agent";

class ReloadMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string y;
    y += "listen: 127.0.0.1:0\n";
    y += "admin: 127.0.0.1:0\n";
    y += "workers: 2\n";
    y += "providers:\n";
    y += "  demo: {type: mock}\n";
    y += "  slow: {type: mock, mock: {latency: 3s}}\n";
    y += "models:\n";
    y += "  fast: {strategy: priority, targets: [{provider: demo, model: mock-fast}]}\n";
    y += "  slow: {targets: [{provider: slow, model: mock-slow}]}\n";
    y += "agents:\n";
    y += "  demo:\n";
    y += "    keys: [\"" + std::string(kAgentKey) + "\"]\n";
    y += "    limits: {rpm: 100000, tpm: 100000000, concurrent: 32}\n";
    y += "    budget: {usd: 1000, per: day}\n";
    y += "filters:\n";
    y += "  - auth: {modes: [api_key]}\n";
    y += "  - rate_limit: {}\n";
    y += "  - model_alias: {}\n";
    y += "  - cost: {prices: {mock-fast: {input: 0.15, output: 0.6}, mock-slow: {input: 1, "
         "output: 2}}}\n";
    y += "  - circuit_breaker: {}\n";
    y += "  - retry: {attempts: 3, fallback: true}\n";
    y += "state: {ledger: " + json_quote(data.file("ledger.db")) + "}\n";
    y += "access_log: {path: \"\"}\n";
    // Under ASan (scripts/test.sh runs these against the sanitizer build) freed memory sits in
    // a quarantine of up to 256 MiB before it is reused, which RSS would count as growth: turn
    // it off (keeping whatever else the caller asked of ASan). Ignored by a normal build.
    const char* asan = std::getenv("ASAN_OPTIONS");
    std::string asan_options = asan != nullptr && asan[0] != '\0' ? std::string(asan) + ":" : "";
    asan_options += "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
    ASSERT_TRUE(sluice.start(sluice_binary(), y, {{"ASAN_OPTIONS", asan_options}}));
  }

  bool reload() {
    auto r = sluice.admin_client().request("POST", "/reload");
    return r && r->status == 200;
  }

  int64_t generations_alive() {
    auto r = sluice.admin_client().get("/status");
    if (!r || r->status != 200) return -1;
    auto j = r->json();
    return j && j->contains("generations_alive") ? (*j)["generations_alive"].as_int() : -1;
  }

  int64_t generation() {
    auto r = sluice.admin_client().get("/status");
    auto j = r ? r->json() : std::nullopt;
    return j ? (*j)["generation"].as_int() : -1;
  }

  // Resident memory of the sluice process, in KiB (VmRSS of /proc/<pid>/status).
  int64_t rss_kib() {
    std::ifstream in("/proc/" + std::to_string(sluice.process().pid()) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    }
    return -1;
  }

  std::optional<HttpResponse> chat(const std::string& model) {
    HttpClient client = sluice.client();
    client.set_timeout(10s);
    return client.post_json("/v1/chat/completions", chat_body(model, "hello"), bearer(kAgentKey));
  }

  // `count` reloads, with a request every tenth so every generation serves some traffic.
  void reload_times(int count) {
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE(reload()) << "reload " << i << "\n" << sluice.describe();
      if (i % 10 == 0) {
        auto r = chat("fast");
        ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : "no answer");
      }
    }
  }

  TempDir data;
  SluiceServer sluice;
};

TEST_F(ReloadMemoryTest, FiveHundredReloadsGiveTheirMemoryBack) {
  ASSERT_EQ(generations_alive(), 1);
  // Warm-up: allocator arenas, metric children, pools and caches reach their working size.
  reload_times(50);
  ASSERT_TRUE(eventually([&] { return generations_alive() == 1; }, 5s))
      << "generations still held after the warm-up: " << generations_alive();
  const int64_t base = rss_kib();
  ASSERT_GT(base, 0);

  reload_times(450);
  EXPECT_EQ(generation(), 501);
  EXPECT_TRUE(eventually([&] { return generations_alive() == 1; }, 5s))
      << "generations still held after 500 reloads: " << generations_alive();
  const int64_t after = rss_kib();
  std::cout << "[ figures  ] RSS after 50 reloads " << base << " KiB, after 500 " << after
            << " KiB\n";
  EXPECT_LT(after - base, 2048) << "RSS grew from " << base << " KiB to " << after
                                << " KiB over 450 reloads";
  auto metrics = sluice.admin_client().get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\nsluice_config_generations_alive 1\n"), std::string::npos)
      << metrics->body.substr(0, 2000);
}

// An in-flight request keeps its own generation (and only it) alive; when it ends, that
// generation goes too.
TEST_F(ReloadMemoryTest, AnInFlightRequestPinsItsGenerationUntilItEnds) {
  std::optional<HttpResponse> slow;
  std::thread in_flight([&] { slow = chat("slow"); });  // the provider takes 3 s
  ASSERT_TRUE(eventually(
      [&] {
        auto m = sluice.admin_client().get("/metrics");
        return m && m->body.find("\nsluice_active_requests 1\n") != std::string::npos;
      },
      5s));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reload());
  // Generations 2 and 3 served nothing and go at the workers' next retire tick; generation 1
  // stays for the slow request, beside the serving generation 4.
  EXPECT_TRUE(eventually([&] { return generations_alive() == 2; }, 2500ms))
      << "alive: " << generations_alive();
  in_flight.join();
  ASSERT_TRUE(slow && slow->status == 200) << (slow ? slow->describe() : "no answer");
  EXPECT_TRUE(eventually([&] { return generations_alive() == 1; }, 5s))
      << "the request ended but its generation is still held: " << generations_alive();
}

}  // namespace
}  // namespace sluice::test
