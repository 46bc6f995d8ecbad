// UpstreamBody: what an OpenAI-type provider receives — exactly the client's body, with the
// model replaced by the physical one and, when sluice asks for stream usage, include_usage
// turned on; Content-Length is the new size; nothing of the client's body is copied.
#include <gtest/gtest.h>

#include <string>

#include "core/http/request.h"
#include "core/json/request_fields.h"
#include "core/providers/upstream_body.h"

namespace sluice::providers {
namespace {

// One client request as the session hands it to a backend.
struct ClientRequest {
  http::HttpRequest http;
  json::RequestFields fields;
  AttemptRequest attempt{};

  ClientRequest(std::string body, std::string_view physical, bool ask_stream_usage) {
    http.body = std::move(body);
    json::ensure_padding(http.body);
    const json::ParseResult r = json::parse_request_fields(http.body, &fields);
    EXPECT_EQ(r.status, json::ParseStatus::Ok) << http.body;
    attempt.endpoint = filter::Endpoint::ChatCompletions;
    attempt.request = &http;
    attempt.fields = &fields;
    attempt.physical_model = physical;
    attempt.request_id = "req-1";
    attempt.ask_stream_usage = ask_stream_usage;
  }
};

// The bytes the provider gets: every piece in order. Also checks the size sluice announces.
std::string sent(const UpstreamBody& body) {
  std::string out;
  for (std::string_view piece : body.pieces()) out.append(piece);
  EXPECT_EQ(body.size(), out.size()) << "Content-Length would not match the bytes sent";
  return out;
}

std::string upstream_body(const std::string& client_body, bool ask_stream_usage) {
  ClientRequest c(client_body, "gpt-4o-mini", ask_stream_usage);
  UpstreamBody body;
  body.prepare(c.attempt);
  return sent(body);
}

// The provider's parser must read include_usage true and the physical model (and find no
// duplicate key: parse_request_fields refuses those).
void expect_provider_reads(const std::string& body, bool include_usage) {
  std::string padded = body;
  json::ensure_padding(padded);
  json::RequestFields f;
  ASSERT_EQ(json::parse_request_fields(padded, &f).status, json::ParseStatus::Ok) << body;
  EXPECT_EQ(f.model, "gpt-4o-mini") << body;
  EXPECT_EQ(f.include_usage, include_usage) << body;
}

TEST(UpstreamBody, NoStreamOptionsGetsThemInserted) {
  const std::string out = upstream_body(
      R"({"model":"fast","stream":true,"messages":[{"role":"user","content":"hi"}]})", true);
  EXPECT_EQ(out, R"({"stream_options":{"include_usage":true},"model":"gpt-4o-mini","stream":true,)"
                 R"("messages":[{"role":"user","content":"hi"}]})");
  expect_provider_reads(out, true);
}

TEST(UpstreamBody, StreamOptionsNullIsReplaced) {
  const std::string out =
      upstream_body(R"({"model":"fast","stream":true,"stream_options":null,"n":1})", true);
  EXPECT_EQ(
      out,
      R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"n":1})");
  expect_provider_reads(out, true);
}

TEST(UpstreamBody, OtherStreamOptionsAreKept) {
  const std::string out = upstream_body(
      R"({"stream_options": {"include_obfuscation": false}, "model": "fast", "stream": true})",
      true);
  EXPECT_EQ(out, R"({"stream_options": {"include_usage":true,"include_obfuscation": false}, )"
                 R"("model": "gpt-4o-mini", "stream": true})");
  expect_provider_reads(out, true);
  const std::string empty =
      upstream_body(R"({"model":"fast","stream":true,"stream_options":{ }})", true);
  EXPECT_EQ(empty,
            R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true }})");
  expect_provider_reads(empty, true);
}

TEST(UpstreamBody, IncludeUsageFalseBecomesTrue) {
  const std::string out = upstream_body(
      R"({"model":"fast","stream":true,"stream_options":{"include_usage":false,"x":1}})", true);
  EXPECT_EQ(
      out,
      R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true,"x":1}})");
  expect_provider_reads(out, true);
}

TEST(UpstreamBody, ClientsOwnIncludeUsageTrueIsLeftAsSent) {
  const std::string client =
      R"({"model":"fast","stream":true,"stream_options":{"include_usage":true}})";
  ClientRequest c(client, "gpt-4o-mini", true);
  UpstreamBody body;
  body.prepare(c.attempt);
  EXPECT_FALSE(body.asks_usage());
  EXPECT_EQ(sent(body),
            R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}})");
}

TEST(UpstreamBody, WithoutTheAskOnlyTheModelChanges) {
  const std::string client =
      R"({"model":"fast","stream":true,"stream_options":{"include_usage":false}})";
  EXPECT_EQ(upstream_body(client, false),
            R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":false}})");
}

TEST(UpstreamBody, NothingToChangeSendsTheClientsBytesUncopied) {
  ClientRequest c(R"({"model":"gpt-4o-mini","messages":[]})", "gpt-4o-mini", false);
  UpstreamBody body;
  body.prepare(c.attempt);
  ASSERT_EQ(body.pieces().size(), 1u);
  EXPECT_EQ(body.pieces()[0].data(), c.http.body.data());
  EXPECT_EQ(body.size(), c.http.body.size());
}

TEST(UpstreamBody, SplicesPointIntoTheClientsBody) {
  ClientRequest c(R"({"model":"fast","stream":true,"messages":[{"role":"user","content":"x"}]})",
                  "gpt-4o-mini", true);
  UpstreamBody body;
  body.prepare(c.attempt);
  EXPECT_TRUE(body.asks_usage());
  // ["{"][include_usage member,][body up to model][model][rest of the body]: the client's
  // bytes are referenced, not copied.
  ASSERT_EQ(body.pieces().size(), 5u);
  EXPECT_EQ(body.pieces()[0].data(), c.http.body.data());
  EXPECT_EQ(body.pieces()[2].data(), c.http.body.data() + c.fields.object_begin);
  EXPECT_EQ(body.pieces()[4].data(), c.http.body.data() + c.fields.model_end);
}

TEST(UpstreamBody, ReusedForTheNextAttempt) {
  UpstreamBody body;
  ClientRequest first(R"({"model":"fast","stream":true})", "gpt-4o-mini", true);
  body.prepare(first.attempt);
  ClientRequest second(R"({"model":"fast"})", "other", false);
  body.prepare(second.attempt);
  EXPECT_FALSE(body.asks_usage());
  EXPECT_EQ(sent(body), R"({"model":"other"})");
}

}  // namespace
}  // namespace sluice::providers
