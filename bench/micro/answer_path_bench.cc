// An answer's path through core, translated or passed through, in-process (issue 12: "a
// translated stream must not cost more than 2x the CPU of the same stream passed through"):
//
//   Passthrough  the OpenAI answer as sluice-default relays it: the usage scanner (DESIGN §8),
//                stripping the usage chunk sluice asked for (the client did not).
//   Translated_NoScan  the same answer from Anthropic as sluice-anthropic relays it: the
//                EventSplitter cuts the reads into events and the anthropic plugin's translator
//                (its library, sluice_anthropic_translate, without the plugin's C ABI) turns each
//                into chunks; the session does not scan chunks whose usage the translator
//                reported (Anthropic's always is, from message_start).
//   Translated   that + the usage scanner over the chunks: what a translation that reports no
//                usage costs (and what every translated answer cost before the session
//                trusted the translator's usage).
// A stream is 50 text deltas, one event per read, with a fresh translator per stream (as per
// attempt); a JSON answer is ~1.3 KiB of text. The translators alone are in
// anthropic_translate_bench.cc, the splitter alone in event_splitter_bench.cc.
// Counters: per_event — CPU time per upstream event (SI prefix: "850n" is 850 ns).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "anthropic/messages_to_chat_response.h"
#include "anthropic/messages_to_chat_stream.h"
#include "bench/micro/sample_streams.h"
#include "core/providers/event_splitter.h"
#include "core/usage/usage_scanner.h"

namespace sluice::bench {
namespace {

using providers::EventSplitter;
using providers::StreamFraming;
using usage::UsageScanner;

constexpr int kDeltas = 50;
constexpr int64_t kCreated = 1700000000;

size_t total_bytes(const std::vector<std::string>& reads) {
  size_t n = 0;
  for (const auto& r : reads) n += r.size();
  return n;
}

void per_event_counter(benchmark::State& state, size_t events) {
  state.counters["per_event"] = benchmark::Counter(
      static_cast<double>(events),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_AnswerPath_Stream_Passthrough(benchmark::State& state) {
  const std::vector<std::string> reads = openai_sse_stream(kDeltas);
  per_event_counter(state, reads.size());
  UsageScanner scanner;
  for (auto _ : state) {
    scanner.begin(UsageScanner::Kind::EventStream, /*strip=*/true);
    size_t forwarded = 0;
    for (const auto& r : reads) {
      for (const auto& piece : scanner.feed(r)) forwarded += piece.size;
    }
    for (const auto& piece : scanner.flush()) forwarded += piece.size;
    if (scanner.finish().source != usage::Usage::Source::Reported) {
      state.SkipWithError("usage not found");
    }
    benchmark::DoNotOptimize(forwarded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total_bytes(reads)));
}

void translated_stream(benchmark::State& state, bool scan) {
  const std::vector<std::string> reads = anthropic_sse_stream(kDeltas);
  per_event_counter(state, reads.size());
  EventSplitter splitter;
  UsageScanner scanner;
  std::string out;
  for (auto _ : state) {
    anthropic::MessagesToChatStream translator(kCreated);  // one per attempt
    splitter.reset(StreamFraming::Sse);
    if (scan) scanner.begin(UsageScanner::Kind::EventStream, /*strip=*/false);
    const EventSplitter::Sink sink = [&](std::string_view name, std::string_view data) {
      return translator.on_event(name, data, out).is_ok();
    };
    size_t forwarded = 0;
    const auto relay = [&] {  // what one read became goes on to the client
      if (scan) {
        for (const auto& piece : scanner.feed(out)) forwarded += piece.size;
      } else {
        forwarded += out.size();
      }
      out.clear();
    };
    for (const auto& r : reads) {
      if (!splitter.feed(r, sink)) state.SkipWithError("stream translation failed");
      relay();
    }
    if (!translator.on_end(/*include_usage=*/false, out).is_ok()) {
      state.SkipWithError("stream end failed");
    }
    relay();
    if (scan) {
      for (const auto& piece : scanner.flush()) forwarded += piece.size;
      benchmark::DoNotOptimize(scanner.finish());
    }
    if (!translator.usage().reported) state.SkipWithError("no usage reported");
    benchmark::DoNotOptimize(forwarded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total_bytes(reads)));
}

void BM_AnswerPath_Stream_Translated(benchmark::State& state) {
  translated_stream(state, true);
}
void BM_AnswerPath_Stream_Translated_NoScan(benchmark::State& state) {
  translated_stream(state, false);
}

void BM_AnswerPath_Json_Passthrough(benchmark::State& state) {
  const std::string body = openai_completion_json();
  UsageScanner scanner;
  for (auto _ : state) {
    scanner.begin(UsageScanner::Kind::Json, /*strip=*/false);
    size_t forwarded = 0;
    for (const auto& piece : scanner.feed(body)) forwarded += piece.size;
    for (const auto& piece : scanner.flush()) forwarded += piece.size;
    if (scanner.finish().source != usage::Usage::Source::Reported) {
      state.SkipWithError("usage not found");
    }
    benchmark::DoNotOptimize(forwarded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

void json_translated(benchmark::State& state, bool scan) {
  const std::string body = anthropic_message_json();
  UsageScanner scanner;
  for (auto _ : state) {
    anthropic::TranslatedResponse out;
    if (!anthropic::messages_response_to_chat(200, body, kCreated, out).is_ok() ||
        !out.usage.reported) {
      state.SkipWithError("response translation failed");
    }
    size_t forwarded = out.body.size();
    if (scan) {
      scanner.begin(UsageScanner::Kind::Json, /*strip=*/false);
      forwarded = 0;
      for (const auto& piece : scanner.feed(out.body)) forwarded += piece.size;
      for (const auto& piece : scanner.flush()) forwarded += piece.size;
      benchmark::DoNotOptimize(scanner.finish());
    }
    benchmark::DoNotOptimize(forwarded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

void BM_AnswerPath_Json_Translated(benchmark::State& state) {
  json_translated(state, true);
}
void BM_AnswerPath_Json_Translated_NoScan(benchmark::State& state) {
  json_translated(state, false);
}

}  // namespace

BENCHMARK(BM_AnswerPath_Stream_Passthrough);
BENCHMARK(BM_AnswerPath_Stream_Translated);
BENCHMARK(BM_AnswerPath_Stream_Translated_NoScan);
BENCHMARK(BM_AnswerPath_Json_Passthrough);
BENCHMARK(BM_AnswerPath_Json_Translated);
BENCHMARK(BM_AnswerPath_Json_Translated_NoScan);

}  // namespace sluice::bench
