// Providers written in Lua (sdk/lua/README.md "Providers"): how `plugins:` entries become
// provider types, the checks at load (the table's shape, its declarations, the schema against
// each provider's config), and the translation API as core drives it — what each hook gets
// and may return, Invalid vs Failed, the budgets, the per-attempt ctx, transform_end and the
// usage chunk. The shipped ollama_native.lua has its own tests (ollama_native_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

extern "C" {
#include <lua.h>
}

#include <map>
#include <string>

#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/metrics/metrics.h"
#include "tests/unit/lua_provider_fixture.h"

namespace sluice::test {
namespace {

using providers::StreamFraming;
using providers::TranslatedRequest;
using providers::TranslateStatus;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A provider that shows what its hooks receive: the request's fields go upstream as headers
// and body, the answer's and each event's back in the client's body.
constexpr const char* kProbe = R"(
local json = sluice.json
local p = {name = "probe", version = "0.1"}
function p.transform_request(req, config, ctx)
  ctx.requests = (ctx.requests or 0) + 1
  return {
    path = "/v9/generate",
    headers = {["x-endpoint"] = req.endpoint, ["x-request-id"] = req.request_id,
               ["x-provider"] = req.provider.name .. " " .. req.provider.base_url,
               ["x-key"] = req.provider.api_key, ["x-greeting"] = config.greeting or "none"},
    body = {model = req.model, stream = req.stream, stream_usage = req.stream_usage,
            said = req.body.messages[1].content, raw_bytes = #req.raw},
  }
end
function p.transform_response(res, config, ctx)
  return {status = res.status == 299 and 200 or res.status,
          body = {status = res.status, json_ok = res.json ~= nil, requests = ctx.requests,
                  text = res.body},
          usage = {input = 11, output = 7, cached = 3}}
end
function p.transform_chunk(ev, config, ctx)
  ctx.events = (ctx.events or 0) + 1
  return {{id = "c1", object = "chat.completion.chunk", created = 1700000000, model = "m1",
           n = ctx.events, event = ev.event or "none", json_ok = ev.json ~= nil, data = ev.data}}
end
return p
)";

class LuaProviderTest : public LuaProviderFixture {
 protected:
  // plugins: {probe: <kProbe>} and its codec.
  std::shared_ptr<const providers::ProviderCodec> probe(const std::string& config = "") {
    add_plugin("probe", write("probe.lua", kProbe));
    return codec("probe", config);
  }

  // A provider whose transform_request is `body` (a Lua function body with req, config, ctx).
  std::shared_ptr<const providers::ProviderCodec> with_request(const std::string& body) {
    add_plugin("p", write("p.lua",
                          "local p = {}\nfunction p.transform_request(req, config, ctx)\n" + body +
                              "\nend\nfunction p.transform_response(res) return {body = "
                              "''} end\nreturn p\n"));
    return codec("p");
  }

  // A provider whose transform_chunk is `chunk` and transform_end `end_body` ("" = none).
  std::shared_ptr<const providers::ProviderCodec> streaming(const std::string& chunk,
                                                            const std::string& end_body = "") {
    std::string lua =
        "local p = {}\n"
        "function p.transform_request(req, config, ctx) return {path = '/x', body = {}} end\n"
        "function p.transform_response(res, config, ctx) return {body = res.body} end\n"
        "function p.transform_chunk(ev, config, ctx)\n" +
        chunk + "\nend\n";
    if (!end_body.empty()) lua += "function p.transform_end(config, ctx)\n" + end_body + "\nend\n";
    add_plugin("s", write("s.lua", lua + "return p\n"));
    return codec("s");
  }

  static double plugin_errors(const std::string& plugin, const std::string& hook) {
    return metrics::Metrics::process()
        .plugin_errors_total.Add({{"plugin", plugin}, {"hook", hook}})
        .Value();
  }

  TranslateStatus request(providers::Translation& t, const Input& input = Input{}) {
    TranslatedRequest out;
    return t.request(input.get(), out);
  }
};

// ---- plugins: entries ----------------------------------------------------------------------

TEST_F(LuaProviderTest, AProviderEntryIsATypeNamedByItsKeyAndAFilterEntryIsLeftAlone) {
  add_plugin("probe", write("probe.lua", kProbe));
  add_plugin("guard", write("guard.lua", "return {on_request = function(h) end}"));
  const auto& source = load();
  std::vector<std::string> types;
  source.provider_types(types);
  EXPECT_THAT(types, ElementsAre("probe"));
  EXPECT_NE(codec("probe"), nullptr);
  EXPECT_EQ(codec("guard"), nullptr);
  EXPECT_EQ(codec("openai"), nullptr);
  EXPECT_EQ(codecs_.front()->name(), "Lua plugin probe");
}

TEST_F(LuaProviderTest, TheLuaPluginsAreASnapshotExtension) {
  add_plugin("probe", write("probe.lua", kProbe));
  bool found = false;
  for (const auto& extension : filter::FilterRegistry::global().extensions()) {
    std::shared_ptr<const providers::ProviderTypeSource> source = extension(config_);
    std::vector<std::string> types;
    if (source != nullptr) source->provider_types(types);
    found = found || (types.size() == 1 && types[0] == "probe");
  }
  EXPECT_TRUE(found);
}

TEST_F(LuaProviderTest, AFileThatIsNeitherAFilterNorAProviderFailsTheLoadNamingItsEntry) {
  add_plugin("bad", write("bad.lua", "return {name = 'x', version = '1'}"));
  const std::string error = load_error();
  EXPECT_THAT(error, HasSubstr("plugins.bad.file"));
  EXPECT_THAT(error, HasSubstr("bad.lua"));
  EXPECT_THAT(error, HasSubstr("defines no hook"));
  EXPECT_THAT(error, HasSubstr("a provider has transform_request and transform_response"));
}

TEST_F(LuaProviderTest, ASyntaxErrorNamesTheFileAndLine) {
  add_plugin("bad", write("bad.lua", "local p = {}\n\nfunction p.transform_request(\nreturn p\n"));
  const std::string error = load_error();
  EXPECT_THAT(error, HasSubstr("Lua syntax error"));
  EXPECT_THAT(error, HasSubstr("bad.lua:4:"));
}

TEST_F(LuaProviderTest, AShapeThatMixesKindsOrLacksAHookIsRefused) {
  add_plugin("mixed", write("mixed.lua",
                            "return {on_request = function() end, transform_request = function() "
                            "end, transform_response = function() end}"));
  EXPECT_THAT(load_error(), HasSubstr("both filter hooks (on_*) and provider hooks"));
  config_.plugins.clear();
  add_plugin("half", write("half.lua", "return {transform_request = function() end}"));
  EXPECT_THAT(load_error(), HasSubstr("the provider plugin has no transform_response"));
  config_.plugins.clear();
  add_plugin("typo", write("typo.lua",
                           "return {transform_request = function() end, transform_response = 1}"));
  EXPECT_THAT(load_error(), HasSubstr("transform_response must be a function, not a number"));
}

TEST_F(LuaProviderTest, TheTableDeclaresFramingBaseUrlAndEndpoints) {
  const std::string hooks =
      "transform_request = function() end, transform_response = function() end";
  add_plugin("nd", write("nd.lua",
                         "return {stream = 'ndjson', default_base_url = "
                         "'http://127.0.0.1:11434', endpoints = {'embeddings'}, " +
                             hooks + "}"));
  add_plugin("plain", write("plain.lua", "return {" + hooks + "}"));
  const auto& source = load();
  EXPECT_EQ(source.default_base_url("nd"), "http://127.0.0.1:11434");
  EXPECT_EQ(source.default_base_url("plain"), "");
  EXPECT_EQ(source.default_base_url("unknown"), "");
  auto nd = codec("nd");
  auto plain = codec("plain");
  EXPECT_EQ(nd->framing(), StreamFraming::Ndjson);
  EXPECT_EQ(plain->framing(), StreamFraming::Sse);
  EXPECT_TRUE(nd->translates(filter::Endpoint::Embeddings));
  EXPECT_FALSE(nd->translates(filter::Endpoint::ChatCompletions));
  EXPECT_TRUE(plain->translates(filter::Endpoint::ChatCompletions));
  EXPECT_FALSE(plain->translates(filter::Endpoint::Messages));
  EXPECT_FALSE(plain->native(filter::Endpoint::ChatCompletions));
}

TEST_F(LuaProviderTest, BadDeclarationsFailTheLoad) {
  const std::string hooks =
      "transform_request = function() end, transform_response = function() end";
  auto error_for = [&](const std::string& fields) {
    config_.plugins.clear();
    add_plugin("p", write("p.lua", "return {" + fields + ", " + hooks + "}"));
    return load_error();
  };
  EXPECT_THAT(error_for("stream = 'websocket'"),
              HasSubstr("stream must be \"sse\" or \"ndjson\", not \"websocket\""));
  EXPECT_THAT(error_for("default_base_url = 'localhost:11434'"), HasSubstr("default_base_url"));
  EXPECT_THAT(error_for("endpoints = {'chat'}"), HasSubstr("endpoints[1] must be one of"));
  EXPECT_THAT(error_for("endpoints = {}"), HasSubstr("endpoints is empty"));
}

TEST_F(LuaProviderTest, ALuaProviderCannotTakeABuiltInTypesName) {
  add_plugin("openai", write("probe.lua", kProbe));
  EXPECT_THAT(load_error(), HasSubstr("\"openai\" is a built-in provider type"));
}

TEST_F(LuaProviderTest, ALuaFilterEntryRefusesAProviderFile) {
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("lua");
  ASSERT_NE(builder, nullptr);
  write("probe.lua", kProbe);
  config::NodeReader reader(YAML::Load("{file: probe.lua}"), "filters[0].lua", "sluice.yaml");
  try {
    (*builder)(reader, config_);
    ADD_FAILURE() << "a provider file loaded as a filter";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is a provider"));
  }
}

// ---- config and schema -----------------------------------------------------------------------

constexpr const char* kSchemaProvider = R"(
return {
  schema = {
    greeting = {type = "string", required = true},
    temperature = {type = "number", min = 0, max = 2, default = 1},
  },
  transform_request = function(req, config)
    return {path = "/x", body = {greeting = config.greeting, temperature = config.temperature}}
  end,
  transform_response = function(res) return {body = res.body} end,
}
)";

TEST_F(LuaProviderTest, TheSchemaChecksEachProvidersConfigOverThePluginsDefaults) {
  add_plugin("p", write("p.lua", kSchemaProvider), "{greeting: plugin-wide, temperature: 0.5}");
  auto check = [&](const std::string& provider_config, const std::string& want) {
    auto t = codec("p", provider_config)->begin(0);
    TranslatedRequest out;
    ASSERT_EQ(t->request(Input{}.get(), out), TranslateStatus::Ok) << t->message();
    EXPECT_EQ(out.body.value_or(""), want);
  };
  check("", R"({"greeting":"plugin-wide","temperature":0.5})");
  check("{greeting: mine}", R"({"greeting":"mine","temperature":0.5})");
  check("{temperature: 2}", R"({"greeting":"plugin-wide","temperature":2})");
}

TEST_F(LuaProviderTest, AConfigTheSchemaRefusesFailsTheLoadAtTheProviderEntry) {
  add_plugin("p", write("p.lua", kSchemaProvider));
  EXPECT_THAT(codec_error("p", ""), HasSubstr("missing required key \"greeting\""));
  EXPECT_THAT(codec_error("p", ""), HasSubstr("providers.local.config"));
  const std::string unknown = codec_error("p", "{greeting: hi, greting: typo}");
  EXPECT_THAT(unknown, HasSubstr("providers.local.config.greting"));
  EXPECT_THAT(unknown, HasSubstr("did you mean \"greeting\"?"));
  EXPECT_THAT(codec_error("p", "{greeting: hi, temperature: 3}"), HasSubstr("must be at most 2"));
  EXPECT_THAT(codec_error("p", "[1, 2]"), HasSubstr("expected a mapping"));
}

TEST_F(LuaProviderTest, ProviderCodecReadsTheEntrysConfigAndNamesTheLineOfABadValue) {
  add_plugin("probe", write("probe.lua", kProbe));
  const auto& source = load();
  config::Provider provider;
  provider.name = "local";
  provider.type = "probe";
  provider.base_url = "http://127.0.0.1:9";
  provider.mark = config::SourceMark{config_.source_path, 10, 3};
  provider.config = YAML::Load("greeting: from the entry\nn: 3\n");
  provider.config_mark = config::SourceMark{config_.source_path, 11, 5};
  auto c = source.provider_codec(provider);
  ASSERT_NE(c, nullptr);
  TranslatedRequest out;
  ASSERT_EQ(c->begin(0)->request(Input{}.get(), out), TranslateStatus::Ok);
  std::map<std::string, std::string> headers(out.headers.begin(), out.headers.end());
  EXPECT_EQ(headers["x-greeting"], "from the entry");

  add_plugin("p", write("p.lua", kSchemaProvider));
  const auto& strict = load();
  provider.type = "p";
  try {
    strict.provider_codec(provider);
    ADD_FAILURE() << "the schema let an unknown key through";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("sluice.yaml:2:1"));  // where `n` is written
    EXPECT_THAT(e.what(), HasSubstr("providers.local.config.n"));
  }
  provider.type = "openai";
  EXPECT_EQ(strict.provider_codec(provider), nullptr);
}

// ---- transform_request -----------------------------------------------------------------------

TEST_F(LuaProviderTest, TransformRequestSeesTheRequestAndSetsPathHeadersAndBody) {
  add_plugin("probe", write("probe.lua", kProbe));
  auto c = codec("probe", "{greeting: hi}", "sk-upstream");
  auto t = c->begin(0);
  Input input;
  input.stream = true;
  input.stream_usage = true;
  TranslatedRequest out;
  ASSERT_EQ(t->request(input.get(), out), TranslateStatus::Ok) << t->message();
  EXPECT_EQ(out.path, "/v9/generate");
  std::map<std::string, std::string> headers(out.headers.begin(), out.headers.end());
  EXPECT_EQ(headers["x-endpoint"], "chat.completions");
  EXPECT_EQ(headers["x-request-id"], "req-42");
  EXPECT_EQ(headers["x-provider"], "local http://127.0.0.1:11434");
  EXPECT_EQ(headers["x-key"], "sk-upstream");
  EXPECT_EQ(headers["x-greeting"], "hi");
  EXPECT_EQ(out.body.value_or(""), R"({"model":"qwen3:8b","raw_bytes":)" +
                                       std::to_string(input.body.size()) +
                                       R"(,"said":"hello","stream":true,"stream_usage":true})");
}

TEST_F(LuaProviderTest, AStringBodyGoesAsItIs) {
  auto t = with_request("return {path = '/raw?x=1', body = 'model=' .. req.model}")->begin(0);
  TranslatedRequest out;
  ASSERT_EQ(t->request(Input{}.get(), out), TranslateStatus::Ok) << t->message();
  EXPECT_EQ(out.path, "/raw?x=1");
  EXPECT_EQ(out.body.value_or(""), "model=qwen3:8b");
}

TEST_F(LuaProviderTest, NilAndAMessageIsInvalidWithThePluginsWords) {
  auto t =
      with_request("return nil, 'messages[0].content[1].type: \"input_audio\" has no equivalent'")
          ->begin(0);
  EXPECT_EQ(request(*t), TranslateStatus::Invalid);
  EXPECT_EQ(t->message(), "messages[0].content[1].type: \"input_audio\" has no equivalent");
}

TEST_F(LuaProviderTest, ARequestBodyThatIsNotJsonIsInvalidBeforeTheHookRuns) {
  auto t = with_request("error('must not run')")->begin(0);
  Input input;
  input.body = "{not json";
  EXPECT_EQ(request(*t, input), TranslateStatus::Invalid);
  EXPECT_THAT(t->message(), HasSubstr("not valid JSON"));
}

TEST_F(LuaProviderTest, ALuaErrorFailsTheAttemptNamingThePluginAndHookAndIsCounted) {
  auto t = with_request("error('no such model: ' .. req.model)")->begin(0);
  const double before = plugin_errors("p", "transform_request");
  EXPECT_EQ(request(*t), TranslateStatus::Failed);
  EXPECT_EQ(plugin_errors("p", "transform_request"), before + 1);
  EXPECT_THAT(t->message(), ::testing::StartsWith("transform_request: "));
  EXPECT_THAT(t->message(), HasSubstr("p.lua:3: no such model: qwen3:8b"));
}

TEST_F(LuaProviderTest, BadRequestTablesFailWithWhatIsWrong) {
  auto failure = [&](const std::string& body) {
    config_.plugins.clear();
    sources_.clear();
    auto t = with_request(body)->begin(0);
    EXPECT_EQ(request(*t), TranslateStatus::Failed) << body;
    return t->message();
  };
  EXPECT_THAT(failure("return 'POST /x'"), HasSubstr("returned a string (return {path = ..."));
  EXPECT_THAT(failure("return nil"), HasSubstr("returned a nil"));
  EXPECT_THAT(failure("return {body = {}}"), HasSubstr("path must be a string starting with"));
  EXPECT_THAT(failure("return {path = 'api/chat', body = {}}"), HasSubstr("path must be"));
  EXPECT_THAT(failure("return {path = '/a b', body = {}}"), HasSubstr("without spaces"));
  EXPECT_THAT(failure("return {path = '/x'}"), HasSubstr("returned no body"));
  EXPECT_THAT(failure("return {path = '/x', body = 42}"),
              HasSubstr("body must be a table (sent as JSON) or a string, not a number"));
  EXPECT_THAT(failure("return {path = '/x', body = {f = print}}"),
              HasSubstr("body: cannot encode a function"));
  EXPECT_THAT(failure("return {path = '/x', body = {}, headers = {['bad name'] = 'v'}}"),
              HasSubstr("\"bad name\" is not a header name"));
  EXPECT_THAT(failure("return {path = '/x', body = {}, headers = {x = 'a\\r\\nb: c'}}"),
              HasSubstr("cannot hold CR, LF or NUL"));
  EXPECT_THAT(failure("return {path = '/x', body = {}, headers = {Host = 'evil'}}"),
              HasSubstr("sluice sets Host itself"));
  EXPECT_THAT(failure("return {path = '/x', body = {}, headers = {'x'}}"),
              HasSubstr("headers must be a table of name = value strings"));
}

TEST_F(LuaProviderTest, ProviderHooksHaveNoSluiceHttp) {
  auto t = with_request("return sluice.http{url = 'http://127.0.0.1:1/', timeout = 100}")->begin(0);
  EXPECT_EQ(request(*t), TranslateStatus::Failed);
  EXPECT_THAT(t->message(),
              HasSubstr("sluice.http is not available in a provider's hooks (called in "
                        "transform_request)"));
}

TEST_F(LuaProviderTest, AHookThatYieldsFails) {
  auto t = with_request("coroutine.yield()")->begin(0);
  EXPECT_EQ(request(*t), TranslateStatus::Failed);
  EXPECT_THAT(t->message(), HasSubstr("transform_request"));
}

// ---- budgets ---------------------------------------------------------------------------------

TEST_F(LuaProviderTest, AHookPastItsInstructionBudgetFailsAndTheNextAttemptRuns) {
  auto c = streaming(
      "if ev.data == 'spin' then local x = 0 while true do x = x + 1 end end\n"
      "return {{ok = true}}");
  config_.plugins["s"].max_instructions = 100000;
  sources_.clear();
  c = codec("s");
  auto t = c->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  std::string out;
  EXPECT_EQ(t->event("", "spin", out), TranslateStatus::Failed);
  EXPECT_THAT(t->message(), ::testing::StartsWith("transform_chunk: "));
  EXPECT_THAT(t->message(), HasSubstr("instruction budget exceeded (max_instructions: 100000)"));
  auto next = c->begin(0);
  ASSERT_EQ(request(*next), TranslateStatus::Ok);
  EXPECT_EQ(next->event("", "fine", out), TranslateStatus::Ok) << next->message();
  EXPECT_EQ(out, "data: {\"ok\":true}\n\n");
}

TEST_F(LuaProviderTest, AHookPastTheMemoryCapFailsAndTheStateRecovers) {
  streaming(
      "if ev.data == 'hog' then local t = {} for i = 1, 1e7 do t[i] = string.rep('x', 1024) .. i "
      "end end\nreturn {{ok = true}}");
  config_.plugins["s"].max_memory = uint64_t{8} << 20;
  sources_.clear();
  auto c = codec("s");
  auto t = c->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  std::string out;
  EXPECT_EQ(t->event("", "hog", out), TranslateStatus::Failed);
  EXPECT_THAT(t->message(), HasSubstr("out of memory (max_memory: 8MiB)"));
  auto next = c->begin(0);
  ASSERT_EQ(request(*next), TranslateStatus::Ok) << next->message();
  EXPECT_EQ(next->event("", "fine", out), TranslateStatus::Ok) << next->message();
}

// ---- transform_response ----------------------------------------------------------------------

TEST_F(LuaProviderTest, TransformResponseSeesTheAnswerAndSetsStatusBodyAndUsage) {
  auto t = probe()->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  int status = 299;
  std::string out;
  ASSERT_EQ(t->response(status, R"({"a":1})", out), TranslateStatus::Ok) << t->message();
  EXPECT_EQ(status, 200);
  EXPECT_EQ(out, R"({"json_ok":true,"requests":1,"status":299,"text":"{\"a\":1}"})");
  EXPECT_EQ(t->usage().source, usage::Usage::Source::Reported);
  EXPECT_EQ(t->usage().input_tokens, 11u);
  EXPECT_EQ(t->usage().output_tokens, 7u);
  EXPECT_EQ(t->usage().cached_input_tokens, 3u);

  auto other = probe()->begin(0);
  ASSERT_EQ(request(*other), TranslateStatus::Ok);
  status = 500;
  out.clear();
  ASSERT_EQ(other->response(status, "<html>oops</html>", out), TranslateStatus::Ok);
  EXPECT_EQ(status, 500);
  EXPECT_THAT(out, HasSubstr("\"json_ok\":false"));
}

TEST_F(LuaProviderTest, UsageComesFromTheResultOrElseFromCtx) {
  add_plugin("p", write("p.lua", R"(
return {
  transform_request = function(req, config, ctx) return {path = "/x", body = {}} end,
  transform_response = function(res, config, ctx)
    ctx.usage = {input = 1, output = 2}
    if res.status == 201 then return {body = "", usage = {input = 5, output = 6, cache_write = 4}} end
    return {body = ""}
  end,
})"));
  auto c = codec("p");
  for (int status : {200, 201}) {
    auto t = c->begin(0);
    ASSERT_EQ(request(*t), TranslateStatus::Ok);
    EXPECT_FALSE(t->usage().known());
    std::string out;
    ASSERT_EQ(t->response(status, "{}", out), TranslateStatus::Ok) << t->message();
    EXPECT_EQ(t->usage().input_tokens, status == 200 ? 1u : 5u);
    EXPECT_EQ(t->usage().output_tokens, status == 200 ? 2u : 6u);
    EXPECT_EQ(t->usage().cache_write_tokens, status == 200 ? 0u : 4u);
  }
}

TEST_F(LuaProviderTest, AnAnswerThePluginCannotReadFailsWithoutCountingAsItsError) {
  add_plugin("p", write("p.lua", R"(
return {
  transform_request = function() return {path = "/x", body = {}} end,
  transform_response = function(res) return nil, "not a chat answer: " .. res.body end,
})"));
  auto t = codec("p")->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  int status = 200;
  std::string out;
  const double before = plugin_errors("p", "transform_response");
  EXPECT_EQ(t->response(status, "garbage", out), TranslateStatus::Failed);
  EXPECT_EQ(plugin_errors("p", "transform_response"), before);
  EXPECT_EQ(t->message(), "transform_response: not a chat answer: garbage");
  EXPECT_EQ(out, "");
}

TEST_F(LuaProviderTest, BadResponseTablesFailWithWhatIsWrong) {
  auto failure = [&](const std::string& ret) {
    config_.plugins.clear();
    sources_.clear();
    add_plugin("p", write("p.lua",
                          "return {transform_request = function() return {path = '/x', "
                          "body = {}} end, transform_response = function(res) " +
                              ret + " end}"));
    auto t = codec("p")->begin(0);
    EXPECT_EQ(request(*t), TranslateStatus::Ok);
    int status = 200;
    std::string out;
    EXPECT_EQ(t->response(status, "{}", out), TranslateStatus::Failed) << ret;
    return t->message();
  };
  EXPECT_THAT(failure("return 'ok'"), HasSubstr("returned a string (return {status = ..."));
  EXPECT_THAT(failure("return {status = 200}"), HasSubstr("returned no body"));
  EXPECT_THAT(failure("return {status = 42, body = ''}"),
              HasSubstr("status must be an HTTP status (an integer from 100 to 599)"));
  EXPECT_THAT(failure("return {body = '', usage = {input = -1}}"),
              HasSubstr("usage.input must be a non-negative integer"));
  EXPECT_THAT(failure("return {body = '', usage = {output = 1.5}}"),
              HasSubstr("usage.output must be a non-negative integer"));
  EXPECT_THAT(failure("return {body = '', usage = 12}"),
              HasSubstr("usage must be a table like {input = 12, output = 30}"));
}

// ---- streams ---------------------------------------------------------------------------------

TEST_F(LuaProviderTest, EachEventBecomesTheChunksItReturnsAsDataEvents) {
  auto t = probe()->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  std::string out;
  ASSERT_EQ(t->event("content_block_delta", R"({"x":1})", out), TranslateStatus::Ok);
  ASSERT_EQ(t->event("", "[DONE]", out), TranslateStatus::Ok);
  auto events = data_events(out);
  ASSERT_EQ(events.size(), 2u) << out;
  JsonDoc first(events[0]), second(events[1]);
  EXPECT_EQ(first.str("/event"), "content_block_delta");
  EXPECT_EQ(first.raw("/json_ok"), "true");
  EXPECT_EQ(first.num("/n"), 1);
  EXPECT_EQ(second.str("/event"), "none");
  EXPECT_EQ(second.raw("/json_ok"), "false");  // not JSON: ev.json is nil
  EXPECT_EQ(second.str("/data"), "[DONE]");
  EXPECT_EQ(second.num("/n"), 2);
}

TEST_F(LuaProviderTest, CtxIsKeptForOneAttemptAndFreshForTheNext) {
  auto c = probe();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto t = c->begin(0);
    ASSERT_EQ(request(*t), TranslateStatus::Ok);
    std::string out;
    for (int i = 0; i < 3; ++i) ASSERT_EQ(t->event("", "{}", out), TranslateStatus::Ok);
    auto events = data_events(out);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(JsonDoc(events[2]).num("/n"), 3) << "attempt " << attempt;
  }
}

TEST_F(LuaProviderTest, TwoAttemptsAtOnceHaveTheirOwnCtx) {
  auto c = probe();
  auto a = c->begin(0);
  auto b = c->begin(0);
  ASSERT_EQ(request(*a), TranslateStatus::Ok);
  ASSERT_EQ(request(*b), TranslateStatus::Ok);
  std::string out_a, out_b;
  ASSERT_EQ(a->event("", "{}", out_a), TranslateStatus::Ok);
  ASSERT_EQ(a->event("", "{}", out_a), TranslateStatus::Ok);
  ASSERT_EQ(b->event("", "{}", out_b), TranslateStatus::Ok);
  EXPECT_EQ(JsonDoc(data_events(out_a)[1]).num("/n"), 2);
  EXPECT_EQ(JsonDoc(data_events(out_b)[0]).num("/n"), 1);
}

TEST_F(LuaProviderTest, CtxIsReleasedWhenTheAttemptEnds) {
  auto c = streaming("ctx.big = string.rep('x', 256 * 1024) .. ev.data\nreturn nil");
  const auto& plugin = *sources_.back()->find("s");
  for (int i = 0; i < 200; ++i) {  // 50MiB if every ctx stayed
    auto t = c->begin(0);
    ASSERT_EQ(request(*t), TranslateStatus::Ok);
    std::string out;
    ASSERT_EQ(t->event("", std::to_string(i), out), TranslateStatus::Ok) << t->message();
  }
  lua_gc(plugin.states().first().L(), LUA_GCCOLLECT, 0);
  EXPECT_LT(plugin.states().first().memory_used(), uint64_t{4} << 20);
}

TEST_F(LuaProviderTest, EndRunsTransformEndThenTheUsageChunkOnlyWhenAskedThenDone) {
  const std::string chunk =
      "ctx.usage = {input = 9, output = 4, cached = 2}\n"
      "return {{id = 'chatcmpl-1', object = 'chat.completion.chunk', created = 1700000000, "
      "model = 'm1', choices = {{index = 0, delta = {content = ev.data}}}}}";
  const std::string end = "return {{id = 'chatcmpl-1', model = 'm1', last = ctx.usage.output}}";
  auto c = streaming(chunk, end);
  for (bool asked : {true, false}) {
    auto t = c->begin(0);
    Input input;
    input.stream = true;
    input.stream_usage = asked;
    ASSERT_EQ(request(*t, input), TranslateStatus::Ok);
    std::string out;
    ASSERT_EQ(t->event("", "hi", out), TranslateStatus::Ok);
    out.clear();
    ASSERT_EQ(t->end(out), TranslateStatus::Ok) << t->message();
    auto events = data_events(out);
    ASSERT_EQ(events.size(), asked ? 3u : 2u) << out;
    EXPECT_EQ(events[0], R"({"id":"chatcmpl-1","last":4,"model":"m1"})");
    if (asked) {
      EXPECT_EQ(events[1],
                R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,)"
                R"("model":"m1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,)"
                R"("total_tokens":13,"prompt_tokens_details":{"cached_tokens":2}}})");
    }
    EXPECT_EQ(events.back(), "[DONE]");
    EXPECT_EQ(t->usage().input_tokens, 9u);
  }
}

TEST_F(LuaProviderTest, NoUsageChunkWhenTheStreamReportedNone) {
  auto t = streaming("return {{x = 1}}")->begin(0);
  Input input;
  input.stream = true;
  input.stream_usage = true;
  ASSERT_EQ(request(*t, input), TranslateStatus::Ok);
  std::string out;
  ASSERT_EQ(t->event("", "a", out), TranslateStatus::Ok);
  out.clear();
  ASSERT_EQ(t->end(out), TranslateStatus::Ok);
  EXPECT_EQ(out, "data: [DONE]\n\n");
  EXPECT_FALSE(t->usage().known());
}

TEST_F(LuaProviderTest, TransformEndCanFailTheStream) {
  auto t = streaming("return nil", "return nil, 'cut before the last line'")->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  std::string out;
  EXPECT_EQ(t->end(out), TranslateStatus::Failed);
  EXPECT_EQ(t->message(), "transform_end: cut before the last line");
  EXPECT_EQ(out, "");
}

TEST_F(LuaProviderTest, AnEventThePluginRefusesFailsTheStream) {
  auto t = streaming("return nil, 'upstream said: ' .. ev.data")->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  std::string out;
  EXPECT_EQ(t->event("", "overloaded", out), TranslateStatus::Failed);
  EXPECT_EQ(t->message(), "transform_chunk: upstream said: overloaded");
}

TEST_F(LuaProviderTest, BadChunkListsFailWithWhatIsWrong) {
  auto failure = [&](const std::string& body) {
    config_.plugins.clear();
    sources_.clear();
    auto t = streaming(body)->begin(0);
    EXPECT_EQ(request(*t), TranslateStatus::Ok);
    std::string out;
    EXPECT_EQ(t->event("", "{}", out), TranslateStatus::Failed) << body;
    EXPECT_EQ(out, "");
    return t->message();
  };
  EXPECT_THAT(failure("return {id = 'x', choices = {}}"),
              HasSubstr("not a list: return {chunk, ...} (a list of chunks), even for one"));
  EXPECT_THAT(failure("return 'data: {}'"), HasSubstr("returned a string (return a list of chunk"));
  EXPECT_THAT(failure("return {{a = 1}, 'b'}"), HasSubstr("chunk 2 is a string, not a table"));
  EXPECT_THAT(failure("return {{f = print}}"), HasSubstr("chunk 1: cannot encode a function"));
  EXPECT_THAT(failure("ctx.usage = {input = 'many'} return nil"),
              HasSubstr("ctx.usage.input must be a non-negative integer"));
}

TEST_F(LuaProviderTest, NothingOrAnEmptyListWritesNothing) {
  auto t = streaming("if ev.data == 'a' then return nil end return {}")->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  std::string out;
  EXPECT_EQ(t->event("", "a", out), TranslateStatus::Ok);
  EXPECT_EQ(t->event("", "b", out), TranslateStatus::Ok);
  EXPECT_EQ(out, "");
}

TEST_F(LuaProviderTest, BlankNdjsonLinesAreNoEvent) {
  add_plugin("nd", write("nd.lua", R"(
return {
  stream = "ndjson",
  transform_request = function() return {path = "/x", body = {}} end,
  transform_response = function(res) return {body = res.body} end,
  transform_chunk = function(ev) return {{line = ev.data}} end,
})"));
  auto t = codec("nd")->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  std::string out;
  ASSERT_EQ(t->event("", "", out), TranslateStatus::Ok);
  ASSERT_EQ(t->event("", " \r", out), TranslateStatus::Ok);
  ASSERT_EQ(t->event("", "{}", out), TranslateStatus::Ok);
  EXPECT_EQ(out, "data: {\"line\":\"{}\"}\n\n");
}

TEST_F(LuaProviderTest, AProviderWithoutTransformChunkCannotStream) {
  auto t = with_request("return {path = '/x', body = {}}")->begin(0);
  ASSERT_EQ(request(*t), TranslateStatus::Ok);
  std::string out;
  EXPECT_EQ(t->event("", "{}", out), TranslateStatus::Failed);
  EXPECT_THAT(t->message(), HasSubstr("has no transform_chunk, so it cannot stream"));
}

// ---- workers -----------------------------------------------------------------------------------

TEST_F(LuaProviderTest, AWorkerTheLoadDidNotForeseeGetsItsStateOnFirstUse) {
  auto c = probe("{greeting: late}");
  auto t = c->begin(7);
  TranslatedRequest out;
  ASSERT_EQ(t->request(Input{}.get(), out), TranslateStatus::Ok) << t->message();
  std::map<std::string, std::string> headers(out.headers.begin(), out.headers.end());
  EXPECT_EQ(headers["x-greeting"], "late");
}

TEST_F(LuaProviderTest, AWorkerPastTheLastSlotFailsEveryStepClearly) {
  auto t = probe()->begin(100000);
  EXPECT_EQ(request(*t), TranslateStatus::Failed);
  EXPECT_THAT(t->message(), HasSubstr("no Lua state for worker 100000"));
  std::string out;
  EXPECT_EQ(t->end(out), TranslateStatus::Failed);
}

}  // namespace
}  // namespace sluice::test
