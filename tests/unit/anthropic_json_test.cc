// The anthropic plugin's small shared pieces: the JSON writer, the readers' helpers, data: URLs,
// stop reasons and usage in both shapes.
#include <gtest/gtest.h>

#include <string>

#include "anthropic/data_url.h"
#include "anthropic/json_reader.h"
#include "anthropic/json_writer.h"
#include "anthropic/stop_reason.h"
#include "anthropic/usage.h"

namespace anthropic {
namespace {

TEST(AnthropicJsonWriter, PlacesCommasInNestedObjectsAndArrays) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("a", uint64_t{1}).key("b").begin_array();
  w.string("x").begin_object().end_object().begin_array().end_array().null().boolean(false);
  w.end_array().member_raw("c", R"({"d":[1,2]})").key("e").number(int64_t{-3}).end_object();
  EXPECT_EQ(out, R"({"a":1,"b":["x",{},[],null,false],"c":{"d":[1,2]},"e":-3})");
}

TEST(AnthropicJsonWriter, ContinuesAListAnotherWriterStarted) {
  std::string out = R"({"x":1})";
  JsonWriter w(out, /*after_value=*/true);
  w.begin_object().member("y", uint64_t{2}).end_object();
  EXPECT_EQ(out, R"({"x":1},{"y":2})");
}

TEST(AnthropicJsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\nd\re\tf\x01g\x1f") + "é😀");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fé😀\"");
  out.clear();
  append_json_string(out, std::string("\0", 1));
  EXPECT_EQ(out, "\"\\u0000\"");
}

TEST(AnthropicJsonWriter, PrintablePrefixKeepsWholeCharactersAndReplacesBadBytes) {
  EXPECT_EQ(printable_prefix("héllo", 2), "h");  // 'é' is two bytes: not cut in half
  EXPECT_EQ(printable_prefix("héllo", 3), "hé");
  EXPECT_EQ(printable_prefix("a\xff\xc3(b", 10), "a?\?(b");
  EXPECT_EQ(printable_prefix("\xed\xa0\x80", 10), "???");  // a surrogate is not UTF-8
  EXPECT_EQ(printable_prefix("", 10), "");
}

TEST(AnthropicJsonReader, MembersTreatNullAsAbsent) {
  simdjson::dom::parser parser;
  object doc;
  ASSERT_TRUE(parse_object(parser, R"({"s":"x","n":null,"o":{},"c":7,"neg":-1,"d":1.5})", doc));
  EXPECT_EQ(string_member(doc, "s"), "x");
  EXPECT_FALSE(member(doc, "n"));
  EXPECT_FALSE(string_member(doc, "n"));
  EXPECT_FALSE(member(doc, "missing"));
  EXPECT_TRUE(object_member(doc, "o"));
  EXPECT_FALSE(object_member(doc, "s"));
  EXPECT_EQ(count_member(doc, "c"), 7u);
  EXPECT_FALSE(count_member(doc, "neg"));
  EXPECT_FALSE(count_member(doc, "d"));
  EXPECT_EQ(string_or_empty(doc, "c"), "");
}

TEST(AnthropicJsonReader, ParseObjectRefusesWhatIsNotAnObject) {
  simdjson::dom::parser parser;
  object doc;
  EXPECT_FALSE(parse_object(parser, "", doc));
  EXPECT_FALSE(parse_object(parser, "[1]", doc));
  EXPECT_FALSE(parse_object(parser, "{", doc));
  EXPECT_FALSE(parse_object(parser, "{} x", doc));
  EXPECT_TRUE(parse_object(parser, " {} ", doc));
}

TEST(AnthropicJsonReader, QuotedCapsLongValues) {
  EXPECT_EQ(quote("input_audio"), "\"input_audio\"");
  EXPECT_EQ(quote(std::string(100, 'x')), "\"" + std::string(64, 'x') + "...\"");
}

TEST(AnthropicDataUrl, SplitsBase64DataUrls) {
  Base64Data d;
  ASSERT_TRUE(parse_base64_data_url("data:image/png;base64,iVBORw0KGgo=", d));
  EXPECT_EQ(d.media_type, "image/png");
  EXPECT_EQ(d.data, "iVBORw0KGgo=");
  ASSERT_TRUE(parse_base64_data_url("data:image/jpeg;name=a.jpg;base64,/9j/", d));
  EXPECT_EQ(d.media_type, "image/jpeg");
  EXPECT_EQ(d.data, "/9j/");
}

TEST(AnthropicDataUrl, RefusesOtherUrls) {
  Base64Data d;
  EXPECT_FALSE(parse_base64_data_url("https://example.com/a.png", d));
  EXPECT_FALSE(parse_base64_data_url("data:text/plain,hello", d));  // not base64
  EXPECT_FALSE(parse_base64_data_url("data:;base64,AAAA", d));      // no media type
  EXPECT_FALSE(parse_base64_data_url("data:image/png;base64", d));  // no comma
}

TEST(AnthropicDataUrl, MakesOne) {
  EXPECT_EQ(make_base64_data_url("image/gif", "R0lG"), "data:image/gif;base64,R0lG");
}

TEST(AnthropicStopReason, MapsBothWays) {
  EXPECT_EQ(finish_reason_for("end_turn"), "stop");
  EXPECT_EQ(finish_reason_for("stop_sequence"), "stop");
  EXPECT_EQ(finish_reason_for("max_tokens"), "length");
  EXPECT_EQ(finish_reason_for("model_context_window_exceeded"), "length");
  EXPECT_EQ(finish_reason_for("tool_use"), "tool_calls");
  EXPECT_EQ(finish_reason_for("refusal"), "content_filter");
  EXPECT_EQ(finish_reason_for("pause_turn"), "stop");
  EXPECT_EQ(finish_reason_for("something_new"), "stop");

  EXPECT_EQ(stop_reason_for("stop"), "end_turn");
  EXPECT_EQ(stop_reason_for("length"), "max_tokens");
  EXPECT_EQ(stop_reason_for("tool_calls"), "tool_use");
  EXPECT_EQ(stop_reason_for("function_call"), "tool_use");
  EXPECT_EQ(stop_reason_for("content_filter"), "refusal");
  EXPECT_EQ(stop_reason_for(""), "end_turn");
}

TEST(AnthropicUsage, AnthropicCountsAddTheCacheToTheInput) {
  simdjson::dom::parser parser;
  object usage;
  ASSERT_TRUE(parse_object(parser,
                           R"({"input_tokens":100,"cache_creation_input_tokens":20,)"
                           R"("cache_read_input_tokens":300,"output_tokens":1})",
                           usage));
  AnthropicCounts counts;
  counts.update_from(usage);
  const Usage u = counts.to_usage();
  EXPECT_TRUE(u.reported);
  EXPECT_EQ(u.input_tokens, 420u);
  EXPECT_EQ(u.cached_tokens, 300u);
  EXPECT_EQ(u.cache_write_tokens, 20u);
  EXPECT_EQ(u.output_tokens, 1u);
}

TEST(AnthropicUsage, LaterReportsOverwriteOnlyWhatTheyCarry) {
  simdjson::dom::parser parser;
  object start, delta;
  AnthropicCounts counts;
  ASSERT_TRUE(parse_object(
      parser, R"({"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1})", start));
  counts.update_from(start);
  ASSERT_TRUE(parse_object(parser, R"({"output_tokens":42,"input_tokens":null,"junk":1})", delta));
  counts.update_from(delta);
  const Usage u = counts.to_usage();
  EXPECT_EQ(u.input_tokens, 15u);
  EXPECT_EQ(u.output_tokens, 42u);  // cumulative: the last one, not 43
}

TEST(AnthropicUsage, IgnoresCountsThatAreNotTokenCounts) {
  simdjson::dom::parser parser;
  object usage;
  ASSERT_TRUE(parse_object(parser,
                           R"({"input_tokens":1e3,"output_tokens":-2,)"
                           R"("cache_read_input_tokens":10000000000000})",
                           usage));
  AnthropicCounts counts;
  counts.update_from(usage);
  EXPECT_FALSE(counts.reported);
  EXPECT_EQ(counts.to_usage().input_tokens, 0u);
}

TEST(AnthropicUsage, ReadsOpenAiUsage) {
  simdjson::dom::parser parser;
  object usage;
  ASSERT_TRUE(parse_object(parser,
                           R"({"prompt_tokens":1024,"completion_tokens":50,"total_tokens":1074,)"
                           R"("prompt_tokens_details":{"cached_tokens":512}})",
                           usage));
  const Usage u = read_openai_usage(usage);
  EXPECT_TRUE(u.reported);
  EXPECT_EQ(u.input_tokens, 1024u);
  EXPECT_EQ(u.output_tokens, 50u);
  EXPECT_EQ(u.cached_tokens, 512u);
  EXPECT_EQ(u.cache_write_tokens, 0u);
  ASSERT_TRUE(parse_object(
      parser, R"({"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":99}})", usage));
  EXPECT_EQ(read_openai_usage(usage).cached_tokens, 10u);  // never more than the prompt
}

TEST(AnthropicUsage, WritesBothShapes) {
  Usage u;
  u.reported = true;
  u.input_tokens = 420;
  u.cached_tokens = 300;
  u.cache_write_tokens = 20;
  u.output_tokens = 7;
  std::string openai, anthropic;
  JsonWriter o(openai), a(anthropic);
  write_openai_usage(o, u);
  write_anthropic_usage(a, u);
  EXPECT_EQ(openai, R"({"prompt_tokens":420,"completion_tokens":7,"total_tokens":427,)"
                    R"("prompt_tokens_details":{"cached_tokens":300}})");
  EXPECT_EQ(anthropic, R"({"input_tokens":100,"cache_creation_input_tokens":20,)"
                       R"("cache_read_input_tokens":300,"output_tokens":7})");
}

TEST(AnthropicUsage, AnthropicInputNeverGoesBelowZero) {
  Usage u;
  u.input_tokens = 5;
  u.cached_tokens = 9;
  std::string out;
  JsonWriter w(out);
  write_anthropic_usage(w, u);
  EXPECT_EQ(out.find(R"("input_tokens":0)"), 1u);
}

}  // namespace
}  // namespace anthropic
