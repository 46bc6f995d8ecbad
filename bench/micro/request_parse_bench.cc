// The downstream request head + body through RequestParser (strict llhttp + sluice's own limit
// and line-ending checks), as one read and as a slow client's many small reads.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/micro/sample_requests.h"
#include "core/http/request.h"
#include "core/http/request_parser.h"

namespace sluice::bench {
namespace {

std::string whole_request(const std::string& body) {
  return sdk_request_head(body.size()) + body;
}

void parse_in_pieces(benchmark::State& state, const std::string& wire, size_t piece) {
  http::ParserLimits limits;
  http::HttpRequest request;
  http::RequestParser parser(limits, &request);
  for (auto _ : state) {
    size_t used = 0;
    http::RequestParser::State s = http::RequestParser::State::NeedMore;
    while (used < wire.size() && s == http::RequestParser::State::NeedMore) {
      size_t n = std::min(piece, wire.size() - used);
      auto r = parser.feed(wire.data() + used, n);
      used += r.consumed;
      s = r.state;
    }
    if (s != http::RequestParser::State::Complete) state.SkipWithError("request not complete");
    benchmark::DoNotOptimize(request.header("authorization"));
    parser.next_message();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}

void BM_RequestParse_Small(benchmark::State& state) {
  parse_in_pieces(state, whole_request(small_body()), SIZE_MAX);
}
void BM_RequestParse_Agent4KiB(benchmark::State& state) {
  parse_in_pieces(state, whole_request(agent_body()), SIZE_MAX);
}
void BM_RequestParse_Large64KiB(benchmark::State& state) {
  parse_in_pieces(state, whole_request(large_body()), SIZE_MAX);
}
// The agent request arriving in 1,460-byte segments (one Ethernet MSS each).
void BM_RequestParse_Agent4KiB_Segments(benchmark::State& state) {
  parse_in_pieces(state, whole_request(agent_body()), 1460);
}

BENCHMARK(BM_RequestParse_Small);
BENCHMARK(BM_RequestParse_Agent4KiB);
BENCHMARK(BM_RequestParse_Large64KiB);
BENCHMARK(BM_RequestParse_Agent4KiB_Segments);

}  // namespace
}  // namespace sluice::bench
