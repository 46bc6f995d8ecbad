// RequestMetrics: what one worker uses to count finished requests. One per worker loop, used
// only from that loop's thread (it is not thread-safe; the prometheus children it points to
// are). Label children are looked up once and cached (DESIGN §7): in steady state record() is
// a few hash lookups with no allocation and no prometheus family mutex.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <cstddef>
#include <string_view>

#include "core/log/request_record.h"
#include "core/metrics/label_cache.h"
#include "core/metrics/metrics.h"
#include "core/metrics/provider_stats.h"

namespace sluice::metrics {

class RequestMetrics {
 public:
  // Entries per cache; label sets beyond it are still counted, through the family (slower).
  static constexpr size_t kDefaultCacheCapacity = 10'000;

  explicit RequestMetrics(Metrics& metrics, size_t cache_capacity = kDefaultCacheCapacity);

  // One finished request: sluice_requests_total, the duration / time-to-first-token / overhead
  // histograms, the provider's /status counters, and what it used and cost:
  // sluice_tokens_total{agent,model,type} and sluice_cost_usd_total{agent,model} (model = the
  // logical model, as in sluice_requests_total; type cached counts the part of input read from
  // the provider's cache), sluice_unpriced_requests_total{model = the physical model}. A request
  // counts as a provider failure when a provider was contacted and either the status is >= 500, or
  // the status is < 400 but error_code is set (a stream that broke after its first byte).
  void record(const log::RequestRecord& r);

  // sluice_active_requests: +1 when a request arrives, -1 at its on_complete.
  void active_inc() { metrics_.active_requests.Increment(); }
  void active_dec() { metrics_.active_requests.Decrement(); }

  // The children a label set resolves to (cached after the first call). Exposed for tests and
  // for callers that count outside record().
  prometheus::Counter& requests_counter(std::string_view agent, std::string_view model,
                                        std::string_view provider, int status);
  prometheus::Histogram& duration_histogram(std::string_view model, std::string_view provider);
  prometheus::Histogram& ttft_histogram(std::string_view model, std::string_view provider);
  ProviderCounters& provider_counters(std::string_view provider);

  // sluice_fallbacks_total{from,to}: the request moved from provider `from` to provider `to`.
  void count_fallback(std::string_view from, std::string_view to);
  // A failed attempt that was retried or fell back (the request's final attempt is counted by
  // record()): the provider's /status counters see every attempt once.
  void count_failed_attempt(std::string_view provider, std::string_view error);

  size_t cached_request_label_sets() const { return requests_.size(); }

  // A tool endpoint's call (record() calls it when r.tool_outcome is set):
  // sluice_tool_calls_total{agent,tool,result} and sluice_tool_call_duration_seconds{tool}.
  // tool is "" for a name no tool has (a client cannot mint label values).
  void count_tool_call(std::string_view agent, std::string_view tool, std::string_view result,
                       double seconds);

 private:
  struct LatencyChildren {
    prometheus::Histogram* duration;
    prometheus::Histogram* ttft;
  };
  LatencyChildren& latency_children(std::string_view model, std::string_view provider);
  struct SpendChildren {
    prometheus::Counter* input;
    prometheus::Counter* output;
    prometheus::Counter* cached;
    prometheus::Counter* cost;
  };
  SpendChildren& spend_children(std::string_view agent, std::string_view model);
  void count_spend(const log::RequestRecord& r);

  Metrics& metrics_;
  LabelCache<4, prometheus::Counter*> requests_;        // agent, model, provider, status
  LabelCache<2, LatencyChildren> latency_;              // model, provider
  LabelCache<1, ProviderCounters*> providers_;          // provider
  LabelCache<2, prometheus::Counter*> fallbacks_;       // from, to
  LabelCache<2, SpendChildren> spend_;                  // agent, model
  LabelCache<1, prometheus::Counter*> unpriced_;        // physical model
  LabelCache<3, prometheus::Counter*> tool_calls_;      // agent, tool, result
  LabelCache<1, prometheus::Histogram*> tool_latency_;  // tool
  LatencyChildren uncached_latency_{};  // scratch for label sets past the cache bound
  SpendChildren uncached_spend_{};
};

}  // namespace sluice::metrics
