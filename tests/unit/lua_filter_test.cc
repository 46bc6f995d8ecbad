// The `lua` filter host (filters/lua/): loading and the plugin's schema, the handle API, the
// sandbox (each escape a hostile plugin tries), the instruction and memory budgets, and how a
// failing hook ends its request — driven through the filter interface, as the session does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/filter/request_context.h"
#include "core/json/request_fields.h"
#include "core/metrics/metrics.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class LuaFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-lua-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    ctx_.reset();
    std::filesystem::remove_all(dir_);
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }

  // Builds the filter of `- lua: {file: plugin.lua, <extra>}` with `plugin` as the file.
  // The factory lives as long as the fixture: a request's filter (in ctx_'s arena) must never
  // outlive the state it runs on.
  filter::FilterFactory* build(const std::string& plugin, const std::string& extra = "") {
    write("plugin.lua", plugin);
    const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("lua");
    if (builder == nullptr) throw std::runtime_error("lua is not registered");
    config_.base_dir = dir_;
    config_.workers = 1;
    const std::string yaml = "{file: plugin.lua" + (extra.empty() ? "" : ", " + extra) + "}";
    config::NodeReader reader(YAML::Load(yaml), "filters[1].lua", "sluice.yaml");
    factories_.push_back((*builder)(reader, config_));
    reader.finish();
    return factories_.back().get();
  }

  std::string build_error(const std::string& plugin, const std::string& extra = "") {
    try {
      build(plugin, extra);
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  }

  // A chat request with `body`, ready for the chain.
  void start_request(const std::string& body =
                         R"({"model":"fast","messages":[{"role":"user","content":"hello"}]})") {
    ctx_.reset();
    request_.clear();
    request_.head_storage = "POST /v1/chat/completions HTTP/1.1\r\n";
    request_.body = body;
    json::ensure_padding(request_.body);
    ctx_.request = &request_;
    ctx_.config = &config_;
    ctx_.endpoint = filter::Endpoint::ChatCompletions;
    ctx_.request_id = "req-1";
    ASSERT_EQ(json::parse_request_fields(request_.body, &ctx_.fields).status,
              json::ParseStatus::Ok);
  }

  // Runs on_request; then the end phases (as finish() does) when `complete`.
  filter::RequestStatus run_request(filter::FilterFactory& factory, bool complete = true) {
    filter_ = factory.create(ctx_);
    filter::RequestStatus status = filter_->on_request(ctx_);
    if (complete) end_request();
    return status;
  }
  void end_request() {
    filter_->on_complete(ctx_);
    filter_->on_log(ctx_);
  }

  double plugin_errors(const std::string& plugin, const std::string& hook) {
    return metrics::Metrics::process()
        .plugin_errors_total.Add({{"plugin", plugin}, {"hook", hook}})
        .Value();
  }

  std::string dir_;
  config::Config config_;
  std::vector<std::unique_ptr<filter::FilterFactory>> factories_;
  http::HttpRequest request_;
  filter::RequestContext ctx_;  // after factories_: destroyed (arena and all) before them
  filter::Filter* filter_ = nullptr;
};

// ---- loading ---------------------------------------------------------------------------------

TEST_F(LuaFilterTest, SyntaxErrorFailsTheLoadWithFileAndLine) {
  std::string error = build_error("return {\n on_request = function(h) if then end\n}");
  EXPECT_THAT(error, HasSubstr("sluice.yaml"));
  EXPECT_THAT(error, HasSubstr("filters[1].lua"));
  EXPECT_THAT(error, HasSubstr("plugin.lua:2:"));
  EXPECT_THAT(error, HasSubstr("syntax error"));
}

TEST_F(LuaFilterTest, PluginMustReturnATableWithAHook) {
  EXPECT_THAT(build_error("return 42"), HasSubstr("must return a table"));
  EXPECT_THAT(build_error("return {name = 'x'}"), HasSubstr("defines no hook"));
  EXPECT_THAT(build_error("return {on_request = 'yes'}"),
              HasSubstr("on_request must be a function"));
  EXPECT_THAT(build_error("error('boom at load')"), HasSubstr("boom at load"));
}

TEST_F(LuaFilterTest, MissingFileIsALoadError) {
  config_.base_dir = dir_;
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("lua");
  config::NodeReader reader(YAML::Load("{file: nope.lua}"), "filters[1].lua", "sluice.yaml");
  try {
    (*builder)(reader, config_);
    FAIL() << "loaded a missing file";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nope.lua"));
  }
}

constexpr const char* kSchemaPlugin = R"(
return {
  name = "schema_demo",
  schema = {
    words = {type = "array", of = "string", required = true},
    limit = {type = "integer", min = 1, max = 10, default = 3},
    mode = {type = "string", one_of = {"deny", "allow"}, default = "deny"},
  },
  on_request = function(h, config)
    h:set_header("x-config", table.concat(config.words, ",") .. "|" .. config.limit .. "|" .. config.mode)
  end,
}
)";

TEST_F(LuaFilterTest, SchemaChecksTheConfigAtLoad) {
  EXPECT_THAT(build_error(kSchemaPlugin, "config: {}"),
              HasSubstr("missing required key \"words\""));
  EXPECT_THAT(build_error(kSchemaPlugin, "config: {words: [a], limt: 2}"),
              HasSubstr("did you mean \"limit\""));
  EXPECT_THAT(build_error(kSchemaPlugin, "config: {words: a}"), HasSubstr("expected a list"));
  EXPECT_THAT(build_error(kSchemaPlugin, "config: {words: [a], limit: 11}"),
              HasSubstr("at most 10"));
  EXPECT_THAT(build_error(kSchemaPlugin, "config: {words: [a], limit: 1.5}"),
              HasSubstr("expected an integer"));
  EXPECT_THAT(build_error(kSchemaPlugin, "config: {words: [a], mode: maybe}"),
              HasSubstr("must be one of: deny, allow"));
}

TEST_F(LuaFilterTest, SchemaDefaultsReachTheHook) {
  auto factory = build(kSchemaPlugin, "config: {words: [a, b]}");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-config").value_or(""), "a,b|3|deny");
}

// ---- the handle ------------------------------------------------------------------------------

TEST_F(LuaFilterTest, RespondEndsTheChainWithThatReply) {
  auto factory = build(R"(
return {on_request = function(h)
  h:respond(403, {error = {message = "no", type = "permission_error", code = "policy_blocked"}},
            {["x-why"] = "test"})
end}
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_EQ(ctx_.local_reply().status, 403);
  EXPECT_THAT(ctx_.local_reply().body, HasSubstr(R"("code":"policy_blocked")"));
  ASSERT_EQ(ctx_.response_header_edits().size(), 1u);
  EXPECT_EQ(ctx_.response_header_edits()[0].name, "x-why");
}

TEST_F(LuaFilterTest, FieldsAndHeadersOfTheRequest) {
  auto factory = build(R"(
return {on_request = function(h)
  h:set_header("x-seen", h.request_id .. "|" .. h.model .. "|" .. h.endpoint .. "|" .. tostring(h.agent))
  h:remove_header("x-drop")
end}
)");
  start_request();
  request_.set_header("x-drop", "1");
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-seen").value_or(""), "req-1|fast|chat.completions|nil");
  EXPECT_FALSE(request_.header("x-drop").has_value());
}

TEST_F(LuaFilterTest, SetJsonRewritesTheBodyAndTheModel) {
  auto factory = build(R"(
return {on_request = function(h)
  local t = h:json()
  t.model = "quality"
  t.messages[1].content = "rewritten"
  t.tools = sluice.json.array()
  h:set_json(t)
end}
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(ctx_.fields.model, "quality");
  EXPECT_THAT(request_.body, HasSubstr(R"("content":"rewritten")"));
  EXPECT_THAT(request_.body, HasSubstr(R"("tools":[])"));
}

TEST_F(LuaFilterTest, SetBodyRefusesABodyWithoutModel) {
  auto factory = build(R"(return {on_request = function(h) h:set_body('{"x":1}') end})");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_EQ(ctx_.local_reply().status, 500);
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("no \"model\""));
}

TEST_F(LuaFilterTest, JsonKeepsNullAndEmptyArrays) {
  auto factory = build(R"(
return {on_request = function(h)
  local t = sluice.json.decode('{"a":null,"b":[],"c":[1,2],"d":{}}')
  assert(t.a == sluice.json.null)
  h:set_header("x-json", sluice.json.encode({b = t.b, c = t.c, n = 1.5, i = 3}))
end}
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  const std::string json(request_.header("x-json").value_or(""));
  EXPECT_THAT(json, HasSubstr(R"("b":[])"));
  EXPECT_THAT(json, HasSubstr(R"("c":[1,2])"));
  EXPECT_THAT(json, HasSubstr(R"("n":1.5)"));
  EXPECT_THAT(json, HasSubstr(R"("i":3)"));
}

TEST_F(LuaFilterTest, EncodeWritesObjectKeysSorted) {
  auto factory = build(R"(
return {on_request = function(h)
  local t = {zeta = 1, alpha = {y = 2, x = sluice.json.array({3, 1})}, [10] = "ten", [2] = "two",
             mid = sluice.json.null}
  h:set_header("x-json", sluice.json.encode(t))
  local ok, err = sluice.json.encode({[true] = 1})
  h:set_header("x-err", tostring(err))
end}
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  // Bytewise order: a number key is its text ("10" before "2").
  EXPECT_EQ(request_.header("x-json").value_or(""),
            R"({"10":"ten","2":"two","alpha":{"x":[3,1],"y":2},"mid":null,"zeta":1})");
  EXPECT_EQ(request_.header("x-err").value_or(""), "cannot encode a table key of type boolean");
}

TEST_F(LuaFilterTest, CtxIsKeptAcrossTheRequestsHooks) {
  auto factory = build(R"(
return {
  on_request = function(h) h:ctx().started = "yes" end,
  on_response = function(h) h:set_header("x-ctx", h:ctx().started .. "|" .. h.status) end,
}
)");
  start_request();
  auto* f = factory->create(ctx_);
  EXPECT_EQ(f->on_request(ctx_), filter::RequestStatus::Continue);
  f->on_response_headers(ctx_, 200);
  ASSERT_EQ(ctx_.response_header_edits().size(), 1u);
  EXPECT_EQ(ctx_.response_header_edits()[0].value.value_or(""), "yes|200");
  f->on_complete(ctx_);
  f->on_log(ctx_);
}

TEST_F(LuaFilterTest, OnChunkReplacesTheChunk) {
  auto factory = build(R"(
return {on_chunk = function(h, config, chunk) return (chunk:gsub("secret", "******")) end}
)");
  start_request();
  auto* f = factory->create(ctx_);
  f->on_response_headers(ctx_, 200);
  EXPECT_TRUE(ctx_.rewrites_response_body());
  f->on_response_chunk(ctx_, "the secret word");
  std::string out;
  ASSERT_TRUE(ctx_.take_chunk_replacement(out));
  EXPECT_EQ(out, "the ****** word");
  f->on_complete(ctx_);
  f->on_log(ctx_);
}

TEST_F(LuaFilterTest, OnCompleteSeesUsageCostAndStatus) {
  auto factory = build(R"(
seen = nil
return {
  on_request = function(h) if seen then h:set_header("x-last", seen) end end,
  on_complete = function(h)
    seen = h.status .. "|" .. h.usage.input .. "|" .. h.usage.output .. "|" ..
           tostring(h.usage.estimated) .. "|" .. h.cost_usd
  end,
}
)");
  start_request();
  auto* f = factory->create(ctx_);
  f->on_request(ctx_);
  ctx_.response_status = 200;
  ctx_.usage.input_tokens = 12;
  ctx_.usage.output_tokens = 5;
  ctx_.cost_usd = 0.25;
  f->on_complete(ctx_);
  f->on_log(ctx_);
  start_request();
  run_request(*factory);
  EXPECT_EQ(request_.header("x-last").value_or(""), "200|12|5|false|0.25");
}

TEST_F(LuaFilterTest, HandleOutsideItsPhaseOrRequestIsAClearError) {
  auto factory = build(R"(
kept = nil
return {
  on_request = function(h)
    if kept then kept:header("x") end
    kept = h
  end,
  on_complete = function(h) h:respond(403) end,
}
)");
  const double before = plugin_errors("plugin", "on_complete");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(plugin_errors("plugin", "on_complete"), before + 1);  // respond in on_complete
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("request that has ended"));
}

// ---- failures and the sandbox ------------------------------------------------------------------

TEST_F(LuaFilterTest, FailingHookGives500PluginErrorAndIsCounted) {
  auto factory = build(R"(return {name = "broken", on_request = function(h) error("kaput") end})");
  const double before = plugin_errors("broken", "on_request");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_EQ(ctx_.local_reply().status, 500);
  EXPECT_EQ(ctx_.local_reply().code, "plugin_error");
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("\"broken\""));
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("on_request"));
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("kaput"));
  EXPECT_EQ(plugin_errors("broken", "on_request"), before + 1);
}

TEST_F(LuaFilterTest, OnErrorContinueLetsTheRequestGoOn) {
  auto factory = build(R"(return {name = "lenient", on_request = function(h) error("kaput") end})",
                       "on_error: continue");
  const double before = plugin_errors("lenient", "on_request");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_FALSE(ctx_.has_local_reply());
  EXPECT_EQ(plugin_errors("lenient", "on_request"), before + 1);
}

struct Escape {
  const char* name;
  const char* code;
};

class SandboxEscape : public LuaFilterTest, public ::testing::WithParamInterface<Escape> {};

TEST_P(SandboxEscape, FailsTheHookAndTheStateKeepsServing) {
  write("payload.txt", "secret");
  auto factory = build(std::string("return {on_request = function(h)\n") + GetParam().code +
                       "\nend, on_complete = function(h) end}");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond) << GetParam().name;
  EXPECT_EQ(ctx_.local_reply().status, 500);
  EXPECT_EQ(ctx_.local_reply().code, "plugin_error");
  // The same state serves the next request.
  auto ok = build("return {on_request = function(h) h:set_header('x-ok', 'yes') end}");
  start_request();
  EXPECT_EQ(run_request(*ok), filter::RequestStatus::Continue);
}

INSTANTIATE_TEST_SUITE_P(
    Lua, SandboxEscape,
    ::testing::Values(Escape{"io_open", "io.open('payload.txt')"},
                      Escape{"os_execute", "os.execute('touch /tmp/sluice-pwned')"},
                      Escape{"os_getenv", "assert(os.getenv('HOME'))"},
                      Escape{"require_ffi", "require('ffi')"},
                      Escape{"require_io", "require('io')"},
                      Escape{"string_dump", "local f = string.dump(function() end)"},
                      Escape{"bytecode_load", "assert(load('\\27LJ\\2'))"},
                      Escape{"debug_sethook", "debug.sethook()"},
                      Escape{"package_loadlib", "package.loadlib('libc.so.6', 'system')"},
                      Escape{"getfenv", "getfenv(0).io.open('x')"}, Escape{"jit", "jit.on()"},
                      Escape{"dofile", "dofile('payload.txt')"},
                      Escape{"collectgarbage_stop", "collectgarbage('stop')"},
                      Escape{"require_parent", "require('..payload')"}),
    [](const ::testing::TestParamInfo<Escape>& info) { return std::string(info.param.name); });

TEST_F(LuaFilterTest, EndlessLoopIsStoppedByTheInstructionBudget) {
  auto factory = build(R"(
return {on_request = function(h)
  if h:header("x-loop") then local x = 0 while true do x = x + 1 end end
  h:set_header("x-ok", "yes")
end}
)",
                       "max_instructions: 100000");
  start_request();
  request_.set_header("x-loop", "1");
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("instruction budget exceeded"));
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-ok").value_or(""), "yes");
}

TEST_F(LuaFilterTest, PcallCannotSwallowTheInstructionBudget) {
  auto factory = build(R"(
return {on_request = function(h)
  while true do pcall(function() while true do end end) end
end}
)",
                       "max_instructions: 100000");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("instruction budget exceeded"));
}

TEST_F(LuaFilterTest, MemoryBombIsStoppedAndTheStateRecovers) {
  auto factory = build(R"(
hoard = {}
return {on_request = function(h)
  if h:header("x-bomb") then
    local t = {}
    for i = 1, 1e9 do t[i] = string.rep("x", 1024) .. i end
  end
  h:set_header("x-ok", "yes")
end}
)",
                       "max_memory: 8MiB, max_instructions: 100000000");
  start_request();
  request_.set_header("x-bomb", "1");
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("memory"));
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-ok").value_or(""), "yes");
}

TEST_F(LuaFilterTest, YieldOutsideHttpIsAnError) {
  auto factory = build(R"(return {on_request = function(h) coroutine.yield() end})");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("yielded outside sluice.http"));
}

TEST_F(LuaFilterTest, PluginCoroutinesStillWork) {
  auto factory = build(R"(
return {on_request = function(h)
  local co = coroutine.wrap(function() coroutine.yield(1) coroutine.yield(2) end)
  h:set_header("x-co", co() .. "," .. co())
end}
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-co").value_or(""), "1,2");
}

TEST_F(LuaFilterTest, AHookCannotResumeAnotherHooksCoroutine) {
  auto factory = build(R"(
kept = nil
return {on_request = function(h)
  local mine = coroutine.create(function(x) return x * 2 end)
  local ok, doubled = coroutine.resume(mine, 21)
  h:set_header("x-own", tostring(ok) .. "," .. tostring(doubled))
  if kept then coroutine.resume(kept, {status = 200}) end
  kept = coroutine.running()
end}
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-own").value_or(""), "true,42");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr("runs a sluice hook"));
}

TEST_F(LuaFilterTest, HttpOutsideOnRequestOrWithoutWorkerIsReported) {
  auto factory = build(R"(
return {on_request = function(h)
  local r, err = sluice.http{url = "http://127.0.0.1:1/", timeout = 100}
  h:set_header("x-err", tostring(err))
end, on_complete = function(h)
  sluice.http{url = "http://127.0.0.1:1/", timeout = 100}
end}
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_THAT(std::string(request_.header("x-err").value_or("")), HasSubstr("not available"));
}

TEST_F(LuaFilterTest, RequireFindsOnlyLuaFilesBesideThePlugin) {
  write("words.lua", "return {'alpha', 'beta'}");
  auto factory = build(R"(
local words = require("words")
return {on_request = function(h) h:set_header("x-words", table.concat(words, ",")) end}
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-words").value_or(""), "alpha,beta");
  EXPECT_THAT(build_error("require('missing_module') return {on_request = function() end}"),
              HasSubstr("no file"));
}

TEST_F(LuaFilterTest, OsKeepsOnlyTimeClockAndDate) {
  auto factory = build(R"(
return {on_request = function(h)
  h:set_header("x-os", type(os.time()) .. type(os.clock()) .. type(os.date("!%Y")) ..
                       tostring(os.execute) .. tostring(io) .. tostring(debug))
end}
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-os").value_or(""), "numbernumberstringnilnilnil");
}

// ---- hostile plugins: each ends as a clear error for its own request ----------------------------

// Host code reads the plugin's tables outside a protected call (at load, and when a late worker
// builds its state): LuaJIT aborts the process on an error raised there, so no metamethod and no
// global of the plugin may run — a reload with such a plugin would take the proxy down.
TEST_F(LuaFilterTest, ThePluginTablesMetamethodsDoNotRunAtLoad) {
  EXPECT_THAT(build_error(R"(
return setmetatable({}, {__index = function(t, k) error("trap: " .. k) end})
)"),
              HasSubstr("defines no hook"));
  auto factory = build(R"(
return setmetatable({on_request = function(h) h:set_header("x-ok", "yes") end},
                    {__index = function(t, k) while true do end end})
)");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-ok").value_or(""), "yes");
}

TEST_F(LuaFilterTest, TheSchemasMetamethodsAndThePluginsGlobalsDoNotRunAtLoad) {
  const std::string plugin = R"(
local trap = {__index = function(t, k) error("schema trap: " .. k) end}
local schema = {mode = setmetatable({type = "string", one_of = {"deny", "allow"}}, trap)}
tostring = nil
setmetatable(_G, {__index = function(_, k) error("no global " .. k) end})
return {
  schema = setmetatable(schema, trap),
  on_request = function(h, config) h:set_header("x-mode", config.mode) end,
}
)";
  EXPECT_THAT(build_error(plugin, "config: {mode: maybe}"),
              HasSubstr("must be one of: deny, allow"));
  auto factory = build(plugin, "config: {mode: allow}");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-mode").value_or(""), "allow");
}

struct Hostile {
  const char* name;
  const char* code;     // the body of hostile(h), run when the request has x-hostile
  const char* message;  // what the 500's message says
};

class HostileHook : public LuaFilterTest, public ::testing::WithParamInterface<Hostile> {};

TEST_P(HostileHook, EndsItsRequestWithAClearErrorAndTheStateKeepsServing) {
  auto factory = build(std::string("local function hostile(h)\n") + GetParam().code + R"(
end
return {name = "hostile", on_request = function(h)
  if h:header("x-hostile") then hostile(h) end
  h:set_header("x-ok", "yes")
end}
)",
                       "max_memory: 16MiB, max_instructions: 10000000");
  const double before = plugin_errors("hostile", "on_request");
  start_request();
  request_.set_header("x-hostile", "1");
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Respond);
  EXPECT_EQ(ctx_.local_reply().status, 500);
  EXPECT_EQ(ctx_.local_reply().code, "plugin_error");
  EXPECT_THAT(ctx_.local_reply().message, HasSubstr(GetParam().message));
  EXPECT_LT(ctx_.local_reply().message.size(), 2048u) << "the error text is bounded";
  EXPECT_TRUE(ctx_.response_header_edits().empty()) << "nothing of the failed hook stands";
  EXPECT_EQ(plugin_errors("hostile", "on_request"), before + 1);
  // The same state serves the next request.
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_EQ(request_.header("x-ok").value_or(""), "yes");
}

INSTANTIATE_TEST_SUITE_P(
    Lua, HostileHook,
    ::testing::Values(
        Hostile{"error_with_a_table", "error({code = 42})", "error object is a table"},
        Hostile{"error_with_a_huge_string", "error(string.rep('x', 4 * 1024 * 1024), 0)",
                "4194304 bytes"},
        Hostile{"string_rep_1e9", "local s = string.rep('x', 1e9)", "out of memory"},
        Hostile{"concat_past_the_cap", "local s = 'x' for i = 1, 40 do s = s .. s end",
                "out of memory"},
        Hostile{"lua_recursion", "local function f() return f() + 1 end f()", "stack overflow"},
        Hostile{"tostring_recursion",
                "local t = setmetatable({}, {__tostring = function(t) return '<' .. tostring(t) "
                ".. '>' end}) tostring(t)",
                "stack overflow"},
        Hostile{"log_recursion",
                "local t = setmetatable({}, {__tostring = function(t) sluice.log('info', t) "
                "return 'x' end}) sluice.log('info', t)",
                "stack overflow"},
        Hostile{"gsub_recursion", "local function f() return (string.gsub('x', 'x', f)) end f()",
                "stack overflow"},
        Hostile{"sort_recursion",
                "local function lt(a, b) table.sort({3, 2, 1}, lt) return a < b end "
                "table.sort({2, 1}, lt)",
                "stack overflow"},
        Hostile{"coroutine_recursion", "local function f() return coroutine.wrap(f)() end f()",
                "stack overflow"},
        Hostile{"format_recursion",
                "local t = setmetatable({}, {__tostring = function(t) return string.format('%s', "
                "t) end}) tostring(t)",
                "stack overflow"},
        Hostile{"globals_trapped",
                "setmetatable(_G, {__newindex = function(_, k) error('frozen ' .. k) end}) "
                "leak = 1",
                "frozen leak"},
        Hostile{"log_without_tostring",
                "local saved = tostring tostring = nil sluice.log('info', 'still logs') "
                "tostring = saved error('after the log')",
                "after the log"},
        Hostile{"respond_twice", "h:respond(403, nil, {['x-first'] = 'yes'}) h:respond(401)",
                "already"},
        Hostile{"respond_then_error", "h:respond(403, nil, {['x-first'] = 'yes'}) error('late')",
                "late"},
        Hostile{"header_with_nul", "h:set_header('x-a', 'a\\0b')", "NUL"},
        Hostile{"http_timeout_nan", "sluice.http{url = 'http://127.0.0.1:1/', timeout = 0/0}",
                "timeout (milliseconds) is required"},
        Hostile{"shared_huge_values",
                "assert(sluice.shared:set('huge', string.rep('x', 6 * 1024 * 1024))) "
                "local t = {} for i = 1, 4 do t[i] = sluice.shared:get('huge') .. i end",
                "out of memory"},
        Hostile{"decode_deep_json",
                "assert(sluice.json.decode(string.rep('[', 1000) .. string.rep(']', 1000)))",
                "nested deeper than 128"},
        Hostile{"decode_very_deep_json",
                "assert(sluice.json.decode(string.rep('[', 100000) .. string.rep(']', 100000)))",
                "invalid JSON"},
        Hostile{"encode_a_cycle", "local t = {} t.self = t h:set_json(t)", "nested deeper"}),
    [](const ::testing::TestParamInfo<Hostile>& info) { return std::string(info.param.name); });

TEST_F(LuaFilterTest, ARequireLoopIsALoadError) {
  write("loop.lua", "return require('loop')");
  EXPECT_THAT(build_error("require('loop') return {on_request = function() end}"),
              HasSubstr("stack overflow"));
}

TEST_F(LuaFilterTest, OnChunkReturningANonStringIsAnError) {
  auto factory = build(R"(
return {name = "chunky", on_chunk = function(h, config, chunk) return {chunk} end}
)");
  const double before = plugin_errors("chunky", "on_chunk");
  start_request();
  auto* f = factory->create(ctx_);
  f->on_response_headers(ctx_, 200);
  f->on_response_chunk(ctx_, "one");
  std::string out;
  EXPECT_FALSE(ctx_.take_chunk_replacement(out)) << "the chunk passes unchanged";
  EXPECT_EQ(plugin_errors("chunky", "on_chunk"), before + 1);
  f->on_response_chunk(ctx_, "two");  // a broken rewriter is not run again for this stream
  EXPECT_EQ(plugin_errors("chunky", "on_chunk"), before + 1);
  f->on_complete(ctx_);
  f->on_log(ctx_);
}

TEST_F(LuaFilterTest, OnErrorContinueDropsWhatTheFailedHookResponded) {
  auto factory = build(R"(
return {on_request = function(h)
  h:respond(403, nil, {["x-refused"] = "yes"})
  error("after the refusal")
end}
)",
                       "on_error: continue");
  start_request();
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  EXPECT_FALSE(ctx_.has_local_reply());
  EXPECT_TRUE(ctx_.response_header_edits().empty());
}

// The cost of sluice.json.encode and h:set_json on a typical chat body (README: key order).
// Run by hand: unit_lua_filter_test --gtest_also_run_disabled_tests --gtest_filter='*JsonCost*'
TEST_F(LuaFilterTest, DISABLED_JsonCost) {
  auto factory = build(R"(
return {on_request = function(h)
  local t = h:json()
  local n = 20000
  local c0 = os.clock()
  for i = 1, n do sluice.json.encode(t) end
  local c1 = os.clock()
  for i = 1, n do h:set_json(t) end
  local c2 = os.clock()
  h:set_header("x-bench", string.format("encode %.2f us, set_json %.2f us, %d bytes",
                                        (c1 - c0) / n * 1e6, (c2 - c1) / n * 1e6, #h:body()))
end}
)",
                       "max_instructions: 1000000000");
  start_request(R"({"model":"fast","stream":false,"temperature":0.2,"max_tokens":512,
"messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly."},
{"role":"user","content":"What is the weather in Paris today? Please use the tool."},
{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
"function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
{"role":"tool","tool_call_id":"call_1","content":"{\"temp_c\":21,\"sky\":\"clear\"}"}],
"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather by city",
"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
"metadata":{"team":"blue","trace":"abc123"}})");
  EXPECT_EQ(run_request(*factory), filter::RequestStatus::Continue);
  std::printf("%s\n", std::string(request_.header("x-bench").value_or("?")).c_str());
}

}  // namespace
}  // namespace sluice
