// InputSchema (core/tools/input_schema.h): what an agent sees when its tool call's arguments do
// not fit the tool's input_schema, and what an operator sees when the schema itself is bad.
#include "core/tools/input_schema.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/config/node_reader.h"
#include "core/tools/tool_source.h"

namespace sluice::tools {
namespace {

std::shared_ptr<const InputSchema> compiled(std::string_view json) {
  std::string error;
  auto schema = InputSchema::compile(json, &error);
  EXPECT_NE(schema, nullptr) << error;
  return schema;
}

std::string compile_error(std::string_view json) {
  std::string error;
  auto schema = InputSchema::compile(json, &error);
  EXPECT_EQ(schema, nullptr) << "compiled: " << json;
  return error;
}

// The violation's message, or "ok" when the arguments pass.
std::string verdict(const InputSchema& schema, std::string_view arguments) {
  auto violation = schema.check(arguments);
  return violation ? violation->message : "ok";
}

// The violation's field, or "ok".
std::string field_of(const InputSchema& schema, std::string_view arguments) {
  auto violation = schema.check(arguments);
  return violation ? violation->field : "ok";
}

// ---- type ----

TEST(InputSchemaType, EachTypeAcceptsItsValuesAndRefusesOthers) {
  auto schema = compiled(R"({"type":"object","properties":{
      "o":{"type":"object"},"a":{"type":"array"},"s":{"type":"string"},
      "n":{"type":"number"},"i":{"type":"integer"},"b":{"type":"boolean"},"z":{"type":"null"}}})");
  EXPECT_EQ(verdict(*schema, R"({"o":{},"a":[],"s":"x","n":1.5,"i":3,"b":false,"z":null})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"o":[]})"), R"("o": expected object, got array)");
  EXPECT_EQ(verdict(*schema, R"({"a":{}})"), R"("a": expected array, got object)");
  EXPECT_EQ(verdict(*schema, R"({"s":5})"), R"("s": expected string, got number 5)");
  EXPECT_EQ(verdict(*schema, R"({"n":"1"})"), R"("n": expected number, got string "1")");
  EXPECT_EQ(verdict(*schema, R"({"i":"5"})"), R"("i": expected integer, got string "5")");
  EXPECT_EQ(verdict(*schema, R"({"b":"true"})"), R"("b": expected boolean, got string "true")");
  EXPECT_EQ(verdict(*schema, R"({"z":0})"), R"("z": expected null, got number 0)");
  EXPECT_EQ(verdict(*schema, R"({"s":null})"), R"("s": expected string, got null)");
  EXPECT_EQ(verdict(*schema, R"({"n":true})"), R"("n": expected number, got boolean true)");
}

TEST(InputSchemaType, IntegerIsANumberWithoutFraction) {
  auto schema = compiled(R"({"properties":{"i":{"type":"integer"},"n":{"type":"number"}}})");
  for (const char* whole : {"5", "-5", "5.0", "1e2", "0", "-0.0", "18446744073709551615"}) {
    EXPECT_EQ(verdict(*schema, std::string(R"({"i":)") + whole + "}"), "ok") << whole;
    EXPECT_EQ(verdict(*schema, std::string(R"({"n":)") + whole + "}"), "ok") << whole;
  }
  EXPECT_EQ(verdict(*schema, R"({"i":5.5})"), R"("i": expected integer, got number 5.5)");
  EXPECT_EQ(verdict(*schema, R"({"i":1e-3})"), R"("i": expected integer, got number 0.001)");
  EXPECT_EQ(verdict(*schema, R"({"n":5.5})"), "ok");
}

TEST(InputSchemaType, AListOfTypesAcceptsAnyOfThem) {
  auto schema = compiled(R"({"properties":{"v":{"type":["string","null"]},
                                           "w":{"type":["string","integer","null"]}}})");
  EXPECT_EQ(verdict(*schema, R"({"v":"x"})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":null})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":1})"), R"("v": expected string or null, got number 1)");
  EXPECT_EQ(verdict(*schema, R"({"w":[]})"), R"("w": expected string, integer or null, got array)");
}

TEST(InputSchemaType, NullableAddsNull) {
  auto schema = compiled(R"({"properties":{"v":{"type":"string","nullable":true}}})");
  EXPECT_EQ(verdict(*schema, R"({"v":null})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":2})"), R"("v": expected string or null, got number 2)");
}

TEST(InputSchemaType, NoTypeMeansAnyValue) {
  auto schema = compiled(R"({"properties":{"v":{"description":"anything"}}})");
  for (const char* v : {"1", "\"s\"", "null", "[]", "{}", "true"}) {
    EXPECT_EQ(verdict(*schema, std::string(R"({"v":)") + v + "}"), "ok") << v;
  }
}

TEST(InputSchemaType, LongStringsAreCutInMessages) {
  auto schema = compiled(R"({"properties":{"n":{"type":"number"}}})");
  std::string long_value(100, 'x');
  EXPECT_EQ(verdict(*schema, R"({"n":")" + long_value + "\"}"),
            R"("n": expected number, got string ")" + std::string(40, 'x') + "…\"");
  // Control characters are shown escaped, not raw.
  EXPECT_EQ(verdict(*schema, R"({"n":"a\nb"})"), R"("n": expected number, got string "a\nb")");
}

// ---- the arguments themselves ----

TEST(InputSchemaArguments, MustBeAJsonObject) {
  auto schema = InputSchema::any_object();
  EXPECT_EQ(verdict(*schema, "{}"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"anything":[1,{"x":null}]})"), "ok");
  EXPECT_EQ(verdict(*schema, "[1,2]"), "arguments: expected object, got array");
  EXPECT_EQ(verdict(*schema, "\"x\""), "arguments: expected object, got string \"x\"");
  EXPECT_EQ(verdict(*schema, "null"), "arguments: expected object, got null");
  EXPECT_EQ(field_of(*schema, "null"), "");
  // Even where the schema's type allows more.
  auto nullable = compiled(R"({"type":["object","null"]})");
  EXPECT_EQ(verdict(*nullable, "null"), "arguments: expected object, got null");
}

TEST(InputSchemaArguments, MalformedJsonIsARootViolation) {
  auto schema = InputSchema::any_object();
  EXPECT_EQ(verdict(*schema, "{\"a\":"), "arguments are not valid JSON");
  EXPECT_EQ(verdict(*schema, "{'a':1}"), "arguments are not valid JSON");
  EXPECT_EQ(verdict(*schema, "{} {}"), "arguments are not valid JSON");
  EXPECT_EQ(verdict(*schema, ""), "arguments are empty: expected a JSON object ({} for none)");
  EXPECT_EQ(verdict(*schema, R"({"a":01})"),
            "arguments are not valid JSON: a number is malformed or out of range");
  EXPECT_EQ(verdict(*schema, "{\"a\":\"\xff\"}"), "arguments are not valid UTF-8");
  // Valid JSON that no double holds, and a lone surrogate: refused, not misread.
  EXPECT_EQ(verdict(*schema, R"({"a":1e400})"),
            "arguments are not valid JSON: a number is malformed or out of range");
  EXPECT_EQ(verdict(*schema, R"({"a":123456789012345678901234567890})"),
            "arguments are not valid JSON: a number is malformed or out of range");
  EXPECT_EQ(verdict(*schema, R"({"a":"\ud800"})"),
            "arguments are not valid JSON: a string has a bad escape, a lone surrogate or a raw "
            "control character");
  EXPECT_EQ(field_of(*schema, "{\"a\":"), "");
}

TEST(InputSchemaArguments, DepthBombsAreRefusedWithoutRecursion) {
  auto schema = InputSchema::any_object();
  // A megabyte of nesting: the parser stops at kMaxArgumentsDepth; nothing recurses that deep.
  std::string bomb = "{\"a\":" + std::string(1 << 20, '[') + std::string(1 << 20, ']') + "}";
  EXPECT_EQ(verdict(*schema, bomb), "arguments nest deeper than 128 levels");
  std::string objects;
  for (int i = 0; i < 200; ++i) objects += "{\"a\":";
  objects += "1" + std::string(200, '}');
  EXPECT_EQ(verdict(*schema, objects), "arguments nest deeper than 128 levels");
  // Within the bound, deep arguments pass and an enum compares them whole.
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(verdict(*schema, deep), "ok");
  auto with_enum = compiled(R"({"properties":{"a":{"enum":[[]]}}})");
  EXPECT_EQ(verdict(*with_enum, deep), R"("a": must be one of [])");
}

TEST(InputSchemaArguments, LargeArgumentsAreCheckedAndTooLargeOnesRefused) {
  auto schema = compiled(R"({"properties":{"text":{"type":"string","maxLength":10}}})");
  // Past the per-thread parser's size: a parser of its own.
  std::string big = R"({"text":")" + std::string(300 << 10, 'x') + "\"}";
  EXPECT_EQ(verdict(*schema, big), R"("text": must be at most 10 characters long (got 307200))");
  EXPECT_EQ(verdict(*schema, R"({"text":"short"})"), "ok");  // the thread's parser still works
  std::string huge(InputSchema::kMaxArgumentsBytes + 1, ' ');
  EXPECT_EQ(verdict(*schema, huge), "arguments are larger than 32 MiB");
}

// ---- objects ----

TEST(InputSchemaObject, RequiredNamesTheMissingField) {
  auto schema = compiled(R"({"type":"object","properties":{"microdao_id":{"type":"string"}},
                             "required":["microdao_id"]})");
  auto violation = schema->check("{}");
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->field, "microdao_id");
  EXPECT_EQ(violation->message, R"("microdao_id" is required)");
  EXPECT_EQ(verdict(*schema, R"({"microdao_id":"m1"})"), "ok");
  // A null value is present (and then has the wrong type).
  EXPECT_EQ(verdict(*schema, R"({"microdao_id":null})"),
            R"("microdao_id": expected string, got null)");
}

TEST(InputSchemaObject, RequiredWithoutAPropertySchema) {
  auto schema = compiled(R"({"required":["a","b"]})");
  EXPECT_EQ(verdict(*schema, R"({"b":1,"a":2})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"a":1})"), R"("b" is required)");
}

TEST(InputSchemaObject, RequiredIsCheckedBeforeTheMembers) {
  auto schema = compiled(R"({"properties":{"a":{"type":"string"},"b":{"type":"string"}},
                             "required":["b"]})");
  EXPECT_EQ(verdict(*schema, R"({"a":1})"), R"("b" is required)");
}

TEST(InputSchemaObject, NestedObjectsGiveDottedFields) {
  auto schema = compiled(R"({"properties":{"filters":{"type":"object",
      "properties":{"since":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}},
      "required":["since"]}}})");
  auto violation = schema->check(R"({"filters":{"tags":["a"]}})");
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->field, "filters.since");
  EXPECT_EQ(violation->message, R"("filters.since" is required)");
  violation = schema->check(R"({"filters":{"since":"x","tags":["a",2]}})");
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->field, "filters.tags[1]");
  EXPECT_EQ(violation->message, R"("filters.tags[1]": expected string, got number 2)");
}

TEST(InputSchemaObject, KeysThatAreNotPlainNamesAreBracketed) {
  auto schema = compiled(R"({"properties":{"a.b":{"type":"object",
                             "properties":{"c d":{"type":"integer"}}}}})");
  auto violation = schema->check(R"({"a.b":{"c d":"x"}})");
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->field, R"(["a.b"]["c d"])");
  // Escaped keys are compared decoded.
  EXPECT_EQ(verdict(*schema, R"({"a\u002eb":{"c d":1}})"), "ok");
}

TEST(InputSchemaObject, AdditionalPropertiesFalseRefusesUnknownMembers) {
  auto schema = compiled(R"({"properties":{"a":{},"b":{}},"additionalProperties":false})");
  EXPECT_EQ(verdict(*schema, R"({"a":1,"b":2})"), "ok");
  auto violation = schema->check(R"({"a":1,"x":2})");
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->field, "x");
  EXPECT_EQ(violation->message, R"("x" is not allowed (additionalProperties: false))");
  auto nested = compiled(R"({"properties":{"f":{"properties":{},"additionalProperties":false}}})");
  EXPECT_EQ(verdict(*nested, R"({"f":{"y":1}})"),
            R"("f.y" is not allowed (additionalProperties: false))");
}

TEST(InputSchemaObject, AdditionalPropertiesSchemaChecksOtherMembers) {
  auto schema = compiled(R"({"properties":{"id":{"type":"string"}},
                             "additionalProperties":{"type":"integer"}})");
  EXPECT_EQ(verdict(*schema, R"({"id":"x","n":1,"m":2})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"id":"x","n":"1"})"), R"("n": expected integer, got string "1")");
  auto open = compiled(R"({"properties":{"a":{}},"additionalProperties":true})");
  EXPECT_EQ(verdict(*open, R"({"z":[]})"), "ok");
}

TEST(InputSchemaObject, ManyPropertiesAreAllTracked) {
  // More declared properties than one 64-bit word of "seen" marks.
  std::string properties, required, arguments;
  for (int i = 0; i < 100; ++i) {
    std::string name = "p" + std::to_string(i);
    properties += (i ? "," : "") + ("\"" + name + "\":{\"type\":\"integer\"}");
    required += (i ? "," : "") + ("\"" + name + "\"");
    if (i != 77)
      arguments += (arguments.empty() ? "" : ",") + ("\"" + name + "\":" + std::to_string(i));
  }
  auto schema = compiled("{\"properties\":{" + properties + "},\"required\":[" + required + "]}");
  EXPECT_EQ(verdict(*schema, "{" + arguments + "}"), R"("p77" is required)");
  EXPECT_EQ(verdict(*schema, "{" + arguments + ",\"p77\":77}"), "ok");
}

TEST(InputSchemaObject, PropertyCountBounds) {
  auto schema = compiled(R"({"minProperties":1,"maxProperties":2})");
  EXPECT_EQ(verdict(*schema, "{}"), "arguments: must have at least 1 property (got 0)");
  EXPECT_EQ(verdict(*schema, R"({"a":1})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"a":1,"b":2,"c":3})"),
            "arguments: must have at most 2 properties (got 3)");
}

TEST(InputSchemaObject, FalseSchemaForbidsAProperty) {
  auto schema = compiled(R"({"properties":{"legacy":false,"ok":true}})");
  EXPECT_EQ(verdict(*schema, R"({"ok":[1]})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"legacy":1})"), R"("legacy" is not allowed)");
}

// ---- arrays ----

TEST(InputSchemaArray, ItemsAndCounts) {
  auto schema = compiled(R"({"properties":{"tags":{"type":"array","items":{"type":"string"},
                                                    "minItems":1,"maxItems":3}}})");
  EXPECT_EQ(verdict(*schema, R"({"tags":["a","b"]})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"tags":[]})"), R"("tags": must have at least 1 item (got 0))");
  EXPECT_EQ(verdict(*schema, R"({"tags":["a","b","c","d"]})"),
            R"("tags": must have at most 3 items (got 4))");
  EXPECT_EQ(verdict(*schema, R"({"tags":["a",true]})"),
            R"("tags[1]": expected string, got boolean true)");
}

TEST(InputSchemaArray, ArraysOfObjects) {
  auto schema = compiled(R"({"properties":{"rows":{"items":{"properties":{"n":{"maximum":9}},
                                                                "required":["n"]}}}})");
  EXPECT_EQ(verdict(*schema, R"({"rows":[{"n":1},{"n":9}]})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"rows":[{"n":1},{}]})"), R"("rows[1].n" is required)");
  EXPECT_EQ(verdict(*schema, R"({"rows":[{"n":10}]})"),
            R"("rows[0].n": 10 is above the maximum 9)");
}

// ---- strings ----

TEST(InputSchemaString, LengthCountsCodePointsNotBytes) {
  auto schema = compiled(R"({"properties":{"s":{"type":"string","minLength":2,"maxLength":5}}})");
  EXPECT_EQ(verdict(*schema, R"({"s":"héllo"})"), "ok");         // 6 bytes, 5 code points
  EXPECT_EQ(verdict(*schema, R"({"s":"😀😀"})"), "ok");            // 8 bytes, 2 code points
  EXPECT_EQ(verdict(*schema, R"({"s":"\u00e9\u00e9"})"), "ok");  // escapes decode first
  EXPECT_EQ(verdict(*schema, R"({"s":"é"})"), R"("s": must be at least 2 characters long (got 1))");
  EXPECT_EQ(verdict(*schema, R"({"s":"日本語のテキスト"})"),
            R"("s": must be at most 5 characters long (got 8))");
}

TEST(InputSchemaString, LengthBoundsApplyToStringsOnly) {
  auto schema = compiled(R"({"properties":{"v":{"minLength":3}}})");
  EXPECT_EQ(verdict(*schema, R"({"v":1})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":"ab"})"),
            R"("v": must be at least 3 characters long (got 2))");
}

// ---- numbers ----

TEST(InputSchemaNumber, InclusiveBounds) {
  auto schema =
      compiled(R"({"properties":{"limit":{"type":"integer","minimum":1,"maximum":100}}})");
  EXPECT_EQ(verdict(*schema, R"({"limit":1})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"limit":100})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"limit":500})"), R"("limit": 500 is above the maximum 100)");
  EXPECT_EQ(verdict(*schema, R"({"limit":0})"), R"("limit": 0 is below the minimum 1)");
  EXPECT_EQ(verdict(*schema, R"({"limit":-3})"), R"("limit": -3 is below the minimum 1)");
}

TEST(InputSchemaNumber, ExclusiveBounds) {
  auto schema = compiled(R"({"properties":{"t":{"exclusiveMinimum":0,"exclusiveMaximum":1.5}}})");
  EXPECT_EQ(verdict(*schema, R"({"t":0.5})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"t":0})"), R"("t": 0 is not above the exclusive minimum 0)");
  EXPECT_EQ(verdict(*schema, R"({"t":1.5})"), R"("t": 1.5 is not below the exclusive maximum 1.5)");
}

TEST(InputSchemaNumber, Draft4BooleanExclusiveBounds) {
  auto schema = compiled(R"({"properties":{"t":{"minimum":0,"exclusiveMinimum":true,
                                                "maximum":10,"exclusiveMaximum":false}}})");
  EXPECT_EQ(verdict(*schema, R"({"t":10})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"t":0})"), R"("t": 0 is not above the exclusive minimum 0)");
}

TEST(InputSchemaNumber, BoundsApplyToNumbersOnly) {
  auto schema = compiled(R"({"properties":{"v":{"maximum":1}}})");
  EXPECT_EQ(verdict(*schema, R"({"v":"999"})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":1.25})"), R"("v": 1.25 is above the maximum 1)");
}

// ---- enum and const ----

TEST(InputSchemaEnum, StringsAndMessage) {
  auto schema = compiled(R"({"properties":{"color":{"type":"string","enum":["red","green"]}}})");
  EXPECT_EQ(verdict(*schema, R"({"color":"green"})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"color":"blue"})"), R"("color": must be one of "red", "green")");
  EXPECT_EQ(verdict(*schema, R"({"color":"Red"})"), R"("color": must be one of "red", "green")");
}

TEST(InputSchemaEnum, ComparedAsJsonValues) {
  auto schema = compiled(R"({"properties":{"v":{"enum":[1,"1",null,{"a":1,"b":[true]}]}}})");
  EXPECT_EQ(verdict(*schema, R"({"v":1})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":1.0})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":"1"})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":null})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":{"b":[true],"a":1}})"), "ok");  // key order is free
  EXPECT_EQ(verdict(*schema, R"({"v":{"a":1}})"),
            R"("v": must be one of 1, "1", null, {"a":1,"b":[true]})");
  EXPECT_EQ(verdict(*schema, R"({"v":2})"),
            R"("v": must be one of 1, "1", null, {"a":1,"b":[true]})");
  EXPECT_EQ(verdict(*schema, R"({"v":true})"),
            R"("v": must be one of 1, "1", null, {"a":1,"b":[true]})");
}

TEST(InputSchemaEnum, LongEnumsAreShortenedInMessages) {
  std::string values;
  for (int i = 0; i < 30; ++i) values += (i ? "," : "") + std::to_string(i);
  auto schema = compiled("{\"properties\":{\"n\":{\"enum\":[" + values + "]}}}");
  EXPECT_EQ(verdict(*schema, R"({"n":29})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"n":30})"),
            R"("n": must be one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (30 values))");
}

TEST(InputSchemaEnum, Const) {
  auto schema = compiled(R"({"properties":{"kind":{"const":"issue"},"n":{"const":2}}})");
  EXPECT_EQ(verdict(*schema, R"({"kind":"issue","n":2.0})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"kind":"pr"})"), R"("kind": must be "issue")");
  EXPECT_EQ(verdict(*schema, R"({"n":3})"), R"("n": must be 2)");
}

// ---- anyOf, oneOf, allOf ----

TEST(InputSchemaCombinators, AnyOf) {
  auto schema = compiled(R"({"properties":{"id":{"anyOf":[{"type":"string","minLength":1},
                                                           {"type":"integer","minimum":0}]}}})");
  EXPECT_EQ(verdict(*schema, R"({"id":"x"})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"id":7})"), "ok");
  auto violation = schema->check(R"({"id":-1})");
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->field, "id");
  EXPECT_EQ(violation->message,
            R"("id": matches none of the anyOf schemas: (1) expected string, got number -1; )"
            R"((2) -1 is below the minimum 0)");
}

TEST(InputSchemaCombinators, AnyOfReasonAboutANestedFieldKeepsItsName) {
  auto schema = compiled(R"({"anyOf":[{"required":["a"]},{"required":["b"]}]})");
  EXPECT_EQ(verdict(*schema, R"({"b":1})"), "ok");
  EXPECT_EQ(verdict(*schema, "{}"),
            R"(arguments: matches none of the anyOf schemas: (1) "a" is required; )"
            R"((2) "b" is required)");
}

TEST(InputSchemaCombinators, OneOf) {
  auto schema =
      compiled(R"({"properties":{"v":{"oneOf":[{"type":"integer"},{"type":"number"}]}}})");
  EXPECT_EQ(verdict(*schema, R"({"v":1.5})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":2})"),
            R"("v": matches more than one of the oneOf schemas; exactly one must match)");
  EXPECT_EQ(verdict(*schema, R"({"v":"x"})"),
            R"("v": matches none of the oneOf schemas: (1) expected integer, got string "x"; )"
            R"((2) expected number, got string "x")");
}

TEST(InputSchemaCombinators, AllOfReportsTheFirstFailingBranchItself) {
  auto schema = compiled(R"({"properties":{"n":{"allOf":[{"type":"integer"},{"maximum":5}]}}})");
  EXPECT_EQ(verdict(*schema, R"({"n":5})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"n":6})"), R"("n": 6 is above the maximum 5)");
  EXPECT_EQ(verdict(*schema, R"({"n":"6"})"), R"("n": expected integer, got string "6")");
}

TEST(InputSchemaCombinators, NestedCombinatorsInsideATrial) {
  // anyOf inside oneOf: the inner one is tried quietly too, and still decides right.
  auto schema = compiled(R"({"properties":{"v":{"oneOf":[
      {"anyOf":[{"type":"string"},{"type":"null"}]},
      {"type":"array","items":{"anyOf":[{"type":"integer"},{"const":"x"}]}}]}}})");
  EXPECT_EQ(verdict(*schema, R"({"v":null})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"v":[1,"x",3]})"), "ok");
  EXPECT_EQ(field_of(*schema, R"({"v":[1,"y"]})"), "v");
}

TEST(InputSchemaCombinators, ManyBranchesAreShortenedInMessages) {
  auto schema = compiled(R"({"properties":{"v":{"anyOf":[{"const":1},{"const":2},{"const":3},
                                                          {"const":4},{"const":5}]}}})");
  EXPECT_EQ(verdict(*schema, R"({"v":0})"),
            R"("v": matches none of the anyOf schemas: (1) must be 1; (2) must be 2; )"
            R"((3) must be 3; (4) must be 4; …)");
}

// ---- what is not checked ----

TEST(InputSchemaUnchecked, AnnotationsAreIgnoredSilently) {
  auto schema = compiled(R"({"$schema":"https://json-schema.org/draft/2020-12/schema",
      "$id":"x","title":"T","description":"D","$comment":"c","examples":[{}],"default":{},
      "properties":{"when":{"type":"string","format":"date-time","deprecated":true,
                            "readOnly":false,"default":"now"}},
      "$defs":{"unused":{"type":"string"}}})");
  EXPECT_TRUE(schema->unchecked_keywords().empty());
  // format is an annotation: not asserted.
  EXPECT_EQ(verdict(*schema, R"({"when":"yesterday"})"), "ok");
}

TEST(InputSchemaUnchecked, UnsupportedKeywordsAreRecordedOnceAndNotEnforced) {
  auto schema = compiled(R"({"type":"object","properties":{
      "repo":{"type":"string","pattern":"^[a-z]+$"},
      "owner":{"type":"string","pattern":"^x"},
      "ref":{"$ref":"#/$defs/ref"},
      "pair":{"type":"array","items":[{"type":"string"},{"type":"integer"}]},
      "n":{"not":{"type":"string"},"multipleOf":2},
      "x":{"if":{},"then":{},"else":{}}},
    "patternProperties":{"^z":{}},"requried":["repo"]})");
  EXPECT_EQ(schema->unchecked_keywords(),
            (std::vector<std::string>{"pattern", "$ref", "items (a list)", "not", "multipleOf",
                                      "if", "then", "else", "patternProperties", "requried"}))
      << "each once, in the order met";
  // None of them is enforced; the rest of the schema still is.
  EXPECT_EQ(verdict(*schema, R"({"repo":"UPPER","ref":5,"pair":[1,"a"],"n":"s","zz":1})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"repo":5})"), R"("repo": expected string, got number 5)");
}

// ---- malformed schemas ----

TEST(InputSchemaCompile, ErrorsNameTheKeywordPath) {
  EXPECT_EQ(compile_error(R"({"properties":{"limit":{"type":"integer","minimum":"1"}}})"),
            "input_schema.properties.limit.minimum: expected a number");
  EXPECT_EQ(compile_error(R"({"properties":{"a":{"type":"strng"}}})"),
            R"(input_schema.properties.a.type: "strng" is not a JSON Schema type (object, )"
            R"(array, string, number, integer, boolean, null))");
  EXPECT_EQ(compile_error(R"({"type":["string",5]})"),
            R"(input_schema.type: expected a type name or a list of them, e.g. "string" or )"
            R"(["string", "null"])");
  EXPECT_EQ(compile_error(R"({"type":[]})"), "input_schema.type: expected at least one type name");
  EXPECT_EQ(compile_error(R"({"required":"a"})"),
            "input_schema.required: expected a list of property names");
  EXPECT_EQ(compile_error(R"({"required":["a",1]})"),
            "input_schema.required: expected a list of property names (strings)");
  EXPECT_EQ(compile_error(R"({"properties":[]})"),
            "input_schema.properties: expected an object of schemas, one per property");
  EXPECT_EQ(compile_error(R"({"properties":{"a":5}})"),
            "input_schema.properties.a: expected a schema (an object, or true/false)");
  EXPECT_EQ(compile_error(R"({"properties":{"s":{"maxLength":-1}}})"),
            "input_schema.properties.s.maxLength: expected a non-negative integer");
  EXPECT_EQ(compile_error(R"({"properties":{"s":{"minItems":1.5}}})"),
            "input_schema.properties.s.minItems: expected a non-negative integer");
  EXPECT_EQ(compile_error(R"({"properties":{"e":{"enum":"red"}}})"),
            "input_schema.properties.e.enum: expected a list of the allowed values");
  EXPECT_EQ(compile_error(R"({"properties":{"e":{"enum":[]}}})"),
            "input_schema.properties.e.enum: expected at least one allowed value");
  EXPECT_EQ(compile_error(R"({"anyOf":[{"type":"object"},{"type":"bad"}]})"),
            R"(input_schema.anyOf[1].type: "bad" is not a JSON Schema type (object, array, )"
            R"(string, number, integer, boolean, null))");
  EXPECT_EQ(compile_error(R"({"oneOf":{}})"), "input_schema.oneOf: expected a list of schemas");
  EXPECT_EQ(compile_error(R"({"allOf":[]})"), "input_schema.allOf: expected at least one schema");
  EXPECT_EQ(compile_error(R"({"items":{"exclusiveMaximum":"x"}})"),
            "input_schema.items.exclusiveMaximum: expected a number");
  EXPECT_EQ(compile_error(R"({"additionalProperties":1})"),
            "input_schema.additionalProperties: expected a schema (an object, or true/false)");
  EXPECT_EQ(compile_error(R"({"nullable":"yes"})"),
            "input_schema.nullable: expected true or false");
}

TEST(InputSchemaCompile, TheRootIsAnObjectSchemaForObjects) {
  EXPECT_EQ(compile_error("[]"),
            R"(input_schema: expected a JSON Schema object, e.g. {"type": "object", )"
            R"("properties": {}})");
  EXPECT_EQ(compile_error("true"),
            R"(input_schema: expected a JSON Schema object, e.g. {"type": "object", )"
            R"("properties": {}})");
  EXPECT_EQ(compile_error(R"({"type":"string"})"),
            R"(input_schema.type: a tool's arguments are a JSON object: the type must be (or )"
            R"(include) "object")");
  EXPECT_NE(compiled(R"({"type":["null","object"]})"), nullptr);
  EXPECT_NE(compiled("{}"), nullptr);
}

TEST(InputSchemaCompile, NotJson) {
  std::string error = compile_error("{\"type\":");
  EXPECT_EQ(error.rfind("input_schema: not valid JSON (", 0), 0u) << error;
}

TEST(InputSchemaCompile, NestingIsBounded) {
  // 32 schemas deep is accepted; 33 is not.
  auto nest = [](int schemas) {
    std::string text;
    for (int i = 1; i < schemas; ++i) text += R"({"items":)";
    text += "{}";
    for (int i = 1; i < schemas; ++i) text += "}";
    return text;
  };
  EXPECT_NE(compiled(nest(InputSchema::kMaxSchemaDepth)), nullptr);
  std::string error = compile_error(nest(InputSchema::kMaxSchemaDepth + 1));
  EXPECT_NE(error.find(": nested deeper than 32 schemas"), std::string::npos) << error;
  EXPECT_EQ(error.rfind("input_schema.items.items.", 0), 0u) << error;
  // JSON nesting itself (e.g. a bomb inside an enum) stops at the parser.
  std::string bomb = R"({"enum":[)" + std::string(100000, '[') + std::string(100000, ']') + "]}";
  EXPECT_EQ(compile_error(bomb), "input_schema: nested deeper than 128 levels of JSON");
}

TEST(InputSchemaCompile, SizeIsBounded) {
  std::string big = R"({"description":")" + std::string(InputSchema::kMaxSchemaBytes, 'x') + "\"}";
  EXPECT_EQ(compile_error(big),
            "input_schema: larger than 1 MiB of JSON; sluice checks smaller schemas only");
}

TEST(InputSchemaCompile, SchemaCountIsBounded) {
  std::string branches;
  for (size_t i = 0; i < InputSchema::kMaxSchemaNodes; ++i) branches += i ? ",{}" : "{}";
  EXPECT_EQ(compile_error(R"({"anyOf":[)" + branches + "]}"),
            "input_schema.anyOf[9999]: more than 10000 schemas in all");
  // The root and 9999 branches are fine.
  branches.resize(branches.size() - 3);
  EXPECT_NE(compiled(R"({"anyOf":[)" + branches + "]}"), nullptr);
}

TEST(InputSchemaCompile, ADuplicatedPropertyKeepsTheLastDefinition) {
  auto schema = compiled(R"({"properties":{"a":{"type":"string"},"a":{"type":"integer"}}})");
  EXPECT_EQ(verdict(*schema, R"({"a":1})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"a":"x"})"), R"("a": expected integer, got string "x")");
}

// ---- a realistic upstream MCP tool ----

// The shape of GitHub's MCP server's create_issue (made with zod-to-json-schema), with a few
// keywords sluice does not check.
constexpr std::string_view kCreateIssue = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "owner": {"type": "string", "description": "Repository owner", "minLength": 1},
    "repo": {"type": "string", "description": "Repository name", "pattern": "^[\\w.-]+$"},
    "title": {"type": "string", "description": "Issue title", "minLength": 1, "maxLength": 256},
    "body": {"type": "string", "description": "Issue body content"},
    "assignees": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
    "labels": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    "milestone": {"type": ["number", "null"], "minimum": 1},
    "type": {"type": "string", "enum": ["bug", "feature", "task"]},
    "metadata": {
      "type": "object",
      "properties": {"priority": {"type": "integer", "minimum": 0, "maximum": 3},
                     "estimate": {"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                                            {"type": "string", "format": "duration"}]}},
      "additionalProperties": false
    }
  },
  "required": ["owner", "repo", "title"],
  "additionalProperties": false
})";

TEST(InputSchemaRealistic, GithubCreateIssue) {
  auto schema = compiled(kCreateIssue);
  EXPECT_EQ(schema->unchecked_keywords(), (std::vector<std::string>{"pattern", "uniqueItems"}));
  EXPECT_EQ(verdict(*schema, R"({"owner":"octo","repo":"hello","title":"Crash on start"})"), "ok");
  EXPECT_EQ(verdict(*schema, R"({"owner":"octo","repo":"hello","title":"T","body":"b",
      "assignees":["a","a"],"labels":["bug"],"milestone":null,"type":"bug",
      "metadata":{"priority":3,"estimate":"2h"}})"),
            "ok");
  EXPECT_EQ(verdict(*schema, R"({"owner":"octo","title":"T"})"), R"("repo" is required)");
  EXPECT_EQ(verdict(*schema, R"({"owner":"octo","repo":"r","title":""})"),
            R"("title": must be at least 1 character long (got 0))");
  EXPECT_EQ(verdict(*schema, R"({"owner":"octo","repo":"r","title":"T","milestone":0})"),
            R"("milestone": 0 is below the minimum 1)");
  EXPECT_EQ(verdict(*schema, R"({"owner":"octo","repo":"r","title":"T","type":"epic"})"),
            R"("type": must be one of "bug", "feature", "task")");
  EXPECT_EQ(verdict(*schema, R"({"owner":"octo","repo":"r","title":"T","labels":["a",1]})"),
            R"("labels[1]": expected string, got number 1)");
  EXPECT_EQ(
      verdict(*schema, R"({"owner":"octo","repo":"r","title":"T","metadata":{"priority":4}})"),
      R"("metadata.priority": 4 is above the maximum 3)");
  EXPECT_EQ(
      verdict(*schema, R"({"owner":"octo","repo":"r","title":"T","metadata":{"estimate":0}})"),
      R"("metadata.estimate": matches none of the anyOf schemas: (1) 0 is not above the )"
      R"(exclusive minimum 0; (2) expected string, got number 0)");
  EXPECT_EQ(verdict(*schema, R"({"owner":"octo","repo":"r","title":"T","metadata":{"x":1}})"),
            R"("metadata.x" is not allowed (additionalProperties: false))");
  EXPECT_EQ(verdict(*schema, R"({"owner":"octo","repo":"r","title":"T","assignee":"me"})"),
            R"("assignee" is not allowed (additionalProperties: false))");
}

TEST(InputSchemaRealistic, CheckedFromManyThreadsAtOnce) {
  auto schema = compiled(kCreateIssue);
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        auto good = schema->check(R"({"owner":"o","repo":"r","title":"T","labels":["x"]})");
        auto bad = schema->check(R"({"owner":"o","repo":"r","title":"T","labels":[1]})");
        if (good || !bad || bad->field != "labels[0]") ++wrong[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong, (std::vector<int>{0, 0, 0, 0}));
}

// ---- single_tool_source ----

class NoExecutor : public ToolExecutor {
 public:
  explicit NoExecutor(bool* destroyed = nullptr) : destroyed_(destroyed) {}
  ~NoExecutor() override {
    if (destroyed_) *destroyed_ = true;
  }
  std::unique_ptr<PendingCall> start(const CallContext&, CallSink&, CallResult&) const override {
    return nullptr;
  }

 private:
  bool* destroyed_;
};

config::ToolSpec spec_named(std::string name) {
  config::ToolSpec spec;
  spec.name = std::move(name);
  spec.type = "lua";
  spec.mark = {"sluice.yaml", 40, 3};
  spec.input_schema_mark = {"sluice.yaml", 44, 19};
  spec.timeout = std::chrono::seconds(7);
  return spec;
}

TEST(SingleToolSource, ASchemaErrorPointsAtInputSchema) {
  config::ToolSpec spec = spec_named("projects.list");
  spec.input_schema_json = R"({"type":"object","properties":{"limit":{"minimum":"one"}}})";
  try {
    single_tool_source(spec, "", "", std::make_unique<NoExecutor>());
    FAIL() << "no error";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.mark().file, "sluice.yaml");
    EXPECT_EQ(e.mark().line, 44);
    EXPECT_EQ(e.mark().column, 19);
    EXPECT_EQ(e.key_path(), "tools.projects.list.input_schema.properties.limit.minimum");
    EXPECT_STREQ(e.what(),
                 "sluice.yaml:44:19: tools.projects.list.input_schema.properties.limit.minimum: "
                 "expected a number");
  }
}

TEST(SingleToolSource, TheToolsOwnSchemaIsCheckedToo) {
  config::ToolSpec spec = spec_named("text.shout");
  try {
    single_tool_source(spec, "", "[1]", std::make_unique<NoExecutor>());
    FAIL() << "no error";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.key_path(), "tools.text.shout.input_schema");
    EXPECT_EQ(e.mark().line, 44);
  }
}

TEST(SingleToolSource, BuildsOneEntry) {
  config::ToolSpec spec = spec_named("projects.list");
  spec.description = "List the projects of a microdao";
  spec.input_schema_json = R"({"type":"object","required":["microdao_id"]})";
  auto source = single_tool_source(spec, "the tool's own words", R"({"type":"object"})",
                                   std::make_unique<NoExecutor>());
  auto list = source->tools();
  ASSERT_EQ(list->size(), 1u);
  const ToolEntry& entry = list->front();
  EXPECT_EQ(entry.name, "projects.list");
  EXPECT_EQ(entry.function_name, "projects_list");
  EXPECT_EQ(entry.description, "List the projects of a microdao");  // the operator's wins
  EXPECT_EQ(entry.input_schema_json, spec.input_schema_json);       // so does their schema
  ASSERT_NE(entry.schema, nullptr);
  EXPECT_EQ(verdict(*entry.schema, "{}"), R"("microdao_id" is required)");
  EXPECT_EQ(entry.timeout, std::chrono::seconds(7));
  EXPECT_NE(entry.executor, nullptr);
  EXPECT_EQ(source->tools(), list) << "a static source gives the same list every time";
  EXPECT_EQ(source->version(), 0u);
}

TEST(SingleToolSource, WithoutASchemaArgumentsAreAnyObject) {
  auto source = single_tool_source(spec_named("t"), "own", "", std::make_unique<NoExecutor>());
  const ToolEntry& entry = source->tools()->front();
  EXPECT_EQ(entry.description, "own");
  EXPECT_EQ(entry.input_schema_json, R"({"type":"object"})");
  EXPECT_EQ(verdict(*entry.schema, R"({"x":1})"), "ok");
  EXPECT_EQ(verdict(*entry.schema, "[]"), "arguments: expected object, got array");
}

TEST(SingleToolSource, UncheckedKeywordsAreWarnedOnceNotRefused) {
  config::ToolSpec spec = spec_named("gh.search");
  spec.input_schema_json = R"({"type":"object","properties":{"q":{"pattern":"x","not":{}}}})";
  testing::internal::CaptureStderr();
  auto source = single_tool_source(spec, "", "", std::make_unique<NoExecutor>());
  // A reload builds the source again: the warning is not repeated.
  auto reloaded = single_tool_source(spec, "", "", std::make_unique<NoExecutor>());
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(source->tools()->front().schema->unchecked_keywords(),
            (std::vector<std::string>{"pattern", "not"}));
  const std::string line =
      "sluice warn: tool gh.search: input_schema keywords sluice does not check (calls are "
      "checked against the rest of the schema only): pattern, not\n";
  ASSERT_NE(log.find(line), std::string::npos) << log;
  EXPECT_EQ(log.find(line, log.find(line) + 1), std::string::npos) << log;
}

TEST(SingleToolSource, AHeldListKeepsItsExecutor) {
  // A call in flight holds the list while a reload drops the source: the executor must live.
  bool destroyed = false;
  auto source =
      single_tool_source(spec_named("t"), "", "", std::make_unique<NoExecutor>(&destroyed));
  std::shared_ptr<const ToolList> held = source->tools();
  source.reset();
  EXPECT_FALSE(destroyed);
  held.reset();
  EXPECT_TRUE(destroyed);
}

}  // namespace
}  // namespace sluice::tools
