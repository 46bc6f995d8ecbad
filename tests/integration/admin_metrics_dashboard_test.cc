// conf/grafana/sluice.json queries only metrics sluice really exports. sluice runs with a config
// that exercises every path the dashboard charts — an agent with an rpm limit and a budget, a
// Lua filter whose hook fails (on_error: continue), rate_limit, model_alias, circuit_breaker,
// cost with a model left unpriced, retry with fallback from a provider that refuses
// connections, a Lua tool, the ledger on — and gets a little traffic of each kind. Then every
// metric name in the dashboard's `expr` fields must have at least one sample in /metrics.
//
// The rule for names: Prometheus stores a histogram as three series, <name>_bucket, _sum and
// _count, and a counter under its own name; a query can only ever match those sample names. So
// each identifier `sluice_[a-z0-9_]+` in an expr must be the name of a sample line in the
// scrape: sluice_request_duration_seconds_bucket passes, sluice_request_duration_seconds
// (the bare histogram) and sluice_requests_total_count (a counter has no _count) fail, as does a
// misspelling — which the last part of the test proves on a doctored copy of the dashboard.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBoomFilter = R"(return {
  name = "boom",
  on_request = function(h, config)
    if h:header("x-boom") then error("boom on request") end
  end,
})";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every `sluice_…` identifier in the string values of `expr` keys, anywhere in the document.
void collect_expr_metrics(const Json& node, std::set<std::string>* out) {
  static const std::regex kName(R"(sluice_[a-z0-9_]+)");
  if (node.is_object()) {
    for (const auto& [key, value] : node.members()) {
      if (key == "expr" && value.is_string()) {
        const std::string& expr = value.str();
        for (auto it = std::sregex_iterator(expr.begin(), expr.end(), kName);
             it != std::sregex_iterator(); ++it) {
          out->insert(it->str());
        }
      } else {
        collect_expr_metrics(value, out);
      }
    }
  } else if (node.is_array()) {
    for (const Json& item : node.items()) collect_expr_metrics(item, out);
  }
}

// The sample names of a Prometheus text scrape (comment lines skipped), and each family's type
// from its `# TYPE` line (for the failure message).
struct Scrape {
  std::set<std::string> samples;
  std::map<std::string, std::string> types;
};

Scrape parse_scrape(const std::string& text) {
  Scrape s;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      s.types[name] = type;
    } else if (!line.empty() && line[0] != '#') {
      s.samples.insert(line.substr(0, line.find_first_of("{ ")));
    }
  }
  return s;
}

// The dashboard's metric names that have no sample in the scrape, each with a hint.
std::vector<std::string> missing_metrics(const std::set<std::string>& used, const Scrape& scrape) {
  std::vector<std::string> missing;
  for (const std::string& name : used) {
    if (scrape.samples.count(name) != 0) continue;
    std::string hint = name;
    auto type = scrape.types.find(name);
    if (type != scrape.types.end() && type->second == "histogram") {
      hint += " (a histogram: query its _bucket, _sum or _count)";
    } else if (type != scrape.types.end()) {
      hint += " (a " + type->second + " with no sample after the traffic)";
    } else {
      hint += " (no such metric)";
    }
    missing.push_back(hint);
  }
  return missing;
}

class AdminMetricsDashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    sluice.dir().write("boom.lua", kBoomFilter);
    GatewayConfig config;
    // sluice prices a loopback provider's unlisted models at 0 without counting them unpriced
    // (filters/cost/local_provider.h): reach the mock through another address when there is one.
    remote_address = non_loopback_ipv4();
    config.provider_base_url = remote_address.empty() ? mock.base_url()
                                                      : "http://" + remote_address + ":" +
                                                            std::to_string(mock.port()) + "/v1";
    config.ledger_path = sluice.dir().file("ledger.db");
    // `broken` refuses connections: the circuit opens after one failure, the retry filter
    // falls back to mockai.
    config.extra_providers = "  broken:\n    type: openai\n    base_url: http://127.0.0.1:" +
                             std::to_string(unused_port()) +
                             "/v1\n    circuit_breaker: {consecutive_failures: 1, open_for: 1m}\n";
    config.extra_models =
        "  ha:\n    strategy: priority\n    targets:\n"
        "      - {provider: broken, model: broken-model}\n"
        "      - {provider: mockai, model: " +
        std::string(kFastPhysical) + "}\n";
    config.alice_extra =
        "    limits: {rpm: 3}\n    budget: {usd: 5, per: day}\n    tools: [text.shout]\n";
    config.filters_after_auth =
        "  - lua: {file: boom.lua, on_error: continue}\n  - rate_limit: {}\n";
    config.extra = "tools:\n  text.shout: {type: lua, file: " + std::string(SLUICE_SOURCE_DIR) +
                   "/plugins/lua/shout_tool.lua}\n";
    std::string yaml = config.to_yaml();
    // After model_alias: the breaker, cost (fast priced, smart not) and retry with fallback.
    const std::string alias = "  - model_alias: {}\n";
    const size_t at = yaml.find(alias);
    ASSERT_NE(at, std::string::npos) << "GatewayConfig no longer writes " << alias;
    yaml.insert(at + alias.size(),
                "  - circuit_breaker: {}\n"
                "  - cost: {prices: {" +
                    std::string(kFastPhysical) +
                    ": {input: 1, output: 2}}}\n"
                    "  - retry: {attempts: 2, retry_on: [connect_failure, 5xx], "
                    "backoff: {base: 5ms, max: 10ms}, fallback: true}\n");
    ASSERT_TRUE(sluice.start(sluice_binary(), yaml));
  }

  std::optional<HttpResponse> chat(const std::string& model, const std::string& key,
                                   const Headers& extra = {}) {
    HttpClient client = sluice.client();
    client.set_timeout(20s);
    Headers headers = bearer(key);
    headers.insert(headers.end(), extra.begin(), extra.end());
    return client.post_json("/v1/chat/completions", chat_body(model, "hello"), headers);
  }

  MockProvider mock{mock_provider_binary(), {"--host", "0.0.0.0"}};
  SluiceServer sluice;
  std::string remote_address;  // "" = the machine has no non-loopback IPv4 address
};

TEST_F(AdminMetricsDashboardTest, EveryMetricTheGrafanaDashboardQueriesIsExported) {
  const std::string path = std::string(SLUICE_SOURCE_DIR) + "/conf/grafana/sluice.json";
  auto dashboard = Json::parse(read_file(path));
  ASSERT_TRUE(dashboard) << path << " is not JSON";
  std::set<std::string> used;
  collect_expr_metrics(*dashboard, &used);
  ASSERT_GE(used.size(), 10u) << "the dashboard's exprs were not found";

  // Traffic: priced and unpriced models, a fallback from a failing provider, a Lua hook that
  // fails, a tool call, then alice past her rpm.
  auto r = chat(kFastModel, kBobKey, {{"x-boom", "1"}});
  ASSERT_TRUE(r) << sluice.describe();
  EXPECT_EQ(r->status, 200) << r->describe();
  r = chat(kSmartModel, kBobKey);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  r = chat("ha", kBobKey);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "mockai") << r->describe();
  {
    HttpClient client = sluice.client();
    auto tool = client.post_json("/v1/tools/text.shout", R"({"text":"hi"})", bearer(kAliceKey));
    ASSERT_TRUE(tool);
    EXPECT_EQ(tool->status, 200) << tool->describe();
  }
  int refused = 0;
  for (int i = 0; i < 5 && refused == 0; ++i) {
    r = chat(kFastModel, kAliceKey);
    ASSERT_TRUE(r);
    if (r->status == 429) ++refused;
  }
  EXPECT_EQ(refused, 1) << "alice (rpm 3) was never rate-limited";

  // The ledger writer flushes every 10ms: wait for its rows to be counted.
  std::string scrape;
  ASSERT_TRUE(eventually(
      [&] {
        auto m = sluice.admin_client().get("/metrics");
        scrape = m && m->status == 200 ? m->body : "";
        return scrape.find("sluice_ledger_rows_total{result=\"written\"} 0") == std::string::npos &&
               scrape.find("sluice_ledger_rows_total") != std::string::npos;
      },
      20s))
      << scrape;
  const Scrape parsed = parse_scrape(scrape);
  if (remote_address.empty()) {
    // Only a non-loopback provider has unpriced models: without one the series cannot exist.
    std::cerr << "note: no non-loopback IPv4 address; sluice_unpriced_requests_total is not "
                 "checked\n";
    used.erase("sluice_unpriced_requests_total");
  }
  const std::vector<std::string> missing = missing_metrics(used, parsed);
  std::string list;
  for (const std::string& m : missing) list += "\n  " + m;
  EXPECT_TRUE(missing.empty()) << path << " queries metrics /metrics does not have:" << list
                               << "\n--- scrape ---\n"
                               << scrape;

  // The check catches a panel with a misspelled metric, a bare histogram and a made-up suffix.
  Json doctored = *dashboard;
  Json bad_panel = Json::object();
  Json targets = Json::array();
  for (const char* expr :
       {"sum(rate(sluice_request_total[5m]))", "rate(sluice_request_duration_seconds[5m])",
        "sluice_requests_total_count"}) {
    Json target = Json::object();
    target.set("expr", expr);
    targets.push_back(target);
  }
  bad_panel.set("targets", targets);
  Json panels = doctored["panels"];
  panels.push_back(bad_panel);
  doctored.set("panels", panels);
  std::set<std::string> doctored_used;
  collect_expr_metrics(doctored, &doctored_used);
  const std::vector<std::string> caught = missing_metrics(doctored_used, parsed);
  ASSERT_EQ(caught.size(), 3u) << ::testing::PrintToString(caught);
  EXPECT_NE(caught[0].find("sluice_request_duration_seconds (a histogram"), std::string::npos)
      << caught[0];
  EXPECT_NE(caught[1].find("sluice_request_total (no such metric)"), std::string::npos)
      << caught[1];
  EXPECT_NE(caught[2].find("sluice_requests_total_count (no such metric)"), std::string::npos)
      << caught[2];
}

}  // namespace
}  // namespace sluice::test
