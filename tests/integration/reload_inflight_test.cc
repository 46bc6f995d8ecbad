// Hot reload, issue 4: atomic publish. A stream in flight finishes on the snapshot (and the
// upstream backend) it started with while new requests get the new config; a provider whose
// settings changed gets a fresh backend and its old one closes once its last request ended; an
// unchanged provider keeps its warm connection; and requests running while sluice reloads 20
// times in a row never fail.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

class ReloadInflightTest : public ::testing::Test {
 protected:
  void start(int workers) {
    ASSERT_TRUE(mock.ok());
    config.provider_base_url = mock.base_url();
    config.workers = workers;
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // Config variant: `fast` → `physical`, and the provider's injected header set to `tag`
  // (a provider settings change: its backend must be replaced, not reused).
  std::string variant(const std::string& physical, const std::string& tag) const {
    return replace_all(replace_all(config.to_yaml(), kFastPhysical, physical), kProviderHeaderValue,
                       tag);
  }

  std::optional<HttpResponse> post_reload() {
    return sluice.admin_client().request("POST", "/reload");
  }

  int64_t mock_stat(const char* key) {
    auto s = mock.stats();
    return s ? (*s)[key].as_int(-1) : -1;
  }

  MockProvider mock{mock_provider_binary()};
  GatewayConfig config;
  SluiceServer sluice;
};

TEST_F(ReloadInflightTest, StreamHeldAcrossAReloadFinishesOnItsOwnSnapshot) {
  start(1);
  // 8 content events 300 ms apart: about 2.4 s of stream around the reload.
  ASSERT_TRUE(mock.control("slow_chunks:300,chunks:8"));
  HttpClient streamer = sluice.client();
  streamer.set_timeout(20s);
  auto head = streamer.start_request("POST", "/v1/chat/completions",
                                     chat_body(kFastModel, "long story", true),
                                     {{"Authorization", std::string("Bearer ") + kAliceKey},
                                      {"Content-Type", "application/json"}});
  ASSERT_TRUE(head) << streamer.error() << "\n" << sluice.describe();
  ASSERT_EQ(head->status, 200) << head->describe();
  EXPECT_EQ(head->header("x-sluice-model"), kFastPhysical);
  std::vector<SseEvent> events;
  auto first = streamer.read_sse_event();
  ASSERT_TRUE(first) << streamer.error();
  events.push_back(*first);

  // The mock counts its own /__stats connection too: compare with this baseline (stats + the
  // stream's upstream connection).
  const int64_t open_before_reload = mock_stat("connections_open");

  // New mapping and new provider settings, while the stream runs.
  sluice.dir().write("sluice.yaml", variant("fast-new-target", "tag-after-reload"));
  auto r = post_reload();
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : sluice.describe());

  HttpClient other = sluice.client();
  auto fresh =
      other.post_json("/v1/chat/completions", chat_body(kFastModel, "new one"), bearer(kAliceKey));
  ASSERT_TRUE(fresh) << other.error();
  ASSERT_EQ(fresh->status, 200) << fresh->describe();
  EXPECT_EQ(fresh->header("x-sluice-model"), "fast-new-target");
  Json upstream = last_upstream_request(mock);
  EXPECT_EQ(upstream["headers"]["x-provider-tag"].str(), "tag-after-reload") << upstream.dump();
  EXPECT_NE(upstream.dump().find("fast-new-target"), std::string::npos) << upstream.dump();

  // The stream still runs, to its end, on the old snapshot and the old (retired) backend.
  while (auto ev = streamer.read_sse_event()) events.push_back(*ev);
  EXPECT_TRUE(streamer.body_complete()) << "the reload cut the stream: " << streamer.error()
                                        << " after " << events.size() << " events";
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(events.size(), 10u);  // 8 content events, the finish event, [DONE]

  // Two upstream connections existed (old backend, new backend). Once the stream ended and its
  // client connection closed (a downstream connection pins the snapshot it was accepted with),
  // the old snapshot has no user: within the 1 s retire tick the old backend closes its pool.
  streamer.close();
  EXPECT_TRUE(eventually([&] { return mock_stat("connections_open") == open_before_reload; }, 5s))
      << "old backend's upstream connection still open (baseline " << open_before_reload
      << "): " << mock.stats()->dump();
  // And the new one still serves.
  auto again =
      other.post_json("/v1/chat/completions", chat_body(kFastModel, "again"), bearer(kAliceKey));
  ASSERT_TRUE(again) << other.error();
  EXPECT_EQ(again->status, 200) << again->describe();
}

TEST_F(ReloadInflightTest, UnchangedProviderKeepsItsUpstreamConnectionAcrossReloads) {
  start(1);
  HttpClient c = sluice.client();
  auto r = c.post_json("/v1/chat/completions", chat_body(kFastModel, "one"), bearer(kAliceKey));
  ASSERT_TRUE(r && r->status == 200) << c.error();
  // connections_total counts the /__stats connections too: each stats call adds exactly one.
  const int64_t total_before = mock_stat("connections_total");
  for (int i = 0; i < 3; ++i) {
    // Only the model mapping changes: the provider's fingerprint is the same.
    sluice.dir().write("sluice.yaml", variant("fast-v" + std::to_string(i), kProviderHeaderValue));
    auto rr = post_reload();
    ASSERT_TRUE(rr && rr->status == 200) << (rr ? rr->describe() : sluice.describe());
    r = c.post_json("/v1/chat/completions", chat_body(kFastModel, "more"), bearer(kAliceKey));
    ASSERT_TRUE(r && r->status == 200) << c.error();
    EXPECT_EQ(r->header("x-sluice-model"), "fast-v" + std::to_string(i));
  }
  EXPECT_EQ(mock_stat("connections_total"), total_before + 1)
      << "an unchanged provider's backend was rebuilt by a reload: " << mock.stats()->dump();
}

TEST_F(ReloadInflightTest, TwentyReloadsUnderLoadFailNoRequest) {
  start(2);
  const std::string variants[2] = {variant("fast-variant-a", "tag-a"),
                                   variant("fast-variant-b", "tag-b")};
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, connection_errors{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  auto client_loop = [&](int id) {
    HttpClient c = sluice.client();
    c.set_timeout(5s);
    const bool streaming = id % 2 == 1;
    while (!stop.load()) {
      std::optional<HttpResponse> r;
      if (streaming) {
        StreamResult s = c.stream_post("/v1/chat/completions",
                                       chat_body(kFastModel, "load " + std::to_string(id), true),
                                       bearer(kBobKey));
        if (s.head && s.head->status == 200 && s.complete && !s.events.empty() &&
            s.events.back().data == "[DONE]") {
          ok.fetch_add(1);
          continue;
        }
        if (!s.head) connection_errors.fetch_add(1);
        failed.fetch_add(1);
        std::lock_guard<std::mutex> lock(failures_mutex);
        failures.push_back("stream: " + s.describe());
        continue;
      }
      r = c.post_json("/v1/chat/completions", chat_body(kFastModel, "load " + std::to_string(id)),
                      bearer(kBobKey));
      if (r && r->status == 200) {
        ok.fetch_add(1);
        continue;
      }
      if (!r) connection_errors.fetch_add(1);
      failed.fetch_add(1);
      std::lock_guard<std::mutex> lock(failures_mutex);
      failures.push_back(r ? r->describe() : "no response: " + c.error());
    }
  };
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i) clients.emplace_back(client_loop, i);

  const auto began = std::chrono::steady_clock::now();
  int reloads = 0;
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(100ms);
    sluice.dir().write("sluice.yaml", variants[i % 2]);
    auto r = post_reload();
    if (r && r->status == 200) ++reloads;
  }
  std::this_thread::sleep_for(200ms);
  stop.store(true);
  for (auto& t : clients) t.join();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - began);

  std::printf(
      "reload under load: %d requests ok, %d failed, %d connection errors, %d reloads "
      "in %lld ms\n",
      ok.load(), failed.load(), connection_errors.load(), reloads,
      static_cast<long long>(took.count()));
  EXPECT_EQ(reloads, 20) << sluice.describe();
  EXPECT_EQ(failed.load(), 0) << (failures.empty() ? "" : failures.front());
  EXPECT_EQ(connection_errors.load(), 0);
  EXPECT_GT(ok.load(), 20) << "the load was too light to show anything";
  // Every request was answered by one of the configs that were live.
  HttpClient c = sluice.client();
  auto last = c.post_json("/v1/chat/completions", chat_body(kFastModel, "x"), bearer(kBobKey));
  ASSERT_TRUE(last && last->status == 200);
  EXPECT_EQ(last->header("x-sluice-model"), "fast-variant-b");
  EXPECT_TRUE(sluice.running()) << sluice.describe();
}

}  // namespace
}  // namespace sluice::test
