// EventSplitter (core/providers/event_splitter.h): what cutting a provider's stream into events
// costs core on a translated attempt, before any translator runs — per event, for Anthropic's
// SSE (event: + data: lines), OpenAI's (data: only) and Ollama's NDJSON, fed one event per read
// (each provider flushes per token), in one read (a burst), and with every event cut in two
// reads (the splitter then carries the line over). The sink only counts, so this is the
// splitter alone (and its std::function call per event).
// Counters: per_event — CPU time per event (SI prefix: "85n" is 85 ns); events — per stream.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/micro/sample_streams.h"
#include "core/providers/event_splitter.h"

namespace sluice::bench {
namespace {

using providers::EventSplitter;
using providers::StreamFraming;

constexpr int kDeltas = 50;

size_t count_events(StreamFraming framing, const std::vector<std::string>& reads) {
  EventSplitter s;
  s.reset(framing);
  size_t n = 0;
  const EventSplitter::Sink sink = [&n](std::string_view, std::string_view) {
    ++n;
    return true;
  };
  for (const auto& r : reads) s.feed(r, sink);
  s.finish(sink);
  return n;
}

void split(benchmark::State& state, StreamFraming framing, const std::vector<std::string>& reads) {
  size_t bytes = 0;
  for (const auto& r : reads) bytes += r.size();
  const size_t events = count_events(framing, reads);
  state.counters["events"] = static_cast<double>(events);
  state.counters["per_event"] = benchmark::Counter(
      static_cast<double>(events),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  EventSplitter splitter;
  size_t seen = 0;
  const EventSplitter::Sink sink = [&seen](std::string_view name, std::string_view data) {
    seen += name.size() + data.size();
    return true;
  };
  for (auto _ : state) {
    splitter.reset(framing);
    for (const auto& r : reads) {
      if (!splitter.feed(r, sink)) state.SkipWithError("feed failed");
    }
    if (!splitter.finish(sink)) state.SkipWithError("finish failed");
    benchmark::DoNotOptimize(seen);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_EventSplit_AnthropicSse(benchmark::State& state) {
  split(state, StreamFraming::Sse, anthropic_sse_stream(kDeltas));
}
void BM_EventSplit_AnthropicSse_OneRead(benchmark::State& state) {
  split(state, StreamFraming::Sse, in_one_read(anthropic_sse_stream(kDeltas)));
}
void BM_EventSplit_AnthropicSse_EventsSplit(benchmark::State& state) {
  split(state, StreamFraming::Sse, halved(anthropic_sse_stream(kDeltas)));
}
void BM_EventSplit_OpenAISse(benchmark::State& state) {
  split(state, StreamFraming::Sse, openai_sse_stream(kDeltas));
}
void BM_EventSplit_OllamaNdjson(benchmark::State& state) {
  split(state, StreamFraming::Ndjson, ollama_ndjson_stream(kDeltas));
}

}  // namespace

BENCHMARK(BM_EventSplit_AnthropicSse);
BENCHMARK(BM_EventSplit_AnthropicSse_OneRead);
BENCHMARK(BM_EventSplit_AnthropicSse_EventsSplit);
BENCHMARK(BM_EventSplit_OpenAISse);
BENCHMARK(BM_EventSplit_OllamaNdjson);

}  // namespace sluice::bench
