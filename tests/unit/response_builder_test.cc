// Response builder: the bytes a client receives for a local reply (DESIGN §5 error shape).
#include <gtest/gtest.h>
#include <llhttp.h>

#include <string>
#include <string_view>

#include "core/http/response_builder.h"

namespace sluice::http {
namespace {

TEST(ResponseBuilder, ReasonPhrases) {
  EXPECT_STREQ(reason_phrase(200), "OK");
  EXPECT_STREQ(reason_phrase(400), "Bad Request");
  EXPECT_STREQ(reason_phrase(401), "Unauthorized");
  EXPECT_STREQ(reason_phrase(403), "Forbidden");
  EXPECT_STREQ(reason_phrase(404), "Not Found");
  EXPECT_STREQ(reason_phrase(405), "Method Not Allowed");
  EXPECT_STREQ(reason_phrase(408), "Request Timeout");
  EXPECT_STREQ(reason_phrase(413), "Content Too Large");
  EXPECT_STREQ(reason_phrase(429), "Too Many Requests");
  EXPECT_STREQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_STREQ(reason_phrase(500), "Internal Server Error");
  EXPECT_STREQ(reason_phrase(502), "Bad Gateway");
  EXPECT_STREQ(reason_phrase(503), "Service Unavailable");
  EXPECT_STREQ(reason_phrase(504), "Gateway Timeout");
  EXPECT_STREQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_STREQ(reason_phrase(599), "Unknown");
}

TEST(ResponseBuilder, StatusLineAndHeaders) {
  std::string out;
  append_status_line(out, 429);
  append_header(out, "Retry-After", uint64_t{3});
  append_header(out, "x-request-id", "abc-123");
  EXPECT_EQ(out, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nx-request-id: abc-123\r\n");
}

TEST(ResponseBuilder, HeaderValueCannotSplitTheResponse) {
  std::string out;
  append_header(out, "x-request-id", "id\r\nSet-Cookie: evil=1\nX: y\r");
  EXPECT_EQ(out, "x-request-id: id  Set-Cookie: evil=1 X: y \r\n");
}

std::string escaped(std::string_view s) {
  std::string out;
  append_json_escaped(out, s);
  return out;
}

TEST(ResponseBuilder, JsonEscaping) {
  EXPECT_EQ(escaped("plain text"), "plain text");
  EXPECT_EQ(escaped("say \"hi\" \\ bye"), "say \\\"hi\\\" \\\\ bye");
  EXPECT_EQ(escaped("a\nb\rc\td\be\ff"), "a\\nb\\rc\\td\\be\\ff");
  EXPECT_EQ(escaped(std::string_view("\x00\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\x7f");
  EXPECT_EQ(escaped("</script>"), "</script>");
}

TEST(ResponseBuilder, JsonEscapingKeepsUtf8AndReplacesIllFormedBytes) {
  EXPECT_EQ(escaped("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"),
            "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
  EXPECT_EQ(escaped("a\xff"
                    "b"),
            "a\\ufffdb");
  EXPECT_EQ(escaped("\xc3"), "\\ufffd");  // truncated at the end
  EXPECT_EQ(escaped("\xe2\x9c"
                    "x"),
            "\\ufffd\\ufffdx");                                 // truncated in the middle
  EXPECT_EQ(escaped("\xc0\xaf"), "\\ufffd\\ufffd");             // overlong '/'
  EXPECT_EQ(escaped("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");  // UTF-16 surrogate
  EXPECT_EQ(escaped("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");  // past U+10FFFF
  EXPECT_EQ(escaped("\x80"), "\\ufffd");                                   // lone continuation byte
}

TEST(ResponseBuilder, OpenAiErrorBodyShape) {
  EXPECT_EQ(openai_error_body("model \"x\" not found", "not_found_error", "model_not_found"),
            R"({"error":{"message":"model \"x\" not found","type":"not_found_error",)"
            R"("code":"model_not_found","param":null}})");
  EXPECT_EQ(openai_error_body("bad\nframing", "invalid_request_error", ""),
            R"({"error":{"message":"bad\nframing","type":"invalid_request_error",)"
            R"("code":null,"param":null}})");
}

TEST(ResponseBuilder, AnthropicErrorBodyShape) {
  EXPECT_EQ(
      anthropic_error_body("model \"x\" not found", "not_found_error"),
      R"({"type":"error","error":{"type":"not_found_error","message":"model \"x\" not found"}})");
  EXPECT_EQ(
      anthropic_error_body("bad\nframing", "invalid_request_error"),
      R"({"type":"error","error":{"type":"invalid_request_error","message":"bad\nframing"}})");
}

TEST(ResponseBuilder, AnthropicErrorTypeFollowsTheirStatusTable) {
  EXPECT_STREQ(anthropic_error_type(400), "invalid_request_error");
  EXPECT_STREQ(anthropic_error_type(401), "authentication_error");
  EXPECT_STREQ(anthropic_error_type(402), "billing_error");
  EXPECT_STREQ(anthropic_error_type(403), "permission_error");
  EXPECT_STREQ(anthropic_error_type(404), "not_found_error");
  EXPECT_STREQ(anthropic_error_type(413), "request_too_large");
  EXPECT_STREQ(anthropic_error_type(429), "rate_limit_error");
  EXPECT_STREQ(anthropic_error_type(529), "overloaded_error");
  for (int s : {500, 502, 503, 504}) EXPECT_STREQ(anthropic_error_type(s), "api_error") << s;
  for (int s : {405, 408, 415, 422, 431}) {
    EXPECT_STREQ(anthropic_error_type(s), "invalid_request_error") << s;
  }
  EXPECT_STREQ(reason_phrase(529), "Site Overloaded");
}

// Parses `raw` as one HTTP response with llhttp, as a client would.
struct ParsedResponse {
  int status = 0;
  std::string headers;  // "name: value\n" lines, lowercased names
  std::string body;
  bool complete = false;
  bool keep_alive = false;
};

ParsedResponse parse_response(const std::string& raw) {
  ParsedResponse out;
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
    auto* r = static_cast<ParsedResponse*>(p->data);
    for (size_t i = 0; i < n; ++i) r->headers.push_back(static_cast<char>(std::tolower(at[i])));
    return 0;
  };
  s.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
    static_cast<ParsedResponse*>(p->data)->headers.append(": ").append(at, n).append("\n");
    return 0;
  };
  s.on_body = [](llhttp_t* p, const char* at, size_t n) {
    static_cast<ParsedResponse*>(p->data)->body.append(at, n);
    return 0;
  };
  s.on_message_complete = [](llhttp_t* p) {
    auto* r = static_cast<ParsedResponse*>(p->data);
    r->complete = true;
    r->status = p->status_code;
    r->keep_alive = llhttp_should_keep_alive(p) != 0;
    return 0;
  };
  llhttp_t parser;
  llhttp_init(&parser, HTTP_RESPONSE, &s);
  parser.data = &out;
  EXPECT_EQ(llhttp_execute(&parser, raw.data(), raw.size()), HPE_OK);
  return out;
}

TEST(ResponseBuilder, JsonResponseKeepAlive) {
  const std::string body = openai_error_body("no such model", "not_found_error", "model_not_found");
  const std::string raw = json_response(404, body, true, "x-request-id: r1\r\n");
  EXPECT_EQ(raw, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nx-request-id: r1\r\n\r\n" + body);
  ParsedResponse r = parse_response(raw);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, body);
  EXPECT_TRUE(r.keep_alive);
}

TEST(ResponseBuilder, JsonResponseClose) {
  const std::string raw = json_response(413, R"({"a":1})", false);
  EXPECT_EQ(raw,
            "HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\n"
            "Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}");
  ParsedResponse r = parse_response(raw);
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_NE(r.headers.find("connection: close\n"), std::string::npos);
}

TEST(ResponseBuilder, JsonResponseEmptyBody) {
  ParsedResponse r = parse_response(json_response(200, "", true));
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_NE(r.headers.find("content-length: 0\n"), std::string::npos);
}

}  // namespace
}  // namespace sluice::http
