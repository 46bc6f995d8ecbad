// RequestParser + HttpRequest: what a client sees for each kind of request it may send
// (DESIGN §4 limits, §5 errors, §10 strict framing, §11 no steady-state allocation).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/http/request.h"
#include "core/http/request_parser.h"
#include "tests/unit/allocation_counter.h"

namespace sluice::http {
namespace {

using State = RequestParser::State;

struct Harness {
  explicit Harness(ParserLimits l = {}) : limits(l), parser(limits, &request) {}
  ParserLimits limits;
  HttpRequest request;
  RequestParser parser;

  RequestParser::FeedResult feed(std::string_view s) { return parser.feed(s.data(), s.size()); }

  // Feeds `s` in pieces of `step` bytes, as a slow client would send it; stops at the first
  // Complete/Failed. consumed is the total over all calls.
  RequestParser::FeedResult feed_in_pieces(std::string_view s, size_t step) {
    size_t used = 0;
    while (used < s.size()) {
      size_t n = std::min(step, s.size() - used);
      auto r = parser.feed(s.data() + used, n);
      used += r.consumed;
      if (r.state != State::NeedMore) return {r.state, used};
      EXPECT_EQ(r.consumed, n) << "NeedMore must consume everything it was given";
    }
    return {State::NeedMore, used};
  }
};

std::string head_of_size(size_t total, std::string_view first_lines = "GET / HTTP/1.1\r\n") {
  // first_lines + "X-Pad: <a...>\r\n\r\n", exactly `total` bytes long.
  std::string h(first_lines);
  const size_t fixed = h.size() + std::string_view("X-Pad: \r\n\r\n").size();
  EXPECT_GT(total, fixed);
  h += "X-Pad: " + std::string(total - fixed, 'a') + "\r\n\r\n";
  EXPECT_EQ(h.size(), total);
  return h;
}

// ---- well-formed requests -------------------------------------------------------------------

TEST(HttpParser, SimpleGet) {
  Harness h;
  const std::string req =
      "GET /v1/models?limit=2 HTTP/1.1\r\nHost: localhost\r\nX-Spaced: \t padded value \t\r\n"
      "X-Empty:\r\n\r\n";
  EXPECT_FALSE(h.parser.in_message());
  auto r = h.feed(req);
  EXPECT_EQ(r.state, State::Complete);
  EXPECT_EQ(r.consumed, req.size());
  EXPECT_TRUE(h.parser.head_complete());
  EXPECT_EQ(h.request.method(), "GET");
  EXPECT_EQ(h.request.target(), "/v1/models?limit=2");
  EXPECT_EQ(h.request.path(), "/v1/models");
  EXPECT_EQ(h.request.http_minor, 1);
  EXPECT_TRUE(h.request.keep_alive);
  EXPECT_FALSE(h.request.content_length.has_value());
  EXPECT_FALSE(h.request.chunked);
  EXPECT_TRUE(h.request.body.empty());
  ASSERT_EQ(h.request.header_count(), 3u);
  EXPECT_EQ(h.request.header_at(0).name, "Host");
  EXPECT_EQ(h.request.header_at(0).value, "localhost");
  EXPECT_EQ(h.request.header_at(1).value, "padded value");  // OWS trimmed both sides
  EXPECT_EQ(h.request.header_at(2).name, "X-Empty");
  EXPECT_EQ(h.request.header_at(2).value, "");
}

TEST(HttpParser, PostWithContentLengthAcrossFeeds) {
  Harness h;
  const std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 15\r\n"
      "Content-Type: application/json\r\n\r\n";
  auto r = h.feed(head);
  EXPECT_EQ(r.state, State::NeedMore);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_TRUE(h.parser.in_message());
  EXPECT_TRUE(h.parser.head_complete());
  ASSERT_TRUE(h.request.content_length.has_value());
  EXPECT_EQ(*h.request.content_length, 15u);
  EXPECT_EQ(h.feed("{\"model\":").state, State::NeedMore);
  r = h.feed("\"x\"}");
  EXPECT_EQ(r.state, State::NeedMore);
  EXPECT_EQ(r.consumed, 4u);
  r = h.feed("\n\n");
  EXPECT_EQ(r.state, State::Complete);
  EXPECT_EQ(r.consumed, 2u);
  EXPECT_EQ(h.request.body, "{\"model\":\"x\"}\n\n");
  EXPECT_GE(h.request.body.capacity(), h.request.body.size() + kBodyPadding);
  EXPECT_EQ(h.request.header("content-type").value_or(""), "application/json");
}

TEST(HttpParser, ChunkedBodyWithExtensionsByteByByte) {
  const std::string req =
      "POST /v1/embeddings HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=val\r\nhello\r\n"
      "6;a;b=\"q s\"\r\n world\r\n"
      "A\r\n, chunked!\r\n"
      "0;last\r\nX-Checksum: abc\r\n\r\n";
  for (size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    SCOPED_TRACE("step " + std::to_string(step));
    Harness h;
    auto r = h.feed_in_pieces(req, step);
    ASSERT_EQ(r.state, State::Complete) << h.parser.detail();
    EXPECT_EQ(r.consumed, req.size());
    EXPECT_TRUE(h.request.chunked);
    EXPECT_FALSE(h.request.content_length.has_value());
    EXPECT_EQ(h.request.body, "hello world, chunked!");
    EXPECT_GE(h.request.body.capacity(), h.request.body.size() + kBodyPadding);
    EXPECT_EQ(h.request.header_count(), 2u);  // trailers are not request headers
    EXPECT_FALSE(h.request.header("X-Checksum").has_value());
  }
}

TEST(HttpParser, HeadersSplitAtEveryByteGiveTheSameRequest) {
  const std::string req =
      "PATCH /a%20b?q=1 HTTP/1.1\r\nHost: example\r\nX-Long-Name-Header: some value here\r\n"
      "Content-Length: 3\r\n\r\nxyz";
  for (size_t cut = 1; cut < req.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    Harness h;
    auto r1 = h.parser.feed(req.data(), cut);
    ASSERT_EQ(r1.state, State::NeedMore);
    ASSERT_EQ(r1.consumed, cut);
    auto r2 = h.parser.feed(req.data() + cut, req.size() - cut);
    ASSERT_EQ(r2.state, State::Complete) << h.parser.detail();
    EXPECT_EQ(r2.consumed, req.size() - cut);
    EXPECT_EQ(h.request.method(), "PATCH");
    EXPECT_EQ(h.request.target(), "/a%20b?q=1");
    EXPECT_EQ(h.request.header("host").value_or("?"), "example");
    EXPECT_EQ(h.request.header("x-long-name-header").value_or("?"), "some value here");
    EXPECT_EQ(h.request.body, "xyz");
  }
}

TEST(HttpParser, PipelinedRequestsComeOutOneAtATimeInOrder) {
  const std::string first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nbody2";
  const std::string third =
      "POST /three HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  const std::string all = first + second + third;
  Harness h;
  std::string_view rest = all;

  auto r = h.feed(rest);
  ASSERT_EQ(r.state, State::Complete);
  EXPECT_EQ(r.consumed, first.size()) << "bytes after a complete message are not consumed";
  EXPECT_EQ(h.request.target(), "/one");
  // Until next_message() the parser does not move on.
  EXPECT_EQ(h.parser.feed(rest.data() + r.consumed, rest.size() - r.consumed).consumed, 0u);
  rest.remove_prefix(r.consumed);
  h.parser.next_message();
  EXPECT_FALSE(h.parser.in_message());

  r = h.feed(rest);
  ASSERT_EQ(r.state, State::Complete);
  EXPECT_EQ(r.consumed, second.size());
  EXPECT_EQ(h.request.target(), "/two");
  EXPECT_EQ(h.request.body, "body2");
  rest.remove_prefix(r.consumed);
  h.parser.next_message();

  r = h.feed(rest);
  ASSERT_EQ(r.state, State::Complete);
  EXPECT_EQ(r.consumed, third.size());
  EXPECT_EQ(h.request.target(), "/three");
  EXPECT_EQ(h.request.body, "abc");
  EXPECT_EQ(h.request.header_count(), 1u);
  h.parser.next_message();
  EXPECT_EQ(h.feed("").state, State::NeedMore);
}

TEST(HttpParser, PipelinedWithEverySplitPoint) {
  const std::string all =
      "GET /one HTTP/1.1\r\n\r\nPOST /two HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /three "
      "HTTP/1.1\r\n\r\n";
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    Harness h;
    std::vector<std::string> targets;
    std::string pending;  // what a connection keeps after a Complete
    for (std::string_view chunk :
         {std::string_view(all).substr(0, cut), std::string_view(all).substr(cut)}) {
      pending.append(chunk);
      for (;;) {
        auto r = h.feed(pending);
        pending.erase(0, r.consumed);
        ASSERT_NE(r.state, State::Failed) << h.parser.detail();
        if (r.state != State::Complete) break;
        targets.emplace_back(h.request.target());
        h.parser.next_message();
      }
    }
    EXPECT_EQ(targets, (std::vector<std::string>{"/one", "/two", "/three"}));
    EXPECT_TRUE(pending.empty());
  }
}

// ---- limits ---------------------------------------------------------------------------------

TEST(HttpParser, HeadExactlyAtLimitPassesOneByteOverIs431) {
  ParserLimits limits;
  limits.max_header_bytes = 200;
  for (size_t step : {1u, 13u, 10000u}) {
    SCOPED_TRACE("step " + std::to_string(step));
    {
      Harness h(limits);
      auto r = h.feed_in_pieces(head_of_size(200), step);
      EXPECT_EQ(r.state, State::Complete) << h.parser.detail();
      EXPECT_EQ(r.consumed, 200u);
    }
    {
      Harness h(limits);
      auto r = h.feed_in_pieces(head_of_size(201), step);
      EXPECT_EQ(r.state, State::Failed);
      EXPECT_EQ(h.parser.error(), ParseError::HeadTooLarge);
      EXPECT_EQ(status_of(h.parser.error()), 431);
      EXPECT_EQ(r.consumed, 200u) << "not a byte past the limit is parsed";
    }
  }
}

TEST(HttpParser, HeadLimitIsCountedAcrossCallsAndFailsBeforeTheHeadEnds) {
  ParserLimits limits;
  limits.max_header_bytes = 1024;
  Harness h(limits);
  EXPECT_EQ(h.feed("GET / HTTP/1.1\r\nX-Slow: ").state, State::NeedMore);  // 24 bytes
  EXPECT_EQ(h.feed(std::string(1000, 'b')).state, State::NeedMore);        // 1024: at the limit
  auto r = h.feed("b");
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(h.parser.error(), ParseError::HeadTooLarge);
  EXPECT_EQ(h.feed("\r\n\r\n").state, State::Failed) << "failure is final";
}

TEST(HttpParser, HeadLimitCountsLeadingEmptyLines) {
  ParserLimits limits;
  limits.max_header_bytes = 100;
  Harness h(limits);
  std::string crlfs;  // empty lines before a request line are tolerated, but not without end
  for (int i = 0; i < 60; ++i) crlfs += "\r\n";
  auto r = h.feed(crlfs);
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(h.parser.error(), ParseError::HeadTooLarge);
}

TEST(HttpParser, TooManyHeadersIs431) {
  ParserLimits limits;
  limits.max_headers = 3;
  {
    Harness h(limits);
    EXPECT_EQ(h.feed("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n").state, State::Complete);
    EXPECT_EQ(h.request.header_count(), 3u);
  }
  {
    Harness h(limits);
    auto r = h.feed("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
    EXPECT_EQ(r.state, State::Failed);
    EXPECT_EQ(h.parser.error(), ParseError::TooManyHeaders);
    EXPECT_EQ(status_of(h.parser.error()), 431);
    EXPECT_EQ(h.request.header_count(), 3u) << "the extra header was not stored";
  }
  // The verdict does not depend on how the bytes were split (found by fuzz_request_head): a
  // 4th header with a bad name is a malformed request whether or not its first byte came alone.
  const std::string bad_fourth("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD\0: 4\r\n\r\n", 43);
  for (size_t step : {1u, 10000u}) {
    Harness h(limits);
    EXPECT_EQ(h.feed_in_pieces(bad_fourth, step).state, State::Failed);
    EXPECT_EQ(h.parser.error(), ParseError::BadRequest) << "step " << step;
  }
}

TEST(HttpParser, ContentLengthOverLimitIs413BeforeTheBodyArrives) {
  ParserLimits limits;
  limits.max_request_body = 10;
  {
    Harness h(limits);
    EXPECT_EQ(h.feed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789").state,
              State::Complete);
  }
  Harness h(limits);
  const std::string head = "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
  auto r = h.feed(head);  // no body byte sent: the client may be waiting for an answer
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(h.parser.error(), ParseError::BodyTooLarge);
  EXPECT_EQ(status_of(h.parser.error()), 413);
  EXPECT_TRUE(h.request.body.empty());
}

TEST(HttpParser, HugeContentLengthDoesNotReserveIt) {
  ParserLimits limits;
  limits.max_request_body = 1ull << 40;
  Harness h(limits);
  auto r = h.feed("POST / HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\nab");
  EXPECT_EQ(r.state, State::NeedMore);
  EXPECT_LT(h.request.body.capacity(), 2u << 20) << "a declared length is not allocated up front";
}

TEST(HttpParser, ChunkedBodyOverLimitIs413) {
  ParserLimits limits;
  limits.max_request_body = 10;
  {
    Harness h(limits);
    EXPECT_EQ(h.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n")
                  .state,
              State::Complete);
    EXPECT_EQ(h.request.body.size(), 10u);
  }
  Harness h(limits);
  auto r = h.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n");
  EXPECT_EQ(r.state, State::NeedMore);
  r = h.feed("6\r\n");  // the chunk size alone is enough to know
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(h.parser.error(), ParseError::BodyTooLarge);
  EXPECT_EQ(status_of(h.parser.error()), 413);
  EXPECT_EQ(h.request.body, "012345");
}

TEST(HttpParser, TrailersAreBoundedLikeTheHead) {
  ParserLimits limits;
  limits.max_header_bytes = 100;
  Harness h(limits);
  std::string req = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n";
  for (int i = 0; i < 20; ++i) req += "X-T: 123\r\n";
  auto r = h.feed(req);
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(h.parser.error(), ParseError::HeadTooLarge);
}

// ---- framing errors -------------------------------------------------------------------------

struct BadCase {
  const char* name;
  std::string request;
  ParseError error;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

class HttpParserRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(HttpParserRejects, WithTheRightError) {
  const BadCase& c = GetParam();
  for (size_t step : {1u, 10000u}) {
    SCOPED_TRACE("step " + std::to_string(step));
    Harness h;
    auto r = h.feed_in_pieces(c.request, step);
    EXPECT_EQ(r.state, State::Failed);
    EXPECT_EQ(h.parser.error(), c.error)
        << "got " << to_string(h.parser.error()) << ": " << h.parser.detail();
    EXPECT_NE(std::string_view(h.parser.detail()), "");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Framing, HttpParserRejects,
    ::testing::Values(
        BadCase{"ContentLengthAndTransferEncoding",
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                "3\r\nabc\r\n0\r\n\r\n",
                ParseError::ConflictingLength},
        BadCase{"TransferEncodingThenContentLength",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
                ParseError::ConflictingLength},
        BadCase{"DuplicateEqualContentLength",
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
                ParseError::DuplicateLength},
        BadCase{"DuplicateDifferentContentLength",
                "POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 4\r\n\r\nabcd",
                ParseError::DuplicateLength},
        BadCase{"ContentLengthList", "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc",
                ParseError::BadRequest},
        BadCase{"NegativeContentLength", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                ParseError::BadRequest},
        BadCase{"TransferEncodingNotEndingInChunked",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                ParseError::BadRequest},
        BadCase{"ObsFold", "GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n", ParseError::BadRequest},
        BadCase{"ObsFoldWithTab", "GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n",
                ParseError::BadRequest},
        BadCase{"BareLfRequestLine", "GET / HTTP/1.1\nHost: a\r\n\r\n", ParseError::BadRequest},
        BadCase{"BareLfHeader", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", ParseError::BadRequest},
        BadCase{"BareLfEndsHead", "GET / HTTP/1.1\r\nHost: a\r\n\n", ParseError::BadRequest},
        BadCase{"BareCrEndsHead", "GET / HTTP/1.1\r\nHost: a\r\n\rX", ParseError::BadRequest},
        BadCase{"BareCrInValue", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", ParseError::BadRequest},
        BadCase{"BareLfInTrailers",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\n\r\n",
                ParseError::BadRequest},
        BadCase{"SpaceInHeaderName", "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", ParseError::BadRequest},
        BadCase{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ParseError::BadRequest},
        BadCase{"EmptyHeaderName", "GET / HTTP/1.1\r\n: a\r\n\r\n", ParseError::BadRequest},
        BadCase{"ControlCharInValue", "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n",
                ParseError::BadRequest},
        BadCase{"DelInValue", "GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n", ParseError::BadRequest},
        BadCase{"TabInUrl", "GET /a\tb HTTP/1.1\r\n\r\n", ParseError::BadRequest},
        BadCase{"LowercaseMethod", "get / HTTP/1.1\r\n\r\n", ParseError::BadRequest},
        BadCase{"SpaceBeforeFirstHeader", "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
                ParseError::BadRequest},
        BadCase{"ChunkDataNotFollowedByCrlf",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
                ParseError::BadRequest},
        BadCase{"BadChunkSize", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                ParseError::BadRequest},
        BadCase{"Http2RequestLine", "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
                ParseError::UnsupportedVersion},
        BadCase{"Http12", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", ParseError::UnsupportedVersion},
        BadCase{"Http09", "GET / HTTP/0.9\r\n\r\n", ParseError::UnsupportedVersion},
        BadCase{"Http09WithoutVersion", "GET /\r\n\r\n", ParseError::UnsupportedVersion},
        BadCase{"ConnectWithContent",
                "CONNECT example.com:443 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
                ParseError::BadRequest},
        BadCase{"Http2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ParseError::UnsupportedVersion},
        BadCase{"MalformedVersion", "GET / HTTP/1.x\r\n\r\n", ParseError::BadRequest},
        BadCase{"TrailingSpaceAfterVersion", "GET / HTTP/1.1 \r\n\r\n", ParseError::BadRequest}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(HttpParser, ErrorStatusesAndMessages) {
  EXPECT_EQ(status_of(ParseError::BadRequest), 400);
  EXPECT_EQ(status_of(ParseError::ConflictingLength), 400);
  EXPECT_EQ(status_of(ParseError::DuplicateLength), 400);
  EXPECT_EQ(status_of(ParseError::HeadTooLarge), 431);
  EXPECT_EQ(status_of(ParseError::TooManyHeaders), 431);
  EXPECT_EQ(status_of(ParseError::BodyTooLarge), 413);
  EXPECT_EQ(status_of(ParseError::UnsupportedVersion), 505);
  EXPECT_STREQ(error_type_of(ParseError::BodyTooLarge), "request_too_large");
  EXPECT_STREQ(error_type_of(ParseError::HeadTooLarge), "request_header_fields_too_large");
  EXPECT_STREQ(error_type_of(ParseError::DuplicateLength), "invalid_request_error");
  EXPECT_NE(std::string_view(message_of(ParseError::BodyTooLarge)).find("max_request_body"),
            std::string_view::npos);
}

TEST(HttpParser, BadRequestDetailIsLlhttpsReason) {
  Harness h;
  h.feed("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n");
  EXPECT_EQ(h.parser.error(), ParseError::BadRequest);
  EXPECT_STREQ(h.parser.detail(), "Invalid character in Content-Length");
}

// ---- connection semantics -------------------------------------------------------------------

TEST(HttpParser, KeepAliveRules) {
  struct Case {
    const char* request;
    bool keep_alive;
    int minor;
  };
  for (const Case& c : {
           Case{"GET / HTTP/1.1\r\n\r\n", true, 1},
           Case{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false, 1},
           Case{"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", false, 1},
           Case{"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", false, 1},
           Case{"GET / HTTP/1.0\r\n\r\n", false, 0},
           Case{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true, 0},
           Case{"GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n",
                false, 1},
       }) {
    SCOPED_TRACE(c.request);
    Harness h;
    ASSERT_EQ(h.feed(c.request).state, State::Complete);
    EXPECT_EQ(h.request.keep_alive, c.keep_alive);
    EXPECT_EQ(h.request.http_minor, c.minor);
  }
}

TEST(HttpParser, UpgradeRequestIsServedWithItsBody) {
  Harness h;
  auto r = h.feed(
      "POST /v1/x HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nContent-Length: 2\r\n"
      "\r\nhi");
  ASSERT_EQ(r.state, State::Complete);
  EXPECT_EQ(h.request.body, "hi");
  EXPECT_FALSE(h.request.keep_alive) << "llhttp does not parse HTTP after an upgrade";
}

TEST(HttpParser, DataAfterConnectionCloseIsRefused) {
  Harness h;
  const std::string req = "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n";
  auto r = h.feed(req);
  ASSERT_EQ(r.state, State::Complete);
  EXPECT_FALSE(h.request.keep_alive);
  h.parser.next_message();
  r = h.parser.feed(req.data() + r.consumed, req.size() - r.consumed);
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(h.parser.error(), ParseError::BadRequest);
}

TEST(HttpParser, InMessageAndHeadCompleteTrackProgress) {
  Harness h;
  EXPECT_FALSE(h.parser.in_message());
  EXPECT_FALSE(h.parser.head_complete());
  EXPECT_EQ(h.feed("\r\n").state, State::NeedMore);  // a stray empty line is not a request yet
  EXPECT_FALSE(h.parser.in_message());
  h.feed("G");
  EXPECT_TRUE(h.parser.in_message());
  EXPECT_FALSE(h.parser.head_complete());
  h.feed("ET / HTTP/1.1\r\nContent-Length: 1\r\n\r");
  EXPECT_FALSE(h.parser.head_complete());
  h.feed("\n");
  EXPECT_TRUE(h.parser.head_complete());
  EXPECT_EQ(h.feed("x").state, State::Complete);
  h.parser.next_message();
  EXPECT_FALSE(h.parser.in_message());
  EXPECT_FALSE(h.parser.head_complete());
}

TEST(HttpParser, NextMessageAfterFailureStartsClean) {
  Harness h;
  EXPECT_EQ(h.feed("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n").state, State::Failed);
  h.parser.next_message();
  EXPECT_EQ(h.parser.error(), ParseError::None);
  auto r = h.feed("GET /ok HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.state, State::Complete);
  EXPECT_EQ(h.request.target(), "/ok");
  EXPECT_EQ(h.request.header_count(), 0u);
}

// ---- headers --------------------------------------------------------------------------------

TEST(HttpParser, HeaderLookupIsCaseInsensitiveAndReturnsTheFirst) {
  Harness h;
  ASSERT_EQ(h.feed("GET / HTTP/1.1\r\nAuthorization: Bearer one\r\nX-Request-ID: r1\r\n"
                   "authorization: Bearer two\r\n\r\n")
                .state,
            State::Complete);
  EXPECT_EQ(h.request.header("AUTHORIZATION").value_or(""), "Bearer one");
  EXPECT_EQ(h.request.header("x-request-id").value_or(""), "r1");
  EXPECT_FALSE(h.request.header("x-request").has_value());
  EXPECT_FALSE(h.request.header("x-request-id-2").has_value());
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
}

TEST(HttpParser, HopByHopHeadersIncludeConnectionTokens) {
  Harness h;
  ASSERT_EQ(h.feed("POST / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret ,x-other\r\n"
                   "Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-Sum\r\n"
                   "Transfer-Encoding: chunked\r\nUpgrade: foo\r\nProxy-Authorization: Basic x\r\n"
                   "Proxy-Connection: keep-alive\r\nX-Secret: s\r\nX-OTHER: o\r\n"
                   "Authorization: Bearer k\r\nContent-Type: application/json\r\n\r\n0\r\n\r\n")
                .state,
            State::Complete);
  std::vector<std::string> hop, end_to_end;
  for (size_t i = 0; i < h.request.header_count(); ++i) {
    (h.request.is_hop_by_hop(i) ? hop : end_to_end).emplace_back(h.request.header_at(i).name);
  }
  EXPECT_EQ(hop, (std::vector<std::string>{"Connection", "Keep-Alive", "TE", "Trailer",
                                           "Transfer-Encoding", "Upgrade", "Proxy-Authorization",
                                           "Proxy-Connection", "X-Secret", "X-OTHER"}));
  EXPECT_EQ(end_to_end, (std::vector<std::string>{"Host", "Authorization", "Content-Type"}));
}

TEST(HttpParser, ConnectionTokensDoNotLeakIntoTheNextRequest) {
  Harness h;
  ASSERT_EQ(h.feed("GET / HTTP/1.1\r\nConnection: X-Foo\r\nX-Foo: 1\r\n\r\n").state,
            State::Complete);
  EXPECT_TRUE(h.request.is_hop_by_hop(1));
  h.parser.next_message();
  ASSERT_EQ(h.feed("GET / HTTP/1.1\r\nX-Foo: 1\r\n\r\n").state, State::Complete);
  EXPECT_FALSE(h.request.is_hop_by_hop(0));
}

TEST(HttpParser, PathOfEachTargetForm) {
  struct Case {
    const char* line;
    const char* target;
    const char* path;
  };
  for (const Case& c : {
           Case{"GET /v1/models HTTP/1.1\r\n\r\n", "/v1/models", "/v1/models"},
           Case{"GET /v1/models?x=1&y=2 HTTP/1.1\r\n\r\n", "/v1/models?x=1&y=2", "/v1/models"},
           Case{"GET http://h:8080/v1/models?x HTTP/1.1\r\n\r\n", "http://h:8080/v1/models?x",
                "/v1/models"},
           Case{"GET http://h:8080 HTTP/1.1\r\n\r\n", "http://h:8080", "/"},
           Case{"OPTIONS * HTTP/1.1\r\n\r\n", "*", "*"},
       }) {
    SCOPED_TRACE(c.line);
    Harness h;
    ASSERT_EQ(h.feed(c.line).state, State::Complete) << h.parser.detail();
    EXPECT_EQ(h.request.target(), c.target);
    EXPECT_EQ(h.request.path(), c.path);
  }
}

// ---- reuse and allocation -------------------------------------------------------------------

TEST(HttpParser, ReusedObjectKeepsCapacityAndForgetsTheLastRequest) {
  Harness h;
  ASSERT_EQ(
      h.feed("POST /first HTTP/1.1\r\nX-Only-First: 1\r\nContent-Length: 5\r\n\r\nhello").state,
      State::Complete);
  const size_t head_cap = h.request.head_storage.capacity();
  const size_t headers_cap = h.request.headers_.capacity();
  const size_t body_cap = h.request.body.capacity();
  h.parser.next_message();
  EXPECT_TRUE(h.request.body.empty());
  EXPECT_EQ(h.request.header_count(), 0u);

  ASSERT_EQ(h.feed("GET /second HTTP/1.1\r\nHost: b\r\n\r\n").state, State::Complete);
  EXPECT_EQ(h.request.target(), "/second");
  EXPECT_FALSE(h.request.header("X-Only-First").has_value());
  EXPECT_FALSE(h.request.content_length.has_value());
  EXPECT_TRUE(h.request.body.empty());
  EXPECT_EQ(h.request.head_storage.capacity(), head_cap);
  EXPECT_EQ(h.request.headers_.capacity(), headers_cap);
  EXPECT_EQ(h.request.body.capacity(), body_cap);
}

TEST(HttpParser, SteadyStateParsingDoesNotAllocate) {
  const std::string json = R"({"model":"fast","messages":[],"stream":false})";
  const std::string a =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:8080\r\n"
      "Authorization: Bearer sk-agent-123\r\nContent-Type: application/json\r\n"
      "Connection: keep-alive, X-Hop\r\nContent-Length: " +
      std::to_string(json.size()) + "\r\n\r\n" + json;
  const std::string b =
      "POST /v1/embeddings HTTP/1.1\r\nHost: localhost:8080\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10\r\n{\"input\":\"hello\"\r\n1\r\n}\r\n0\r\n\r\n";
  Harness h;
  for (const std::string* warm : {&a, &b}) {
    ASSERT_EQ(h.feed(*warm).state, State::Complete);
    h.parser.next_message();
  }
  test::AllocationWindow window;
  for (int i = 0; i < 100; ++i) {
    const std::string& req = i % 2 ? b : a;
    for (size_t off = 0; off < req.size();) {  // in 3 pieces, like several reads would
      auto r = h.parser.feed(req.data() + off, std::min<size_t>(req.size() - off, 40));
      off += r.consumed;
      ASSERT_NE(r.state, State::Failed);
    }
    h.parser.next_message();
  }
  EXPECT_EQ(window.allocations(), 0u);
}

TEST(HttpParser, BigBodyBufferIsNotKeptForTheNextRequest) {
  Harness h;
  const std::string big(kMaxRetainedBodyCapacity + 10, 'x');
  const std::string req =
      "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big;
  ASSERT_EQ(h.feed(req).state, State::Complete);
  EXPECT_EQ(h.request.body.size(), big.size());
  h.parser.next_message();
  EXPECT_LE(h.request.body.capacity(), kMaxRetainedBodyCapacity);
}

// A request slot's parser serves another connection after reset() (server/request_slot.h):
// whatever state it was left in — mid-head, failed, after a non-keep-alive message — the next
// request parses exactly as on a new parser, under the limits reset() was given.
TEST(HttpParser, ResetParserServesTheNextConnectionLikeANewOne) {
  const std::string next =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n\r\n{}";
  for (std::string_view before :
       {std::string_view("POST /v1/chat/completions HTTP/1.1\r\nHo"),
        std::string_view("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string_view("GET / HTTP/1.0\r\n\r\n"), std::string_view("\r")}) {
    SCOPED_TRACE(before);
    Harness h;
    h.feed(before);
    h.parser.reset(ParserLimits{});
    EXPECT_FALSE(h.parser.in_message());
    EXPECT_EQ(h.request.header_count(), 0u);
    auto r = h.feed(next);
    ASSERT_EQ(r.state, State::Complete) << h.parser.detail();
    EXPECT_EQ(r.consumed, next.size());
    EXPECT_EQ(h.request.path(), "/v1/chat/completions");
    EXPECT_EQ(h.request.body, "{}");
    EXPECT_EQ(h.request.header_count(), 2u);
  }
  // The limits are the new ones.
  Harness h;
  ParserLimits small;
  small.max_request_body = 1;
  h.parser.reset(small);
  EXPECT_EQ(h.feed(next).state, State::Failed);
  EXPECT_EQ(h.parser.error(), ParseError::BodyTooLarge);
}

}  // namespace
}  // namespace sluice::http
