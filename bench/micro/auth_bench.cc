// The "auth" filter as the registry builds it (SHA-256 of the presented key, then the digest
// index), with one agent and with 1,000; and the whole default chain of conf/sluice.yaml
// (auth → model_alias) on one request, on_request through on_complete.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "bench/micro/sample_requests.h"
#include "core/config/loader.h"
#include "core/filter/filter.h"
#include "core/filter/request_context.h"
#include "core/filter/snapshot.h"
#include "core/http/request.h"
#include "core/http/request_parser.h"
#include "core/json/request_fields.h"

namespace sluice::bench {
namespace {

// A config with `agents` agents (one key each; agent 0 holds kAgentKey) and the default chain.
std::string config_text(int agents) {
  std::string y =
      "listen: 127.0.0.1:0\n"
      "admin: 127.0.0.1:0\n"
      "workers: 1\n"
      "providers:\n"
      "  up: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
      "models:\n"
      "  fast:\n"
      "    targets: [{provider: up, model: bench-model}]\n"
      "agents:\n";
  for (int i = 0; i < agents; ++i) {
    std::string key = i == 0 ? std::string(kAgentKey) : "sk-bench-other-" + std::to_string(i);
    y += "  agent" + std::to_string(i) + ": {keys: [\"" + config::hash_key(key) +
         "\"], models: [fast]}\n";
  }
  y += "filters:\n"
       "  - auth: {modes: [api_key]}\n"
       "  - model_alias: {}\n"
       "state: {ledger: \"\"}\n"
       "access_log: {path: \"\", format: json}\n";
  return y;
}

// One parsed SDK request and a context set up the way the session sets it before the chain.
struct ChainFixture {
  explicit ChainFixture(int agents) : parser(limits, &request) {
    auto config = config::load_config_text(config_text(agents), "bench.yaml");
    snapshot = filter::ConfigSnapshot::build(config, 1);
    std::string body = small_body();
    std::string wire = sdk_request_head(body.size()) + body;
    parser.feed(wire.data(), wire.size());
    json::parse_request_fields(request.body, &fields);
  }
  void prepare(filter::RequestContext& ctx) const {
    ctx.snapshot = snapshot.get();
    ctx.config = &snapshot->config();
    ctx.request = const_cast<http::HttpRequest*>(&request);
    ctx.endpoint = filter::Endpoint::ChatCompletions;
    ctx.fields = fields;
  }

  http::ParserLimits limits;
  http::HttpRequest request;
  http::RequestParser parser;
  json::RequestFields fields;
  std::shared_ptr<const filter::ConfigSnapshot> snapshot;
};

void auth_lookup(benchmark::State& state, int agents) {
  ChainFixture fx(agents);
  const filter::FilterFactory& auth = *fx.snapshot->filters()[0];
  filter::RequestContext ctx;
  fx.prepare(ctx);
  for (auto _ : state) {
    ctx.agent = nullptr;
    filter::Filter* f = auth.create(ctx);
    if (f->on_request(ctx) != filter::RequestStatus::Continue || ctx.agent == nullptr) {
      state.SkipWithError("auth refused the key");
      break;
    }
    benchmark::DoNotOptimize(ctx.agent);
  }
}

void BM_AuthLookup_1Agent(benchmark::State& state) {
  auth_lookup(state, 1);
}
void BM_AuthLookup_1000Agents(benchmark::State& state) {
  auth_lookup(state, 1000);
}

void BM_DefaultChain_OnRequestToComplete(benchmark::State& state) {
  ChainFixture fx(1);
  filter::RequestContext ctx;
  filter::Filter* filters[8];
  auto factories = fx.snapshot->filters();
  for (auto _ : state) {
    fx.prepare(ctx);
    size_t n = 0;
    for (const auto& factory : factories) {
      filters[n] = factory->create(ctx);
      if (filters[n++]->on_request(ctx) != filter::RequestStatus::Continue) {
        state.SkipWithError("the chain refused the request");
        return;
      }
    }
    for (size_t i = 0; i < n; ++i) filters[i]->on_complete(ctx);
    benchmark::DoNotOptimize(ctx.model_group);
    ctx.reset();
  }
}

BENCHMARK(BM_AuthLookup_1Agent);
BENCHMARK(BM_AuthLookup_1000Agents);
BENCHMARK(BM_DefaultChain_OnRequestToComplete);

}  // namespace
}  // namespace sluice::bench
