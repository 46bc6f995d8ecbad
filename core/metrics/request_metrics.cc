#include "core/metrics/request_metrics.h"

#include <charconv>
#include <chrono>
#include <string>

namespace sluice::metrics {
namespace {

// "200" etc. into a caller's stack buffer: no allocation on the lookup path.
std::string_view status_text(int status, char (&buf)[16]) {
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, status);
  return std::string_view(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
}

bool is_provider_failure(const log::RequestRecord& r) {
  if (r.provider.empty()) return false;
  return r.status >= 500 || (r.status < 400 && !r.error_code.empty());
}

}  // namespace

RequestMetrics::RequestMetrics(Metrics& metrics, size_t cache_capacity)
    : metrics_(metrics),
      requests_(cache_capacity),
      latency_(cache_capacity),
      providers_(cache_capacity),
      fallbacks_(cache_capacity),
      spend_(cache_capacity),
      unpriced_(cache_capacity),
      tool_calls_(cache_capacity),
      tool_latency_(cache_capacity) {}

void RequestMetrics::count_fallback(std::string_view from, std::string_view to) {
  const LabelValues<2> labels{from, to};
  if (prometheus::Counter** hit = fallbacks_.find(labels)) {
    (*hit)->Increment();
    return;
  }
  prometheus::Counter& child =
      metrics_.fallbacks_total.Add({{"from", std::string(from)}, {"to", std::string(to)}});
  fallbacks_.insert(labels, &child);
  child.Increment();
}

void RequestMetrics::count_failed_attempt(std::string_view provider, std::string_view error) {
  ProviderCounters& counters = provider_counters(provider);
  counters.count_request();
  counters.count_failure(error, std::chrono::system_clock::now());
}

prometheus::Counter& RequestMetrics::requests_counter(std::string_view agent,
                                                      std::string_view model,
                                                      std::string_view provider, int status) {
  char buf[16];
  const LabelValues<4> labels{agent, model, provider, status_text(status, buf)};
  if (prometheus::Counter** hit = requests_.find(labels)) return **hit;
  // First sight (or cache full): the family lookup takes its mutex and builds a label map.
  prometheus::Counter& child = metrics_.requests_total.Add({{"agent", std::string(agent)},
                                                            {"model", std::string(model)},
                                                            {"provider", std::string(provider)},
                                                            {"status", std::string(labels[3])}});
  requests_.insert(labels, &child);
  return child;
}

RequestMetrics::LatencyChildren& RequestMetrics::latency_children(std::string_view model,
                                                                  std::string_view provider) {
  const LabelValues<2> labels{model, provider};
  if (LatencyChildren* hit = latency_.find(labels)) return *hit;
  const prometheus::Labels label_map{{"model", std::string(model)},
                                     {"provider", std::string(provider)}};
  LatencyChildren children{
      &metrics_.request_duration_seconds.Add(label_map, Metrics::request_duration_buckets()),
      &metrics_.time_to_first_token_seconds.Add(label_map, Metrics::time_to_first_token_buckets())};
  if (LatencyChildren* cached = latency_.insert(labels, children)) return *cached;
  uncached_latency_ = children;
  return uncached_latency_;
}

prometheus::Histogram& RequestMetrics::duration_histogram(std::string_view model,
                                                          std::string_view provider) {
  return *latency_children(model, provider).duration;
}

prometheus::Histogram& RequestMetrics::ttft_histogram(std::string_view model,
                                                      std::string_view provider) {
  return *latency_children(model, provider).ttft;
}

ProviderCounters& RequestMetrics::provider_counters(std::string_view provider) {
  const LabelValues<1> labels{provider};
  if (ProviderCounters** hit = providers_.find(labels)) return **hit;
  ProviderCounters* counters = metrics_.provider_stats().get(provider);
  providers_.insert(labels, counters);
  return *counters;
}

RequestMetrics::SpendChildren& RequestMetrics::spend_children(std::string_view agent,
                                                              std::string_view model) {
  const LabelValues<2> labels{agent, model};
  if (SpendChildren* hit = spend_.find(labels)) return *hit;
  const std::string a(agent), m(model);
  auto tokens = [&](const char* type) {
    return &metrics_.tokens_total.Add({{"agent", a}, {"model", m}, {"type", type}});
  };
  SpendChildren children{tokens("input"), tokens("output"), tokens("cached"),
                         &metrics_.cost_usd_total.Add({{"agent", a}, {"model", m}})};
  if (SpendChildren* cached = spend_.insert(labels, children)) return *cached;
  uncached_spend_ = children;
  return uncached_spend_;
}

void RequestMetrics::count_spend(const log::RequestRecord& r) {
  if (r.input_tokens != 0 || r.output_tokens != 0 || r.cost_usd > 0) {
    SpendChildren& spend = spend_children(r.agent, r.model);
    spend.input->Increment(static_cast<double>(r.input_tokens));
    spend.output->Increment(static_cast<double>(r.output_tokens));
    if (r.cached_tokens != 0) spend.cached->Increment(static_cast<double>(r.cached_tokens));
    if (r.cost_usd > 0) spend.cost->Increment(r.cost_usd);
  }
  if (r.unpriced) {
    const LabelValues<1> labels{r.physical_model};
    prometheus::Counter** hit = unpriced_.find(labels);
    if (hit == nullptr) {
      prometheus::Counter& child =
          metrics_.unpriced_requests_total.Add({{"model", std::string(r.physical_model)}});
      hit = unpriced_.insert(labels, &child);
      if (hit == nullptr) {
        child.Increment();
        return;
      }
    }
    (*hit)->Increment();
  }
}

void RequestMetrics::count_tool_call(std::string_view agent, std::string_view tool,
                                     std::string_view result, double seconds) {
  const LabelValues<3> labels{agent, tool, result};
  prometheus::Counter** counter = tool_calls_.find(labels);
  if (counter == nullptr) {
    prometheus::Counter& child = metrics_.tool_calls_total.Add({{"agent", std::string(agent)},
                                                                {"tool", std::string(tool)},
                                                                {"result", std::string(result)}});
    tool_calls_.insert(labels, &child);  // past the bound: uncached, counted all the same
    child.Increment();
  } else {
    (*counter)->Increment();
  }
  if (tool.empty() || seconds < 0) return;
  const LabelValues<1> tool_label{tool};
  prometheus::Histogram** latency = tool_latency_.find(tool_label);
  if (latency == nullptr) {
    prometheus::Histogram& child = metrics_.tool_call_duration_seconds.Add(
        {{"tool", std::string(tool)}}, Metrics::request_duration_buckets());
    tool_latency_.insert(tool_label, &child);
    child.Observe(seconds);
    return;
  }
  (*latency)->Observe(seconds);
}

void RequestMetrics::record(const log::RequestRecord& r) {
  if (!r.tool_outcome.empty()) count_tool_call(r.agent, r.tool, r.tool_outcome, r.duration);
  count_spend(r);
  requests_counter(r.agent, r.model, r.provider, r.status).Increment();

  LatencyChildren& latency = latency_children(r.model, r.provider);
  if (r.duration >= 0) latency.duration->Observe(r.duration);
  if (r.time_to_first_token >= 0) latency.ttft->Observe(r.time_to_first_token);
  if (r.overhead >= 0) metrics_.overhead_seconds.Observe(r.overhead);

  if (r.provider.empty()) return;
  ProviderCounters& provider = provider_counters(r.provider);
  provider.count_request();
  if (is_provider_failure(r)) {
    // Rare path: building the text may allocate, that is fine here.
    std::string error =
        r.error_code.empty() ? "HTTP " + std::to_string(r.status) : std::string(r.error_code);
    provider.count_failure(error, std::chrono::system_clock::now());
  } else {
    provider.count_success();
  }
}

}  // namespace sluice::metrics
