// parse_request_fields: what sluice reads from a request body, and which bodies it refuses
// (and with what message). Plus the body splices the router makes from those offsets.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>
#include <span>
#include <string>

#include "core/json/body_splice.h"
#include "core/json/dom_stand_ins.h"
#include "core/json/request_fields.h"

namespace sluice::json {
namespace {

struct Parsed {
  ParseResult result;
  RequestFields fields;
  std::string body;
};

Parsed parse(std::string body, bool pad = true) {
  Parsed p;
  p.body = std::move(body);
  if (pad) ensure_padding(p.body);
  p.result = parse_request_fields(p.body, &p.fields);
  return p;
}

std::string model_token(const Parsed& p) {
  return p.body.substr(p.fields.model_begin, p.fields.model_end - p.fields.model_begin);
}

// ---- fields read ---------------------------------------------------------------------------

TEST(RequestFields, ReadsModelStreamAndMaxTokens) {
  auto p = parse(R"({"model":"fast","messages":[{"role":"user","content":"hi"}],"stream":true,)"
                 R"("max_tokens":256})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_TRUE(p.fields.has_model);
  EXPECT_EQ(p.fields.model, "fast");
  EXPECT_EQ(model_token(p), "\"fast\"");
  EXPECT_TRUE(p.fields.stream);
  EXPECT_EQ(p.fields.max_tokens, 256);
  EXPECT_FALSE(p.fields.has_stream_options);
  EXPECT_EQ(p.fields.object_begin, 1u);
}

TEST(RequestFields, ModelRangeExcludesSurroundingWhitespace) {
  auto p = parse("\n  {  \"model\"  :\t \"fast\"  \n , \"stream\" : false }  \n");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_EQ(p.fields.model, "fast");
  EXPECT_EQ(model_token(p), "\"fast\"");
  EXPECT_FALSE(p.fields.stream);
  EXPECT_EQ(p.body[p.fields.object_begin - 1], '{');
  EXPECT_EQ(p.fields.object_begin, 4u);
}

TEST(RequestFields, ModelAsLastMemberWithoutWhitespace) {
  auto p = parse(R"({"stream":false,"model":"m"})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_EQ(model_token(p), "\"m\"");
}

TEST(RequestFields, EscapedModelIsDecodedAndRangeCoversRawToken) {
  auto p = parse(R"({"model":"a\"b\\c\u00e9\n","x":1})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_EQ(p.fields.model, "a\"b\\c\xc3\xa9\n");
  EXPECT_EQ(model_token(p), R"("a\"b\\c\u00e9\n")");
}

TEST(RequestFields, EscapedKeyIsTheSameKey) {
  // A provider's parser reads "mod\u0065l" as "model"; so must sluice, or the allow-list
  // would check one model while the provider serves another.
  auto p = parse(R"({"mod\u0065l":"fast"})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_EQ(p.fields.model, "fast");
}

TEST(RequestFields, StreamFalseAndAbsent) {
  EXPECT_FALSE(parse(R"({"model":"m","stream":false})").fields.stream);
  EXPECT_FALSE(parse(R"({"model":"m"})").fields.stream);
  EXPECT_TRUE(parse(R"({"model":"m","stream":true})").fields.stream);
}

TEST(RequestFields, MaxTokensVariants) {
  EXPECT_EQ(parse(R"({"max_completion_tokens":100})").fields.max_tokens, 100);
  EXPECT_EQ(parse(R"({"max_output_tokens":7})").fields.max_tokens, 7);
  EXPECT_EQ(parse(R"({"max_tokens":0})").fields.max_tokens, 0);
  EXPECT_FALSE(parse(R"({"model":"m"})").fields.max_tokens.has_value());
  // Several: the largest, what a budget has to reserve for.
  EXPECT_EQ(parse(R"({"max_tokens":10,"max_completion_tokens":300})").fields.max_tokens, 300);
  EXPECT_EQ(parse(R"({"max_completion_tokens":300,"max_tokens":10})").fields.max_tokens, 300);
}

TEST(RequestFields, NullMeansAbsent) {
  auto p = parse(R"({"model":null,"stream":null,"max_tokens":null,"stream_options":null})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_FALSE(p.fields.has_model);
  EXPECT_FALSE(p.fields.stream);
  EXPECT_FALSE(p.fields.max_tokens.has_value());
  EXPECT_FALSE(p.fields.has_stream_options);
}

TEST(RequestFields, StreamOptionsIncludeUsage) {
  auto p = parse(R"({"model":"m","stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_TRUE(p.fields.has_stream_options);
  EXPECT_TRUE(p.fields.include_usage);

  auto q = parse(R"({"stream_options":{"include_usage":false,"other":[1,{"a":null}]}})");
  ASSERT_EQ(q.result.status, ParseStatus::Ok);
  EXPECT_TRUE(q.fields.has_stream_options);
  EXPECT_FALSE(q.fields.include_usage);

  auto r = parse(R"({"stream_options":{}})");
  ASSERT_EQ(r.result.status, ParseStatus::Ok);
  EXPECT_TRUE(r.fields.has_stream_options);
  EXPECT_FALSE(r.fields.include_usage);
}

TEST(RequestFields, ModelAbsent) {
  auto p = parse(R"({"messages":[]})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_FALSE(p.fields.has_model);
  EXPECT_EQ(p.fields.model, "");
}

TEST(RequestFields, OtherValuesOfEveryKindAreAccepted) {
  auto p = parse(
      R"({"model":"m","a":[],"b":{},"c":[[[]]],"d":-0.5e+10,"e":1E-2,"f":0,)"
      R"("g":123456789012345678901234567890,"h":1e400,"i":"\ud83d\ude00","j":[true,false,null]})");
  EXPECT_EQ(p.result.status, ParseStatus::Ok);
}

TEST(RequestFields, HugeBody) {
  std::string body = R"({"messages":[)";
  for (int i = 0; i < 40000; ++i) {
    if (i) body += ',';
    body += R"({"role":"user","content":"a fairly long line of text \" with escapes \n"})";
  }
  body += R"(],"model":"fast","stream":true})";
  ASSERT_GT(body.size(), 2u << 20);  // also takes the one-off parser path
  auto p = parse(body);
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_EQ(p.fields.model, "fast");
  EXPECT_EQ(model_token(p), "\"fast\"");
  EXPECT_TRUE(p.fields.stream);

  std::string broken = body;
  broken[broken.size() / 2] = ']';  // somewhere inside, far from the fields read
  EXPECT_EQ(parse(broken).result.status, ParseStatus::NotJson);
}

TEST(RequestFields, WithoutPaddingAParsedCopyGivesTheSameOffsets) {
  std::string body = R"({ "model" : "fast" })";
  body.shrink_to_fit();
  auto p = parse(body, /*pad=*/false);
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_EQ(model_token(p), "\"fast\"");
}

TEST(RequestFields, ReusedFieldsAreReset) {
  RequestFields fields;
  std::string a =
      R"({"model":"first","stream":true,"max_tokens":5,"stream_options":{"include_usage":true}})";
  std::string b = R"({"messages":[]})";
  ensure_padding(a);
  ensure_padding(b);
  ASSERT_EQ(parse_request_fields(a, &fields).status, ParseStatus::Ok);
  ASSERT_EQ(parse_request_fields(b, &fields).status, ParseStatus::Ok);
  EXPECT_FALSE(fields.has_model);
  EXPECT_EQ(fields.model, "");
  EXPECT_FALSE(fields.stream);
  EXPECT_FALSE(fields.max_tokens);
  EXPECT_FALSE(fields.has_stream_options);
  EXPECT_FALSE(fields.include_usage);
}

// ---- refused bodies ------------------------------------------------------------------------

struct Refusal {
  const char* body;
  ParseStatus status;
  const char* field;
};

class RefusedBody : public ::testing::TestWithParam<Refusal> {};

TEST_P(RefusedBody, IsRefused) {
  const Refusal& r = GetParam();
  auto p = parse(r.body);
  EXPECT_EQ(p.result.status, r.status) << r.body;
  EXPECT_STREQ(p.result.error_field, r.field) << r.body;
  EXPECT_FALSE(p.fields.has_model) << "fields must be cleared on failure: " << r.body;
}

const Refusal kMalformed[] = {
    Refusal{"", ParseStatus::NotJson, ""}, Refusal{"   ", ParseStatus::NotJson, ""},
    Refusal{"{", ParseStatus::NotJson, ""}, Refusal{R"({"model":"m")", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m",})", ParseStatus::NotJson, ""},
    Refusal{R"({"model" "m"})", ParseStatus::NotJson, ""},
    Refusal{R"({model:"m"})", ParseStatus::NotJson, ""},
    Refusal{R"({'model':'m'})", ParseStatus::NotJson, ""},
    // Malformed values that on-demand would skip without looking:
    Refusal{R"({"model":"m","messages":[1,,2]})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","x":tru})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","x":nul})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","x":1x})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","x":01})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","x":1.})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","x":-})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","x":{"a" 1}})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","x":"bad \q escape"})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","x\q":1})", ParseStatus::NotJson, ""},
    Refusal{"{\"model\":\"m\",\"x\":\"raw\ttab\"}", ParseStatus::NotJson, ""},
    Refusal{"{\"model\":\"\xff\"}", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","stream_options":{"include_usage":true,"x":[}]}})",
            ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m"} {})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m"}})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m"} x)", ParseStatus::NotJson, ""},
    // Malformed JSON wins over a type error found earlier.
    Refusal{R"({"model":5,"x":[1,,2]})", ParseStatus::NotJson, ""},
    Refusal{R"({"model":"m","max_tokens":12abc})", ParseStatus::NotJson, ""}};
INSTANTIATE_TEST_SUITE_P(Malformed, RefusedBody, ::testing::ValuesIn(kMalformed));

const Refusal kNotAnObject[] = {
    Refusal{"[]", ParseStatus::NotAnObject, ""},
    Refusal{R"([{"model":"m"}])", ParseStatus::NotAnObject, ""},
    Refusal{R"("model")", ParseStatus::NotAnObject, ""},
    Refusal{"42", ParseStatus::NotAnObject, ""}, Refusal{" true ", ParseStatus::NotAnObject, ""},
    Refusal{"null", ParseStatus::NotAnObject, ""},
    // ... unless it is not even JSON:
    Refusal{"[1,", ParseStatus::NotJson, ""}, Refusal{"nope", ParseStatus::NotJson, ""},
    Refusal{"42 43", ParseStatus::NotJson, ""}, Refusal{"[] []", ParseStatus::NotJson, ""}};
INSTANTIATE_TEST_SUITE_P(NotAnObject, RefusedBody, ::testing::ValuesIn(kNotAnObject));

const Refusal kWrongType[] = {
    Refusal{R"({"model":5})", ParseStatus::BadFieldType, "model"},
    Refusal{R"({"model":["a"]})", ParseStatus::BadFieldType, "model"},
    Refusal{R"({"model":{"name":"a"}})", ParseStatus::BadFieldType, "model"},
    Refusal{R"({"model":"m","stream":"yes"})", ParseStatus::BadFieldType, "stream"},
    Refusal{R"({"model":"m","stream":1})", ParseStatus::BadFieldType, "stream"},
    Refusal{R"({"model":"m","max_tokens":"100"})", ParseStatus::BadFieldType, "max_tokens"},
    Refusal{R"({"model":"m","max_tokens":1.5})", ParseStatus::BadFieldType, "max_tokens"},
    Refusal{R"({"model":"m","max_completion_tokens":1e3})", ParseStatus::BadFieldType,
            "max_completion_tokens"},
    Refusal{R"({"model":"m","max_output_tokens":99999999999999999999})", ParseStatus::BadFieldType,
            "max_output_tokens"},
    Refusal{R"({"model":"m","stream_options":true})", ParseStatus::BadFieldType, "stream_options"},
    Refusal{R"({"model":"m","stream_options":{"include_usage":"yes"}})", ParseStatus::BadFieldType,
            "stream_options.include_usage"},
    // The first problem is the one reported.
    Refusal{R"({"stream":"x","model":5})", ParseStatus::BadFieldType, "stream"}};
INSTANTIATE_TEST_SUITE_P(WrongType, RefusedBody, ::testing::ValuesIn(kWrongType));

const Refusal kDuplicate[] = {
    Refusal{R"({"model":"fast","model":"gpt-4o"})", ParseStatus::DuplicateField, "model"},
    Refusal{R"({"model":"fast","mod\u0065l":"gpt-4o"})", ParseStatus::DuplicateField, "model"},
    Refusal{R"({"model":"m","stream":false,"stream":true})", ParseStatus::DuplicateField, "stream"},
    Refusal{R"({"model":"m","max_tokens":1,"max_tokens":2})", ParseStatus::DuplicateField,
            "max_tokens"},
    Refusal{R"({"model":"m","stream_options":{},"stream_options":{}})", ParseStatus::DuplicateField,
            "stream_options"},
    Refusal{R"({"model":"m","stream_options":{"include_usage":false,"include_usage":true}})",
            ParseStatus::DuplicateField, "stream_options.include_usage"}};
INSTANTIATE_TEST_SUITE_P(Duplicate, RefusedBody, ::testing::ValuesIn(kDuplicate));

// ---- differential tests against simdjson's DOM parser ----------------------------------------

enum class Verdict { Invalid, Object, NotObject };

Verdict dom_verdict(std::string_view body, simdjson::error_code* error_out = nullptr) {
  simdjson::dom::parser dom;
  simdjson::dom::element root;
  simdjson::padded_string copy(body.data(), body.size());
  simdjson::error_code error = dom.parse(copy).get(root);
  if (error_out) *error_out = error;
  if (error) return Verdict::Invalid;
  return root.is_object() ? Verdict::Object : Verdict::NotObject;
}

Verdict verdict_of(ParseStatus status) {
  switch (status) {
    case ParseStatus::NotJson:
      return Verdict::Invalid;
    case ParseStatus::NotAnObject:
      return Verdict::NotObject;
    default:
      return Verdict::Object;
  }
}

// Stand-ins never change whether a document is valid: every body of the tables above gets the
// same verdict from the DOM parser after substitution.
TEST(DomStandIns, KeepTheVerdict) {
  for (std::span<const Refusal> table :
       {std::span<const Refusal>(kMalformed), std::span<const Refusal>(kNotAnObject),
        std::span<const Refusal>(kWrongType), std::span<const Refusal>(kDuplicate)}) {
    for (const Refusal& r : table) {
      SCOPED_TRACE(r.body);
      simdjson::padded_string copy = detail::with_dom_stand_ins(r.body);
      EXPECT_EQ(dom_verdict(std::string_view(copy.data(), copy.size())), verdict_of(r.status));
    }
  }
}

TEST(DomStandIns, ReplaceOnlyWhatTheDomCannotHold) {
  auto stand_ins = [](std::string_view body) {
    simdjson::padded_string copy = detail::with_dom_stand_ins(body);
    return std::string(copy.data(), copy.size());
  };
  EXPECT_EQ(stand_ins(R"({"a":1e400,"b":[-12.5e-3,0]})"), R"({"a":0    ,"b":[0       ,0]})");
  EXPECT_EQ(stand_ins(R"({"s":"1e400 \ud800 \uDBFF \u00e9 \\ud800"})"),
            R"({"s":"1e400 \u0041 \u0041 \u00e9 \\ud800"})");
  EXPECT_EQ(stand_ins(R"([01, 1., -, 1e, 2x])"), R"([01, 1., -, 1e, 0x])");
}

// Random single-byte mutations of realistic bodies, checked against the DOM parser: the same
// verdict, and for valid objects the same model / stream / max_tokens. Each seed comes in two
// versions of equal length: `exotic` holds valid JSON the DOM parser cannot represent (sluice
// must still judge it exactly), `plain` has representable values in those places and is what
// the DOM parser judges. Mutations next to a differing byte are skipped.
TEST(RequestFields, AgreesWithTheDomParserOnMutations) {
  struct Seed {
    std::string exotic, plain;
  };
  const Seed seeds[] = {
      {R"({"model":"fast","messages":[{"role":"user","content":"hi \"there\"\n"}],)"
       R"("stream":true,"stream_options":{"include_usage":false},"max_tokens":12})",
       R"({"model":"fast","messages":[{"role":"user","content":"hi \"there\"\n"}],)"
       R"("stream":true,"stream_options":{"include_usage":false},"max_tokens":12})"},
      {R"({"a":[1,-1e400,true,false,null,{"b":{}}],"model":"m","t":0.7,"u":"\ud800"})",
       R"({"a":[1,-1e+00,true,false,null,{"b":{}}],"model":"m","t":0.7,"u":"\u00e9"})"},
      {R"({"seed":123456789012345678901234567890,"model":"q\u00e9","stream":false})",
       R"({"seed":1.0000000000000000000000000000,"model":"q\u00e9","stream":false})"},
      {R"([{"x":[]},"s",3,1e400])", R"([{"x":[]},"s",3,1e+00])"}};
  const char alphabet[] = "{}[]:,\"\\ \n0123456789-+.eEtrufalsn\x01\xc3";
  std::mt19937 rng(20240611);
  int checked = 0;
  for (int i = 0; i < 40000; ++i) {
    const Seed& seed = seeds[i % 4];
    std::string exotic = seed.exotic, plain = seed.plain;
    size_t at = rng() % exotic.size();
    bool near_difference = false;
    for (size_t k = at == 0 ? 0 : at - 1; k <= at + 1 && k < exotic.size(); ++k) {
      near_difference = near_difference || exotic[k] != plain[k];
    }
    char c = alphabet[rng() % (sizeof alphabet - 1)];
    unsigned kind = rng() % 3;
    if (near_difference) continue;
    for (std::string* body : {&exotic, &plain}) {
      if (kind == 0) body->at(at) = c;
      if (kind == 1) body->insert(body->begin() + at, c);
      if (kind == 2) body->erase(at, 1);
    }
    simdjson::error_code error;
    Verdict expected = dom_verdict(plain, &error);
    if (error == simdjson::NUMBER_ERROR || error == simdjson::STRING_ERROR) continue;
    SCOPED_TRACE(exotic);
    ++checked;
    auto p = parse(exotic);
    ASSERT_EQ(verdict_of(p.result.status), expected);
    if (p.result.status != ParseStatus::Ok) continue;
    // The fields read agree with the DOM's reading of the same document.
    simdjson::dom::parser dom;
    simdjson::padded_string copy(plain);
    simdjson::dom::element root = dom.parse(copy).value();
    std::string_view model;
    if (root["model"].get(model) == simdjson::SUCCESS) {
      EXPECT_EQ(p.fields.model, model);
      EXPECT_EQ(p.body[p.fields.model_begin], '"');
      EXPECT_EQ(p.body[p.fields.model_end - 1], '"');
    } else {
      EXPECT_FALSE(p.fields.has_model);
    }
    bool stream = false;
    if (root["stream"].get(stream) != simdjson::SUCCESS) stream = false;
    EXPECT_EQ(p.fields.stream, stream);
    int64_t max_tokens;
    if (root["max_tokens"].get(max_tokens) == simdjson::SUCCESS) {
      EXPECT_EQ(p.fields.max_tokens, max_tokens);
    }
  }
  EXPECT_GT(checked, 25000);
}

TEST(RequestFields, DuplicateOfAnUnreadFieldIsNotOurBusiness) {
  EXPECT_EQ(parse(R"({"model":"m","user":"a","user":"b"})").result.status, ParseStatus::Ok);
}

TEST(RequestFields, NestingLimit) {
  auto nested = [](int depth, const std::string& inner) {
    return R"({"model":"m","x":)" + std::string(depth, '[') + inner + std::string(depth, ']') + "}";
  };
  EXPECT_EQ(parse(nested(100, "1")).result.status, ParseStatus::Ok);
  EXPECT_EQ(parse(nested(2 * kMaxDepth, "1")).result.status, ParseStatus::NotJson);
  // The same through the stand-in path (taken for a number the DOM parser cannot hold).
  EXPECT_EQ(parse(nested(100, "1e400")).result.status, ParseStatus::Ok);
  EXPECT_EQ(parse(nested(2 * kMaxDepth, "1e400")).result.status, ParseStatus::NotJson);
}

// Valid JSON that simdjson's DOM parser cannot represent is validated through stand-ins:
// still accepted when valid, still refused when not.
TEST(RequestFields, ValidJsonBeyondWhatTheFastValidatorHolds) {
  for (const char* body :
       {R"({"model":"m","seed":123456789012345678901234567890})", R"({"model":"m","t":1e400})",
        R"({"model":"m","t":-1e400,"u":[{"v":"\ud800"}]})", R"({"model":"m","s":"\udc00x"})"}) {
    SCOPED_TRACE(body);
    auto p = parse(body);
    EXPECT_EQ(p.result.status, ParseStatus::Ok);
    EXPECT_EQ(p.fields.model, "m");
  }
  for (const char* body :
       {R"({"model":"m","seed":1e400,"x":[1,,2]})", R"({"model":"m","s":"\ud800","x":tru})",
        R"({"model":"m","s":"\ud800\q"})", R"({"model":"m","t":1e400} {})",
        R"({"model":"m","t":1e400,})"}) {
    SCOPED_TRACE(body);
    EXPECT_EQ(parse(body).result.status, ParseStatus::NotJson);
  }
  EXPECT_EQ(parse(R"([1e400])").result.status, ParseStatus::NotAnObject);
  EXPECT_EQ(parse(R"([1e400,])").result.status, ParseStatus::NotJson);
  // A lone surrogate in the model decodes to U+FFFD; the token range is still exact.
  auto p = parse(R"({"model":"a\ud800b","t":1e400})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_EQ(p.fields.model,
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(model_token(p), R"("a\ud800b")");
}

TEST(RequestFields, SurrogatePairsAndEscapedKeysInside) {
  auto p = parse(R"({"model":"\ud83d\ude00 \u00e9\/\b\f\r\t",)"
                 R"("stream_options":{"include_\u0075sage":true}})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_EQ(p.fields.model, "\xf0\x9f\x98\x80 \xc3\xa9/\b\f\r\t");
  EXPECT_TRUE(p.fields.include_usage);
}

TEST(RequestFields, ErrorMessages) {
  EXPECT_EQ(error_message(parse("{").result), "The request body is not valid JSON.");
  EXPECT_EQ(error_message(parse("[]").result), "The request body must be a JSON object.");
  EXPECT_EQ(error_message(parse(R"({"max_tokens":"1"})").result),
            "Invalid type for \"max_tokens\": expected an integer.");
  EXPECT_EQ(error_message(parse(R"({"model":1})").result),
            "Invalid type for \"model\": expected a string.");
  EXPECT_EQ(error_message(parse(R"({"stream":1})").result),
            "Invalid type for \"stream\": expected a boolean.");
  EXPECT_EQ(error_message(parse(R"({"model":"a","model":"b"})").result),
            "The field \"model\" appears more than once in the request body.");
}

// ---- append_json_string --------------------------------------------------------------------

TEST(AppendJsonString, EscapesWhatJsonRequires) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\n\t\x01 \xc3\xa9/\0", 13));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001 \xc3\xa9/\\u0000\"");
}

// ---- body splices --------------------------------------------------------------------------

// The spliced body must be valid JSON with the new value, and every other byte unchanged.
std::string decoded_model(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc)) return "<invalid json>";
  std::string_view model;
  if (doc["model"].get(model)) return "<no model>";
  return std::string(model);
}

TEST(BodySplice, ModelReplacementKeepsEveryOtherByte) {
  auto p = parse("{ \"model\" :  \"fast\" , \"messages\":[{\"content\":\"model\"}]}");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  BodyEdit edit;
  set_model_edit(edit, p.body, p.fields, "gpt-4o-mini");
  SplicedBody spliced;
  ASSERT_TRUE(spliced.assign(p.body, {&edit}));
  ASSERT_EQ(spliced.pieces().size(), 3u);
  EXPECT_EQ(spliced.pieces()[0], "{ \"model\" :  ");
  EXPECT_EQ(spliced.pieces()[1], "\"gpt-4o-mini\"");
  EXPECT_EQ(spliced.pieces()[2], " , \"messages\":[{\"content\":\"model\"}]}");
  // Views into the original body: nothing was copied.
  EXPECT_EQ(spliced.pieces()[0].data(), p.body.data());
  EXPECT_EQ(spliced.pieces()[2].data(), p.body.data() + p.fields.model_end);
  std::string out = spliced.to_string();
  EXPECT_EQ(out, "{ \"model\" :  \"gpt-4o-mini\" , \"messages\":[{\"content\":\"model\"}]}");
  EXPECT_EQ(spliced.size(), out.size());
  EXPECT_EQ(decoded_model(out), "gpt-4o-mini");
}

TEST(BodySplice, ModelWithEscapesBothWays) {
  auto p = parse(R"({"model":"we\"ird\u00e9","x":1})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  BodyEdit edit;
  set_model_edit(edit, p.body, p.fields, "qwen3:8b \"q\"\n");
  SplicedBody spliced;
  ASSERT_TRUE(spliced.assign(p.body, {&edit}));
  std::string out = spliced.to_string();
  EXPECT_EQ(out, R"({"model":"qwen3:8b \"q\"\n","x":1})");
  EXPECT_EQ(decoded_model(out), "qwen3:8b \"q\"\n");
}

TEST(BodySplice, ModelInsertedWhenAbsent) {
  auto p = parse(R"({"x":1})");
  BodyEdit edit;
  set_model_edit(edit, p.body, p.fields, "m");
  SplicedBody spliced;
  ASSERT_TRUE(spliced.assign(p.body, {&edit}));
  EXPECT_EQ(spliced.to_string(), R"({"model":"m","x":1})");
  auto q = parse(" { } ");
  set_model_edit(edit, q.body, q.fields, "m");
  ASSERT_TRUE(spliced.assign(q.body, {&edit}));
  EXPECT_EQ(spliced.to_string(), R"( {"model":"m" } )");
}

// "model": null counts as absent, and inserting a "model" member beside it gave the provider
// a duplicate key (tests/fuzz/request_body_fuzz.cc re-reads every spliced body for this).
TEST(BodySplice, NullModelIsReplacedNotDuplicated) {
  auto p = parse(R"({"x":1, "model": null})");
  ASSERT_EQ(p.result.status, ParseStatus::Ok);
  EXPECT_FALSE(p.fields.has_model);
  BodyEdit edit;
  set_model_edit(edit, p.body, p.fields, "m");
  SplicedBody spliced;
  ASSERT_TRUE(spliced.assign(p.body, {&edit}));
  EXPECT_EQ(spliced.to_string(), R"({"x":1, "model": "m"})");
  RequestFields again;
  EXPECT_EQ(parse_request_fields(spliced.to_string(), &again).status, ParseStatus::Ok);
}

std::string with_include_usage(const std::string& body) {
  auto p = parse(body);
  EXPECT_EQ(p.result.status, ParseStatus::Ok) << body;
  BodyEdit edit;
  if (!set_include_usage_edit(edit, p.body, p.fields)) return "<unchanged>";
  SplicedBody spliced;
  EXPECT_TRUE(spliced.assign(p.body, {&edit}));
  std::string out = spliced.to_string();
  // Always valid JSON with include_usage true, and no duplicate keys (the parser would say).
  auto check = parse(out);
  EXPECT_EQ(check.result.status, ParseStatus::Ok) << out;
  EXPECT_TRUE(check.fields.include_usage) << out;
  return out;
}

TEST(BodySplice, IncludeUsageInEveryShape) {
  EXPECT_EQ(with_include_usage(R"({"model":"m","stream":true})"),
            R"({"stream_options":{"include_usage":true},"model":"m","stream":true})");
  EXPECT_EQ(with_include_usage(R"({"model":"m","stream_options":null})"),
            R"({"model":"m","stream_options":{"include_usage":true}})");
  EXPECT_EQ(with_include_usage(R"({"model":"m","stream_options":{}})"),
            R"({"model":"m","stream_options":{"include_usage":true}})");
  EXPECT_EQ(with_include_usage(R"({"model":"m","stream_options":{"include_obfuscation":false}})"),
            R"({"model":"m","stream_options":{"include_usage":true,"include_obfuscation":false}})");
  EXPECT_EQ(with_include_usage(R"({"model":"m","stream_options":{"include_usage":false}})"),
            R"({"model":"m","stream_options":{"include_usage":true}})");
  EXPECT_EQ(with_include_usage(R"({"model":"m","stream_options":{"include_usage" : null }})"),
            R"({"model":"m","stream_options":{"include_usage" : true }})");
  EXPECT_EQ(with_include_usage(R"({"model":"m","stream_options":{"include_usage":true}})"),
            "<unchanged>");
  EXPECT_EQ(with_include_usage("{}"), R"({"stream_options":{"include_usage":true}})");
}

TEST(BodySplice, ModelAndIncludeUsageTogether) {
  auto p = parse(R"({"model":"fast","stream":true,"stream_options":{"include_usage":false}})");
  BodyEdit usage, model;
  ASSERT_TRUE(set_include_usage_edit(usage, p.body, p.fields));
  set_model_edit(model, p.body, p.fields, "gpt-4o");
  SplicedBody spliced;
  ASSERT_TRUE(spliced.assign(p.body, {&usage, &model}));  // any order
  EXPECT_EQ(spliced.to_string(),
            R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(spliced.pieces().size(), 5u);
}

TEST(BodySplice, RefusesOverlappingOrOutOfRangeEdits) {
  std::string body = R"({"model":"m"})";
  BodyEdit a{9, 12, "\"x\""}, b{10, 11, "y"}, c{5, 50, ""}, same{9, 9, "z"};
  SplicedBody spliced;
  EXPECT_FALSE(spliced.assign(body, {&a, &b}));
  EXPECT_FALSE(spliced.assign(body, {&c}));
  EXPECT_FALSE(spliced.assign(body, {&a, &same}));
  EXPECT_EQ(spliced.size(), 0u);
  EXPECT_TRUE(spliced.assign(body, {}));
  EXPECT_EQ(spliced.to_string(), body);
}

}  // namespace
}  // namespace sluice::json
