// `type: lua` tools (filters/lua/lua_tool_*): what the config load checks in a tool file and in
// its entry (each refusal with the file, line and key a user needs), what agents are offered
// (description and input_schema, the file's or the entry's), and how call's return values map
// to tool results. Calls themselves, on a real loop: lua_tool_call_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

extern "C" {
#include <lauxlib.h>
#include <lualib.h>
}

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/config/loader.h"
#include "core/config/node_reader.h"
#include "core/tools/tool_set.h"
#include "filters/lua/lua_json.h"
#include "filters/lua/lua_tool_result.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kConfigHead = R"(listen: 127.0.0.1:0
workers: 2
providers:
  demo: {type: mock}
models:
  fast:
    targets: [{provider: demo, model: mock-fast}]
filters: []
tools:
)";

class LuaToolLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-lua-tool-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }

  // The ToolSet of a config whose tools: section is `tools` (YAML lines indented by two).
  std::shared_ptr<const tools::ToolSet> build(const std::string& tools) {
    config_ = config::load_config_text(kConfigHead + tools, dir_ + "/sluice.yaml",
                                       [](const std::string&) { return std::nullopt; });
    return tools::ToolSet::build(*config_, {});
  }

  // The error a user sees for that config; "<no error>" (a test failure) if it loaded.
  std::string error_of(const std::string& tools) {
    try {
      build(tools);
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  }

  std::string dir_;
  std::shared_ptr<const config::Config> config_;
};

const char* const kShout = R"(return {
  name = "shout",
  description = "Upper-cases a text",
  input_schema = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  schema = {suffix = {type = "string", default = ""}},
  call = function(args, ctx) return args.text:upper() .. ctx.config.suffix end,
}
)";

TEST_F(LuaToolLoadTest, TheFilesDescriptionAndInputSchemaAreOffered) {
  write("shout.lua", kShout);
  auto set = build("  text.shout: {type: lua, file: shout.lua}\n");
  tools::FoundTool found = set->find(nullptr, "text.shout");
  ASSERT_TRUE(found);
  EXPECT_EQ(found.entry->description, "Upper-cases a text");
  EXPECT_EQ(found.entry->input_schema_json,
            R"({"properties":{"text":{"type":"string"}},"required":["text"],"type":"object"})");
  EXPECT_EQ(found.entry->function_name, "text_shout");
  EXPECT_NE(found.entry->executor, nullptr);
}

TEST_F(LuaToolLoadTest, TheEntrysDescriptionAndInputSchemaWin) {
  write("shout.lua", kShout);
  auto set = build(
      "  text.shout:\n    type: lua\n    file: shout.lua\n    description: Shouts\n"
      "    input_schema: {type: object, properties: {words: {type: string}}}\n");
  tools::FoundTool found = set->find(nullptr, "text.shout");
  ASSERT_TRUE(found);
  EXPECT_EQ(found.entry->description, "Shouts");
  EXPECT_THAT(found.entry->input_schema_json, HasSubstr("words"));
  EXPECT_THAT(found.entry->input_schema_json, Not(HasSubstr("required")));
}

TEST_F(LuaToolLoadTest, AFileWithoutInputSchemaTakesAnyObject) {
  write("t.lua", "return {call = function() return 'ok' end}");
  auto set = build("  t: {type: lua, file: t.lua}\n");
  tools::FoundTool found = set->find(nullptr, "t");
  ASSERT_TRUE(found);
  EXPECT_EQ(found.entry->input_schema_json, R"({"type":"object"})");
  EXPECT_EQ(found.entry->description, "");
}

TEST_F(LuaToolLoadTest, ASyntaxErrorRefusesTheConfigWithFileAndLine) {
  write("t.lua", "return {\n  call = function(args, ctx)\n    if then end\n  end,\n}\n");
  const std::string error = error_of("  t: {type: lua, file: t.lua}\n");
  EXPECT_THAT(error, HasSubstr("sluice.yaml:"));  // where the entry is
  EXPECT_THAT(error, HasSubstr("tools.t.file"));  // which key
  EXPECT_THAT(error, HasSubstr("t.lua:3:"));      // where in the Lua file
  EXPECT_THAT(error, HasSubstr("syntax error"));
}

TEST_F(LuaToolLoadTest, ATableWithoutCallIsRefused) {
  write("t.lua", "return {name = 't', run = function() end}");
  const std::string error = error_of("  t: {type: lua, file: t.lua}\n");
  EXPECT_THAT(error, HasSubstr("tools.t.file"));
  EXPECT_THAT(error, HasSubstr("a tool has call"));
  write("t.lua", "return {call = 'hello'}");
  EXPECT_THAT(error_of("  t: {type: lua, file: t.lua}\n"), HasSubstr("call must be a function"));
  write("t.lua", "return 42");
  EXPECT_THAT(error_of("  t: {type: lua, file: t.lua}\n"), HasSubstr("must return a table"));
  write("t.lua", "error('no database at load')");
  EXPECT_THAT(error_of("  t: {type: lua, file: t.lua}\n"), HasSubstr("no database at load"));
}

TEST_F(LuaToolLoadTest, AFilterOrAProviderFileIsNotATool) {
  write("f.lua", "return {on_request = function(h) end}");
  EXPECT_THAT(error_of("  t: {type: lua, file: f.lua}\n"), HasSubstr("is a filter"));
  write("p.lua",
        "return {transform_request = function() end, transform_response = function() end}");
  EXPECT_THAT(error_of("  t: {type: lua, file: p.lua}\n"), HasSubstr("is a provider"));
  write("m.lua", "return {on_request = function() end, call = function() end}");
  EXPECT_THAT(error_of("  t: {type: lua, file: m.lua}\n"),
              HasSubstr("both a tool's call and filter hooks"));
}

TEST_F(LuaToolLoadTest, DeclarationsOfTheWrongTypeAreRefused) {
  write("t.lua", "return {description = 42, call = function() end}");
  EXPECT_THAT(error_of("  t: {type: lua, file: t.lua}\n"),
              HasSubstr("description must be a string"));
  write("t.lua", "return {input_schema = 'object', call = function() end}");
  EXPECT_THAT(error_of("  t: {type: lua, file: t.lua}\n"),
              HasSubstr("input_schema must be a table"));
  write("t.lua", "return {input_schema = {'a', 'b'}, call = function() end}");
  EXPECT_THAT(error_of("  t: {type: lua, file: t.lua}\n"),
              HasSubstr("input_schema must be a JSON Schema object"));
}

TEST_F(LuaToolLoadTest, AnInputSchemaSluiceCannotCheckIsRefusedAtTheFile) {
  write("t.lua", "return {input_schema = {type = 'object', required = {}}, call = function() end}");
  std::string error = error_of("  t: {type: lua, file: t.lua}\n");
  EXPECT_THAT(error, HasSubstr("tools.t.file: Lua plugin "));
  EXPECT_THAT(error, HasSubstr("t.lua: input_schema.required: "));
  // sluice.json.array() makes an empty list a JSON array.
  write("t.lua",
        "return {input_schema = {type = 'object', required = sluice.json.array()}, "
        "call = function() end}");
  EXPECT_NO_THROW(build("  t: {type: lua, file: t.lua}\n"));
  // The entry's own schema is reported where the entry writes it.
  error = error_of("  t: {type: lua, file: t.lua, input_schema: {type: object, required: 3}}\n");
  EXPECT_THAT(error, HasSubstr("tools.t.input_schema.required"));
}

TEST_F(LuaToolLoadTest, AMissingFileIsRefusedAtItsKey) {
  const std::string error = error_of("  t: {type: lua, file: nope.lua}\n");
  EXPECT_THAT(error, HasSubstr("tools.t.file"));
  EXPECT_THAT(error, HasSubstr("nope.lua"));
  EXPECT_THAT(error, HasSubstr("No such file"));
}

TEST_F(LuaToolLoadTest, TheConfigIsCheckedByTheFilesSchemaAtItsLine) {
  write("shout.lua", kShout);
  std::string error = error_of(
      "  text.shout:\n    type: lua\n    file: shout.lua\n    config:\n      sufix: '!'\n");
  EXPECT_THAT(error, HasSubstr("sluice.yaml:14:"));  // the line of `sufix`
  EXPECT_THAT(error, HasSubstr("tools.text.shout.config.sufix"));
  EXPECT_THAT(error, HasSubstr("did you mean \"suffix\""));
  error =
      error_of("  text.shout:\n    type: lua\n    file: shout.lua\n    config: {suffix: [1]}\n");
  EXPECT_THAT(error, HasSubstr("tools.text.shout.config.suffix"));
  EXPECT_THAT(error, HasSubstr("expected a string"));
  write("req.lua",
        "return {schema = {url = {type = 'string', required = true}}, call = "
        "function() end}");
  EXPECT_THAT(error_of("  t: {type: lua, file: req.lua}\n"),
              HasSubstr("missing required key \"url\""));
  EXPECT_THAT(error_of("  t: {type: lua, file: req.lua, config: 5}\n"),
              HasSubstr("expected a mapping"));
}

TEST_F(LuaToolLoadTest, BudgetsApplyToLuaEntriesOnly) {
  write("shout.lua", kShout);
  EXPECT_NO_THROW(
      build("  t: {type: lua, file: shout.lua, max_instructions: 5000, "
            "max_memory: 2MiB}\n"));
  EXPECT_THAT(error_of("  t: {type: lua, file: shout.lua, max_memory: 1KiB}\n"),
              HasSubstr("at least 1MiB"));
  EXPECT_THAT(error_of("  t: {type: http, url: 'http://127.0.0.1:1/', max_instructions: 5000}\n"),
              HasSubstr("applies to type lua only"));
}

// ---- return values → results ----------------------------------------------------------------

class LuaToolResultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    L_ = luaL_newstate();
    luaL_openlibs(L_);
    filters::lua::push_json_library(L_);
    lua_setglobal(L_, "json");
  }
  void TearDown() override { lua_close(L_); }

  // What `return <values>` gives as the result of tool "t".
  tools::CallResult result_of(const std::string& values) {
    lua_settop(L_, 0);
    const std::string chunk = "return " + values;
    EXPECT_EQ(luaL_dostring(L_, chunk.c_str()), 0) << lua_tostring(L_, -1);
    return filters::lua::tool_result(L_, 1, lua_gettop(L_));
  }

  lua_State* L_ = nullptr;
};

TEST_F(LuaToolResultTest, ATableIsJson) {
  tools::CallResult r = result_of("{temperature = 21, tags = {'a', 'b'}, none = json.array()}");
  EXPECT_EQ(r.status, tools::CallStatus::Ok);
  EXPECT_TRUE(r.json);
  EXPECT_EQ(r.content, R"({"none":[],"tags":["a","b"],"temperature":21})");
  r = result_of("{}");
  EXPECT_TRUE(r.json);
  EXPECT_EQ(r.content, "{}");
}

TEST_F(LuaToolResultTest, AStringIsText) {
  tools::CallResult r = result_of("'HELLO'");
  EXPECT_EQ(r.status, tools::CallStatus::Ok);
  EXPECT_FALSE(r.json);
  EXPECT_EQ(r.content, "HELLO");
  r = result_of("''");
  EXPECT_EQ(r.status, tools::CallStatus::Ok);
  EXPECT_EQ(r.content, "");
}

TEST_F(LuaToolResultTest, ANumberOrABooleanIsItsText) {
  EXPECT_EQ(result_of("42").content, "42");
  EXPECT_EQ(result_of("0.5").content, "0.5");
  EXPECT_EQ(result_of("true").content, "true");
  EXPECT_FALSE(result_of("42").json);
  EXPECT_EQ(result_of("0/0").status, tools::CallStatus::ToolError);
}

TEST_F(LuaToolResultTest, NilAndAMessageIsAToolErrorWithThatMessage) {
  tools::CallResult r = result_of("nil, 'city not found'");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_EQ(r.content, "city not found");
  r = result_of("nil, {code = 3}");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_EQ(r.content, R"({"code":3})");
  r = result_of("nil, string.rep('x', 100000)");
  EXPECT_LT(r.content.size(), size_t{17} << 10);
  EXPECT_THAT(r.content, HasSubstr("(100000 bytes)"));
}

TEST_F(LuaToolResultTest, NothingIsAToolErrorSayingWhatCallReturns) {
  for (const char* values : {"nil", "nil, nil"}) {
    tools::CallResult r = result_of(values);
    EXPECT_EQ(r.status, tools::CallStatus::ToolError) << values;
    EXPECT_THAT(r.content, HasSubstr("returned nothing")) << values;
  }
  lua_settop(L_, 0);
  tools::CallResult r = filters::lua::tool_result(L_, 1, 0);
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_EQ(r.content,
            "call returned nothing: call returns a table (JSON), a string (text), or nil and an "
            "error message");
}

TEST_F(LuaToolResultTest, WhatJsonCannotHoldIsAToolError) {
  tools::CallResult r = result_of("print");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_THAT(r.content, HasSubstr("returned a function"));
  r = result_of("{f = print}");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_THAT(r.content, HasSubstr("not JSON"));
  r = result_of("(function() local t = {} t.self = t return t end)()");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_THAT(r.content, HasSubstr("a cycle?"));
}

TEST_F(LuaToolResultTest, AResultOverTheBoundIsAToolError) {
  tools::CallResult r = result_of("string.rep('x', 5 * 1024 * 1024)");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_THAT(r.content, HasSubstr("more than a tool's result may hold (4MiB)"));
  EXPECT_LT(r.content.size(), 1024u);
}

}  // namespace
}  // namespace sluice
