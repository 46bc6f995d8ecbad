// Metrics: what GET /metrics shows after requests are recorded, and that label children are
// resolved once and reused (DESIGN §7).
#include <gtest/gtest.h>

#include <string>

#include "core/log/request_record.h"
#include "core/metrics/metrics.h"
#include "core/metrics/provider_stats.h"
#include "core/metrics/request_metrics.h"

namespace sluice::metrics {
namespace {

log::RequestRecord chat_record(int status = 200) {
  log::RequestRecord r;
  r.time = std::chrono::system_clock::now();
  r.request_id = "req-1";
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.agent = "sofia";
  r.model = "fast";
  r.provider = "local";
  r.physical_model = "qwen3:8b";
  r.status = status;
  r.duration = 0.2;
  r.upstream = 0.19;
  r.time_to_first_token = 0.05;
  r.overhead = 30e-6;
  return r;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, EveryFamilyOfTheDesignHasItsExactName) {
  Metrics m;
  EXPECT_EQ(m.requests_total.GetName(), "sluice_requests_total");
  EXPECT_EQ(m.request_duration_seconds.GetName(), "sluice_request_duration_seconds");
  EXPECT_EQ(m.time_to_first_token_seconds.GetName(), "sluice_time_to_first_token_seconds");
  EXPECT_EQ(m.overhead_seconds_family.GetName(), "sluice_overhead_seconds");
  EXPECT_EQ(m.active_requests_family.GetName(), "sluice_active_requests");
  EXPECT_EQ(m.tokens_total.GetName(), "sluice_tokens_total");
  EXPECT_EQ(m.cost_usd_total.GetName(), "sluice_cost_usd_total");
  EXPECT_EQ(m.rate_limited_total.GetName(), "sluice_rate_limited_total");
  EXPECT_EQ(m.retries_total.GetName(), "sluice_retries_total");
  EXPECT_EQ(m.fallbacks_total.GetName(), "sluice_fallbacks_total");
  EXPECT_EQ(m.circuit_state.GetName(), "sluice_circuit_state");
  EXPECT_EQ(m.provider_up.GetName(), "sluice_provider_up");
  EXPECT_EQ(m.config_reloads_total.GetName(), "sluice_config_reloads_total");
  EXPECT_EQ(m.tool_calls_total.GetName(), "sluice_tool_calls_total");
}

TEST(Metrics, UnlabelledSeriesAreExposedFromTheStart) {
  // Labelled families appear once a label set is used (prometheus-cpp exposes no empty
  // family); the series without labels are there before the first request.
  Metrics m;
  const std::string text = m.serialize();
  EXPECT_TRUE(has_line(text, "# TYPE sluice_active_requests gauge"));
  EXPECT_TRUE(has_line(text, "sluice_active_requests 0"));
  EXPECT_TRUE(has_line(text, "# TYPE sluice_overhead_seconds histogram"));
  EXPECT_TRUE(has_line(text, "sluice_overhead_seconds_count 0"));
  EXPECT_TRUE(has_line(text, R"(sluice_config_reloads_total{result="success"} 0)"));
  EXPECT_TRUE(has_line(text, R"(sluice_config_reloads_total{result="failure"} 0)"));
}

TEST(Metrics, RecordedRequestShowsUpWithItsLabels) {
  Metrics m;
  RequestMetrics rm(m);
  rm.record(chat_record());
  rm.record(chat_record());
  const std::string text = m.serialize();
  EXPECT_TRUE(has_line(text, "# TYPE sluice_requests_total counter"));
  EXPECT_TRUE(has_line(text, "# TYPE sluice_request_duration_seconds histogram"));
  EXPECT_TRUE(has_line(
      text, R"(sluice_requests_total{agent="sofia",model="fast",provider="local",status="200"} 2)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(sluice_request_duration_seconds_count{model="fast",provider="local"} 2)"));
  EXPECT_TRUE(
      has_line(text, R"(sluice_request_duration_seconds_sum{model="fast",provider="local"} 0.4)"));
  // 0.2s falls in the 0.25 bucket, not in 0.1.
  EXPECT_TRUE(has_line(
      text, R"(sluice_request_duration_seconds_bucket{model="fast",provider="local",le="0.1"} 0)"));
  EXPECT_TRUE(has_line(
      text,
      R"(sluice_request_duration_seconds_bucket{model="fast",provider="local",le="0.25"} 2)"));
  EXPECT_TRUE(has_line(
      text, R"(sluice_time_to_first_token_seconds_count{model="fast",provider="local"} 2)"));
  EXPECT_TRUE(has_line(text, "sluice_overhead_seconds_count 2"));
}

TEST(Metrics, OverheadBucketsResolveMicroseconds) {
  Metrics m;
  RequestMetrics rm(m);
  log::RequestRecord r = chat_record();
  r.overhead = 7e-6;  // between the 5µs and 10µs bounds
  rm.record(r);
  const std::string text = m.serialize();
  const auto bounds = Metrics::overhead_buckets();
  ASSERT_EQ(bounds.front(), 5e-6);
  ASSERT_EQ(bounds.back(), 0.1);
  EXPECT_NE(text.find("sluice_overhead_seconds_bucket{le=\"5e-06\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_overhead_seconds_bucket{le=\"1e-05\"} 1"), std::string::npos);
}

TEST(Metrics, TimeToFirstTokenIsNotObservedWhenThereWasNone) {
  Metrics m;
  RequestMetrics rm(m);
  log::RequestRecord r = chat_record(401);
  r.provider = "";
  r.time_to_first_token = -1;
  r.upstream = -1;
  rm.record(r);
  const std::string text = m.serialize();
  EXPECT_TRUE(has_line(
      text, R"(sluice_requests_total{agent="sofia",model="fast",provider="",status="401"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(sluice_time_to_first_token_seconds_count{model="fast",provider=""} 0)"));
  EXPECT_TRUE(
      has_line(text, R"(sluice_request_duration_seconds_count{model="fast",provider=""} 1)"));
}

TEST(Metrics, LabelChildrenAreCachedAndReused) {
  Metrics m;
  RequestMetrics rm(m);
  prometheus::Counter& a = rm.requests_counter("sofia", "fast", "local", 200);
  prometheus::Counter& b = rm.requests_counter("sofia", "fast", "local", 200);
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(rm.cached_request_label_sets(), 1u);
  prometheus::Counter& c = rm.requests_counter("sofia", "fast", "local", 500);
  EXPECT_NE(&a, &c);
  EXPECT_EQ(rm.cached_request_label_sets(), 2u);
  // The cached child is the family's child: a second worker resolves to the same counter.
  RequestMetrics other_worker(m);
  EXPECT_EQ(&other_worker.requests_counter("sofia", "fast", "local", 200), &a);
  EXPECT_EQ(&rm.duration_histogram("fast", "local"), &rm.duration_histogram("fast", "local"));
  EXPECT_EQ(&rm.provider_counters("local"), m.provider_stats().get("local"));
}

// Each cache tries the label set it found last before hashing: alternating label sets, ones that
// differ in a single label, and ones whose values only split differently must each still be
// counted in their own series.
TEST(Metrics, AlternatingLabelSetsAreEachCountedInTheirOwnSeries) {
  Metrics m;
  RequestMetrics rm(m);
  auto with = [](std::string_view agent, std::string_view model, int status) {
    log::RequestRecord r = chat_record(status);
    r.agent = agent;
    r.model = model;
    return r;
  };
  for (int i = 0; i < 3; ++i) {
    rm.record(with("sofia", "fast", 200));
    rm.record(with("sofia", "fast", 500));
    rm.record(with("sofi", "afast", 200));
    rm.record(with("sofia", "fast", 200));
  }
  const std::string text = m.serialize();
  EXPECT_TRUE(has_line(
      text, R"(sluice_requests_total{agent="sofia",model="fast",provider="local",status="200"} 6)"))
      << text;
  EXPECT_TRUE(has_line(
      text,
      R"(sluice_requests_total{agent="sofia",model="fast",provider="local",status="500"} 3)"));
  EXPECT_TRUE(has_line(
      text,
      R"(sluice_requests_total{agent="sofi",model="afast",provider="local",status="200"} 3)"));
  EXPECT_TRUE(
      has_line(text, R"(sluice_request_duration_seconds_count{model="fast",provider="local"} 9)"));
  EXPECT_TRUE(
      has_line(text, R"(sluice_request_duration_seconds_count{model="afast",provider="local"} 3)"));
  EXPECT_EQ(rm.cached_request_label_sets(), 3u);
}

TEST(Metrics, LabelSetsBeyondTheCacheBoundAreStillCounted) {
  Metrics m;
  RequestMetrics rm(m, /*cache_capacity=*/2);
  for (int status : {200, 400, 404, 500, 502, 502}) rm.record(chat_record(status));
  EXPECT_EQ(rm.cached_request_label_sets(), 2u);
  const std::string text = m.serialize();
  EXPECT_TRUE(has_line(
      text,
      R"(sluice_requests_total{agent="sofia",model="fast",provider="local",status="404"} 1)"));
  EXPECT_TRUE(has_line(
      text,
      R"(sluice_requests_total{agent="sofia",model="fast",provider="local",status="502"} 2)"));
}

TEST(Metrics, ActiveRequestsGoesUpAndDown) {
  Metrics m;
  RequestMetrics rm(m);
  rm.active_inc();
  rm.active_inc();
  rm.active_dec();
  EXPECT_TRUE(has_line(m.serialize(), "sluice_active_requests 1"));
}

TEST(Metrics, ConfigReloadsAreCountedByResult) {
  Metrics m;
  m.record_config_reload(true);
  m.record_config_reload(false);
  m.record_config_reload(true);
  const std::string text = m.serialize();
  EXPECT_TRUE(has_line(text, R"(sluice_config_reloads_total{result="success"} 2)"));
  EXPECT_TRUE(has_line(text, R"(sluice_config_reloads_total{result="failure"} 1)"));
}

TEST(ProviderStats, RequestsAndFailuresPerProvider) {
  Metrics m;
  RequestMetrics rm(m);
  rm.record(chat_record(200));
  log::RequestRecord failed = chat_record(504);
  failed.error_code = "upstream_timeout";
  rm.record(failed);
  log::RequestRecord broken_stream = chat_record(200);
  broken_stream.error_code = "upstream_error";  // cut after the first byte
  rm.record(broken_stream);
  log::RequestRecord refused = chat_record(429);  // sluice's own limit: not the provider's fault
  refused.error_code = "rate_limit_exceeded";
  rm.record(refused);

  const ProviderCounters* local = m.provider_stats().find("local");
  ASSERT_NE(local, nullptr);
  const ProviderCountersView v = local->view();
  EXPECT_EQ(v.requests, 4u);
  EXPECT_EQ(v.failures, 2u);
  EXPECT_EQ(v.last_error, "upstream_error");
  EXPECT_TRUE(v.last_error_at.has_value());
  EXPECT_EQ(m.provider_stats().find("openai"), nullptr);
}

TEST(ProviderStats, FailureWithoutCodeIsDescribedByItsStatus) {
  Metrics m;
  RequestMetrics rm(m);
  rm.record(chat_record(502));
  EXPECT_EQ(m.provider_stats().find("local")->view().last_error, "HTTP 502");
}

TEST(ProviderStats, NoProviderContactedCountsNothing) {
  Metrics m;
  RequestMetrics rm(m);
  log::RequestRecord r = chat_record(503);
  r.provider = "";
  rm.record(r);
  EXPECT_EQ(m.provider_stats().find(""), nullptr);
}

}  // namespace
}  // namespace sluice::metrics
