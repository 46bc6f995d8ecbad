// The request body's fields (simdjson on-demand over the whole document: model, stream,
// max_tokens, stream_options) and the model splice the router makes for each attempt.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/micro/sample_requests.h"
#include "core/json/body_splice.h"
#include "core/json/request_fields.h"

namespace sluice::bench {
namespace {

void parse_fields(benchmark::State& state, std::string body) {
  json::ensure_padding(body);
  json::RequestFields fields;
  for (auto _ : state) {
    json::ParseResult r = json::parse_request_fields(body, &fields);
    if (r.status != json::ParseStatus::Ok) state.SkipWithError("body refused");
    benchmark::DoNotOptimize(fields.model_begin);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

void BM_ParseRequestFields_Small(benchmark::State& state) {
  parse_fields(state, small_body());
}
void BM_ParseRequestFields_Agent4KiB(benchmark::State& state) {
  parse_fields(state, agent_body());
}
void BM_ParseRequestFields_Large64KiB(benchmark::State& state) {
  parse_fields(state, large_body());
}

// Logical → physical model name, as pieces for one writev (no copy of the body).
void splice_model(benchmark::State& state, std::string body) {
  json::ensure_padding(body);
  json::RequestFields fields;
  if (json::parse_request_fields(body, &fields).status != json::ParseStatus::Ok) {
    state.SkipWithError("body refused");
    return;
  }
  json::BodyEdit edit;
  json::SplicedBody spliced;
  for (auto _ : state) {
    json::set_model_edit(edit, body, fields, "gpt-4o-mini-2024-07-18");
    if (!spliced.assign(body, {&edit})) state.SkipWithError("splice refused");
    benchmark::DoNotOptimize(spliced.size());
  }
}

void BM_ModelSplice_Small(benchmark::State& state) {
  splice_model(state, small_body());
}
void BM_ModelSplice_Large64KiB(benchmark::State& state) {
  splice_model(state, large_body());
}

// Parse + splice + the include_usage edit an OpenAI stream gets: the whole body work per attempt.
void BM_ParseAndSplice_Agent4KiB(benchmark::State& state) {
  std::string body = agent_body();
  json::ensure_padding(body);
  json::RequestFields fields;
  json::BodyEdit model_edit, usage_edit;
  json::SplicedBody spliced;
  for (auto _ : state) {
    if (json::parse_request_fields(body, &fields).status != json::ParseStatus::Ok) {
      state.SkipWithError("body refused");
      break;
    }
    json::set_model_edit(model_edit, body, fields, "gpt-4o-mini");
    bool usage = json::set_include_usage_edit(usage_edit, body, fields);
    if (!spliced.assign(body, {&model_edit, usage ? &usage_edit : nullptr})) {
      state.SkipWithError("splice refused");
    }
    benchmark::DoNotOptimize(spliced.size());
  }
}

BENCHMARK(BM_ParseRequestFields_Small);
BENCHMARK(BM_ParseRequestFields_Agent4KiB);
BENCHMARK(BM_ParseRequestFields_Large64KiB);
BENCHMARK(BM_ModelSplice_Small);
BENCHMARK(BM_ModelSplice_Large64KiB);
BENCHMARK(BM_ParseAndSplice_Agent4KiB);

}  // namespace
}  // namespace sluice::bench
