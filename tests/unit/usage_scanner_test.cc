// UsageScanner: the usage read from every response shape sluice relays (JSON bodies and SSE
// streams, OpenAI and Anthropic), the content-byte count behind estimates, the usage-only chunk
// taken out of streams whose client did not ask for it — and that none of it depends on where
// the body was split into reads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/usage/usage.h"
#include "core/usage/usage_scanner.h"

namespace sluice::usage {
namespace {

using Kind = UsageScanner::Kind;
using Source = Usage::Source;

// What the client and the ledger would see from one response.
struct Outcome {
  std::string forwarded;  // every byte sent downstream, in order
  Usage usage;
  uint64_t content_bytes = 0;
};

void append_pieces(std::span<const UsageScanner::Piece> pieces, std::string* out) {
  for (const auto& piece : pieces) out->append(piece.data, piece.size);
}

// Feeds `body` in pieces of the given sizes (cycled). Each piece is copied into a buffer that
// is overwritten right after the call, as a reused read buffer would be, so that a scanner
// keeping a pointer into an old read fails here.
Outcome run(UsageScanner& scanner, Kind kind, bool strip, std::string_view body,
            const std::vector<size_t>& sizes) {
  Outcome o;
  scanner.begin(kind, strip);
  std::string read_buffer;
  size_t offset = 0, i = 0;
  while (offset < body.size()) {
    const size_t n = std::min(sizes[i++ % sizes.size()], body.size() - offset);
    read_buffer.assign(body.substr(offset, n));
    append_pieces(scanner.feed(read_buffer), &o.forwarded);
    read_buffer.assign(n, '#');
    offset += n;
  }
  append_pieces(scanner.flush(), &o.forwarded);
  o.usage = scanner.finish();
  o.content_bytes = scanner.content_bytes();
  return o;
}

Outcome run_whole(Kind kind, bool strip, std::string_view body) {
  UsageScanner scanner;
  return run(scanner, kind, strip, body, {body.size() + 1});
}

void expect_same_usage(const Usage& a, const Usage& b, const std::string& where) {
  EXPECT_EQ(a.source, b.source) << where;
  EXPECT_EQ(a.input_tokens, b.input_tokens) << where;
  EXPECT_EQ(a.output_tokens, b.output_tokens) << where;
  EXPECT_EQ(a.cached_input_tokens, b.cached_input_tokens) << where;
  EXPECT_EQ(a.cache_write_tokens, b.cache_write_tokens) << where;
  EXPECT_EQ(a.reasoning_tokens, b.reasoning_tokens) << where;
}

// Every way of cutting `body` in two, and byte by byte, gives what one read gives.
void expect_split_independent(Kind kind, bool strip, std::string_view body) {
  const Outcome whole = run_whole(kind, strip, body);
  UsageScanner scanner;  // one scanner for all runs: begin() must forget the previous one
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    const std::string where = "cut at " + std::to_string(cut);
    Outcome split = run(scanner, kind, strip, body, {cut == 0 ? body.size() + 1 : cut, 1u << 30});
    ASSERT_EQ(split.forwarded, whole.forwarded) << where;
    expect_same_usage(split.usage, whole.usage, where);
    ASSERT_EQ(split.content_bytes, whole.content_bytes) << where;
  }
  for (const std::vector<size_t>& sizes : {std::vector<size_t>{1}, {2}, {3, 1, 7}, {64}}) {
    const std::string where = "pieces of " + std::to_string(sizes[0]);
    Outcome split = run(scanner, kind, strip, body, sizes);
    ASSERT_EQ(split.forwarded, whole.forwarded) << where;
    expect_same_usage(split.usage, whole.usage, where);
    ASSERT_EQ(split.content_bytes, whole.content_bytes) << where;
  }
}

std::string sse(std::initializer_list<std::string_view> data_values) {
  std::string out;
  for (std::string_view d : data_values) out.append("data: ").append(d).append("\n\n");
  return out;
}

// ---- sample responses (shapes as the providers document them) -------------------------------

const std::string kChatJson =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hi! \"usage\": {\"prompt_tokens\": 7}",)"
    R"("refusal":null},"logprobs":null,"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,)"
    R"("prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},)"
    R"("completion_tokens_details":{"reasoning_tokens":128,"audio_tokens":0,)"
    R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},)"
    R"("system_fingerprint":"fp_1"})";

const std::string kCompletionsJson =
    R"({"id":"cmpl-1","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct",)"
    R"("choices":[{"text":"\n\nThis is a test.","index":0,"logprobs":null,"finish_reason":"length"}],)"
    R"("usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})";

const std::string kResponsesJson =
    R"({"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"o4-mini",)"
    R"("output":[{"type":"reasoning","id":"rs_1","summary":[]},{"type":"message","id":"msg_1",)"
    R"("status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello!",)"
    R"("annotations":[]}]}],"text":{"format":{"type":"text"}},)"
    R"("usage":{"input_tokens":2000,"input_tokens_details":{"cached_tokens":1500},)"
    R"("output_tokens":500,"output_tokens_details":{"reasoning_tokens":448},"total_tokens":2500}})";

const std::string kAnthropicJson =
    R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",)"
    R"("content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","stop_sequence":null,)"
    R"("usage":{"input_tokens":100,"cache_creation_input_tokens":2000,)"
    R"("cache_read_input_tokens":3000,"output_tokens":50}})";

std::string embeddings_json(int dimensions) {
  std::string out = R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[)";
  for (int i = 0; i < dimensions; ++i) {
    if (i) out.append(",\n        ");
    out.append(i % 2 ? "-0.00" : "0.0")
        .append(std::to_string((7919u * static_cast<unsigned>(i + 1)) % 99991u));
  }
  out.append(
      R"(]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}})");
  return out;
}

const std::string kChunkHead =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,)"
    R"("model":"gpt-4o-mini","system_fingerprint":"fp_1",)";
const std::string kUsageOnlyChunk =
    kChunkHead + R"("choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,)"
                 R"("total_tokens":21,"prompt_tokens_details":{"cached_tokens":4},)"
                 R"("completion_tokens_details":{"reasoning_tokens":0}}})";

// A token's chunk as OpenAI sends it with stream_options.include_usage ("usage": null in every
// chunk) and, null_usage false, as it sends it without.
std::string content_chunk(std::string_view content, bool null_usage = true) {
  return kChunkHead + R"("choices":[{"index":0,"delta":{"content":")" + std::string(content) +
         R"("},"logprobs":null,"finish_reason":null}])" + (null_usage ? R"(,"usage":null})" : "}");
}
std::string finish_chunk(bool null_usage = true) {
  return kChunkHead +
         R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}])" +
         (null_usage ? R"(,"usage":null})" : "}");
}

// An OpenAI chat stream as sent with stream_options.include_usage, and as sent without it.
const std::string kChatStreamWithUsage = sse(
    {content_chunk("Hello"), content_chunk(" world"), finish_chunk(), kUsageOnlyChunk, "[DONE]"});
const std::string kChatStreamWithoutUsage = sse(
    {content_chunk("Hello", false), content_chunk(" world", false), finish_chunk(false), "[DONE]"});

const std::string kResponsesStream =
    "event: response.created\n"
    R"(data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1",)"
    R"("object":"response","status":"in_progress","output":[],"usage":null}})"
    "\n\n"
    "event: response.output_text.delta\n"
    R"(data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1",)"
    R"("output_index":0,"content_index":0,"delta":"Hel"})"
    "\n\n"
    "event: response.output_text.delta\n"
    R"(data: {"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1",)"
    R"("output_index":0,"content_index":0,"delta":"lo"})"
    "\n\n"
    "event: response.output_text.done\n"
    R"(data: {"type":"response.output_text.done","sequence_number":6,"item_id":"msg_1",)"
    R"("output_index":0,"content_index":0,"text":"Hello"})"
    "\n\n"
    "event: response.completed\n"
    R"(data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_1",)"
    R"("object":"response","status":"completed","output":[{"type":"message","content":[)"
    R"({"type":"output_text","text":"Hello"}]}],"usage":{"input_tokens":37,)"
    R"("input_tokens_details":{"cached_tokens":32},"output_tokens":11,)"
    R"("output_tokens_details":{"reasoning_tokens":3},"total_tokens":48}}})"
    "\n\n";

const std::string kAnthropicStreamStart =
    "event: message_start\n"
    R"(data: {"type":"message_start","message":{"id":"msg_1","type":"message",)"
    R"("role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,)"
    R"("stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":100,)"
    R"("cache_read_input_tokens":200,"output_tokens":1}}})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
    "\n\n"
    "event: ping\n"
    R"(data: {"type": "ping"})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there, friend"}})"
    "\n\n";
const std::string kAnthropicStreamEnd =
    "event: content_block_stop\n"
    R"(data: {"type":"content_block_stop","index":0})"
    "\n\n"
    "event: message_delta\n"
    R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
    R"("usage":{"output_tokens":15}})"
    "\n\n"
    "event: message_stop\n"
    R"(data: {"type":"message_stop"})"
    "\n\n";
const std::string kAnthropicStream = kAnthropicStreamStart + kAnthropicStreamEnd;

// ---- JSON bodies -----------------------------------------------------------------------------

TEST(UsageScannerJson, OpenAIChatWithCachedAndReasoningDetails) {
  Outcome o = run_whole(Kind::Json, false, kChatJson);
  EXPECT_EQ(o.forwarded, kChatJson);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 1200u);
  EXPECT_EQ(o.usage.output_tokens, 300u);
  EXPECT_EQ(o.usage.cached_input_tokens, 1024u);
  EXPECT_EQ(o.usage.cache_write_tokens, 0u);
  EXPECT_EQ(o.usage.reasoning_tokens, 128u);
  // The message content (raw, escapes as written); the "usage" inside it is text, not usage.
  EXPECT_EQ(o.content_bytes, std::string_view(R"(Hi! \"usage\": {\"prompt_tokens\": 7})").size());
}

TEST(UsageScannerJson, OpenAICompletions) {
  Outcome o = run_whole(Kind::Json, false, kCompletionsJson);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 5u);
  EXPECT_EQ(o.usage.output_tokens, 7u);
  EXPECT_EQ(o.usage.cached_input_tokens, 0u);
  EXPECT_EQ(o.content_bytes, std::string_view(R"(\n\nThis is a test.)").size());
}

TEST(UsageScannerJson, OpenAIEmbeddingsLargeBody) {
  const std::string body = embeddings_json(3072);
  ASSERT_GT(body.size(), 40000u);
  UsageScanner scanner;
  // Read in 1 KiB pieces: the usage object at the end is found without keeping the body.
  Outcome o = run(scanner, Kind::Json, false, body, {1024});
  EXPECT_EQ(o.forwarded, body);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 8u);
  EXPECT_EQ(o.usage.output_tokens, 0u);
  EXPECT_EQ(o.content_bytes, 0u);
}

TEST(UsageScannerJson, OpenAIResponses) {
  Outcome o = run_whole(Kind::Json, false, kResponsesJson);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 2000u);  // Responses' input_tokens include the cached ones
  EXPECT_EQ(o.usage.cached_input_tokens, 1500u);
  EXPECT_EQ(o.usage.output_tokens, 500u);
  EXPECT_EQ(o.usage.reasoning_tokens, 448u);
  EXPECT_EQ(o.content_bytes, 6u);  // "Hello!"
}

TEST(UsageScannerJson, AnthropicWithCacheReadAndCreation) {
  Outcome o = run_whole(Kind::Json, false, kAnthropicJson);
  EXPECT_EQ(o.usage.source, Source::Reported);
  // Anthropic's input_tokens exclude both cache counts: every prompt token is 100+2000+3000.
  EXPECT_EQ(o.usage.input_tokens, 5100u);
  EXPECT_EQ(o.usage.cached_input_tokens, 3000u);
  EXPECT_EQ(o.usage.cache_write_tokens, 2000u);
  EXPECT_EQ(o.usage.output_tokens, 50u);
  EXPECT_EQ(o.content_bytes, 6u);
}

TEST(UsageScannerJson, DeepSeekCacheHitTokens) {
  Outcome o = run_whole(Kind::Json, false,
                        R"({"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,)"
                        R"("prompt_cache_hit_tokens":60,"prompt_cache_miss_tokens":40}})");
  EXPECT_EQ(o.usage.input_tokens, 100u);
  EXPECT_EQ(o.usage.cached_input_tokens, 60u);
}

TEST(UsageScannerJson, EveryShapeIsSplitIndependent) {
  for (const std::string* body :
       {&kChatJson, &kCompletionsJson, &kResponsesJson, &kAnthropicJson}) {
    SCOPED_TRACE(body->substr(0, 40));
    expect_split_independent(Kind::Json, false, *body);
    // Stripping applies to event streams only: a JSON body passes untouched.
    EXPECT_EQ(run_whole(Kind::Json, true, *body).forwarded, *body);
  }
}

TEST(UsageScannerJson, UsageOnlyAtTheTopLevelCounts) {
  // A "usage" key deeper in the document (tool output, metadata) is not the response's usage.
  Outcome o = run_whole(Kind::Json, false,
                        R"({"choices":[{"message":{"usage":{"prompt_tokens":5}}}],)"
                        R"("metadata":{"usage":{"prompt_tokens":6}}})");
  EXPECT_EQ(o.usage.source, Source::None);
  // An error body: nothing to read.
  o = run_whole(Kind::Json, false,
                R"({"error":{"message":"Rate limit","type":"requests","code":"rate_limit"}})");
  EXPECT_EQ(o.usage.source, Source::None);
  EXPECT_EQ(o.content_bytes, 0u);
}

TEST(UsageScannerJson, NumbersThatAreNotTokenCountsAreIgnored) {
  Outcome o = run_whole(Kind::Json, false,
                        R"({"usage":{"prompt_tokens":-5,"completion_tokens":1.5,)"
                        R"("total_tokens":"21"}})");
  EXPECT_EQ(o.usage.source, Source::None);
  o = run_whole(Kind::Json, false,
                R"({"usage":{"prompt_tokens":10,"completion_tokens":-3,)"
                R"("prompt_tokens_details":{"cached_tokens":18446744073709551615}}})");
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 10u);
  EXPECT_EQ(o.usage.output_tokens, 0u);
  EXPECT_EQ(o.usage.cached_input_tokens, 0u);
  o = run_whole(Kind::Json, false,
                R"({"usage":{"prompt_tokens":99999999999999999999,"completion_tokens":4}})");
  EXPECT_EQ(o.usage.source, Source::None) << "a number simdjson cannot hold spoils the object";
}

TEST(UsageScannerJson, CachedCountsNeverExceedInput) {
  // So that pricing's (input - cached - cache_write) cannot go negative.
  Outcome o = run_whole(Kind::Json, false,
                        R"({"usage":{"prompt_tokens":10,"completion_tokens":2,)"
                        R"("prompt_tokens_details":{"cached_tokens":50},)"
                        R"("completion_tokens_details":{"reasoning_tokens":9}}})");
  EXPECT_EQ(o.usage.input_tokens, 10u);
  EXPECT_EQ(o.usage.cached_input_tokens, 10u);
  EXPECT_EQ(o.usage.reasoning_tokens, 2u);
}

TEST(UsageScannerJson, OversizedUsageObjectIsIgnoredNotBuffered) {
  std::string body = R"({"usage":{"prompt_tokens":3,"pad":")";
  body.append(8000, 'x');
  body.append(R"(","completion_tokens":4}})");
  Outcome o = run_whole(Kind::Json, false, body);
  EXPECT_EQ(o.usage.source, Source::None);
  EXPECT_EQ(o.forwarded, body);
}

// ---- SSE streams -----------------------------------------------------------------------------

TEST(UsageScannerStream, OpenAIChatFinalUsageChunk) {
  Outcome o = run_whole(Kind::EventStream, false, kChatStreamWithUsage);
  EXPECT_EQ(o.forwarded, kChatStreamWithUsage);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 9u);
  EXPECT_EQ(o.usage.output_tokens, 12u);
  EXPECT_EQ(o.usage.cached_input_tokens, 4u);
  EXPECT_EQ(o.content_bytes, 11u);  // "Hello" + " world"
}

TEST(UsageScannerStream, UsageChunkWithNonEmptyChoicesCounts) {
  const std::string stream =
      sse({content_chunk("Hi", false),
           kChunkHead + R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}],)"
                        R"("usage":{"prompt_tokens":30,"completion_tokens":2,"total_tokens":32}})",
           "[DONE]"});
  Outcome o = run_whole(Kind::EventStream, true, stream);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 30u);
  EXPECT_EQ(o.usage.output_tokens, 2u);
  // It carries content (a finish reason): it is not the usage-only chunk and is not removed.
  EXPECT_EQ(o.forwarded, stream);
  expect_split_independent(Kind::EventStream, true, stream);
}

TEST(UsageScannerStream, ContinuousUsageLastUpdateWins) {
  const std::string stream =
      sse({kChunkHead + R"("choices":[{"index":0,"delta":{"content":"a"}}],)"
                        R"("usage":{"prompt_tokens":30,"completion_tokens":1}})",
           kChunkHead + R"("choices":[{"index":0,"delta":{"content":"b"}}],)"
                        R"("usage":{"prompt_tokens":30,"completion_tokens":2}})"});
  Outcome o = run_whole(Kind::EventStream, false, stream);
  EXPECT_EQ(o.usage.input_tokens, 30u);
  EXPECT_EQ(o.usage.output_tokens, 2u);
}

TEST(UsageScannerStream, StreamWithoutUsageIsNoneWithContentBytes) {
  Outcome o = run_whole(Kind::EventStream, false, kChatStreamWithoutUsage);
  EXPECT_EQ(o.usage.source, Source::None);
  EXPECT_EQ(o.usage.total(), 0u);
  EXPECT_EQ(o.content_bytes, 11u);
  EXPECT_EQ(estimate_tokens_from_bytes(o.content_bytes), 3u);
}

TEST(UsageScannerStream, OpenAIResponsesCompleted) {
  Outcome o = run_whole(Kind::EventStream, false, kResponsesStream);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 37u);
  EXPECT_EQ(o.usage.cached_input_tokens, 32u);
  EXPECT_EQ(o.usage.output_tokens, 11u);
  EXPECT_EQ(o.usage.reasoning_tokens, 3u);
  // The deltas only: the ".done" and "completed" events repeat the same text.
  EXPECT_EQ(o.content_bytes, 5u);
  expect_split_independent(Kind::EventStream, false, kResponsesStream);
}

TEST(UsageScannerStream, AnthropicStartAndDeltaWithCache) {
  Outcome o = run_whole(Kind::EventStream, false, kAnthropicStream);
  EXPECT_EQ(o.forwarded, kAnthropicStream);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 325u);  // 25 + 100 written + 200 read
  EXPECT_EQ(o.usage.cached_input_tokens, 200u);
  EXPECT_EQ(o.usage.cache_write_tokens, 100u);
  EXPECT_EQ(o.usage.output_tokens, 15u);  // message_delta's count replaces message_start's 1
  EXPECT_EQ(o.content_bytes, 19u);        // "Hello" + " there, friend"
  expect_split_independent(Kind::EventStream, false, kAnthropicStream);
  // Nothing in an Anthropic stream looks like OpenAI's usage-only chunk.
  EXPECT_EQ(run_whole(Kind::EventStream, true, kAnthropicStream).forwarded, kAnthropicStream);
}

TEST(UsageScannerStream, AnthropicDeltaWithCumulativeInputCounts) {
  // Newer message_delta events repeat the input counts; the last value of each field wins.
  const std::string stream = kAnthropicStreamStart +
                             "event: message_delta\n"
                             R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},)"
                             R"("usage":{"input_tokens":25,"cache_creation_input_tokens":100,)"
                             R"("cache_read_input_tokens":200,"output_tokens":40}})"
                             "\n\n";
  Outcome o = run_whole(Kind::EventStream, false, stream);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 325u);
  EXPECT_EQ(o.usage.output_tokens, 40u);
}

TEST(UsageScannerStream, AnthropicCutBeforeMessageDeltaIsEstimatedOutput) {
  Outcome o = run_whole(Kind::EventStream, false, kAnthropicStreamStart);
  EXPECT_EQ(o.usage.source, Source::Estimated);
  EXPECT_EQ(o.usage.input_tokens, 325u);  // as reported by message_start
  EXPECT_EQ(o.usage.cached_input_tokens, 200u);
  EXPECT_EQ(o.content_bytes, 19u);
  EXPECT_EQ(o.usage.output_tokens, estimate_tokens_from_bytes(19));  // not the placeholder 1
}

TEST(UsageScannerStream, EverySplitOfAStreamGivesTheSameResult) {
  expect_split_independent(Kind::EventStream, false, kChatStreamWithUsage);
  expect_split_independent(Kind::EventStream, false, kChatStreamWithoutUsage);
}

TEST(UsageScannerStream, MultiLineDataAndOtherFields) {
  // One event's data split over two data: lines (joined with "\n"), with id/retry/comment
  // lines and CRLF endings around it.
  const std::string stream =
      ": keep-alive\r\n\r\n"
      "id: 7\r\n"
      "data: {\"choices\":[],\r\n"
      "data: \"usage\":{\"prompt_tokens\":4,\"completion_tokens\":6}}\r\n"
      "retry: 1000\r\n\r\n"
      "data:[DONE]\r\n\r\n";
  Outcome o = run_whole(Kind::EventStream, false, stream);
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 4u);
  EXPECT_EQ(o.usage.output_tokens, 6u);
  expect_split_independent(Kind::EventStream, false, stream);
}

TEST(UsageScannerStream, UsageMustBeAtItsPlaceInTheEvent) {
  // A tool call whose arguments mention usage, and a nested "usage" object: neither counts.
  const std::string stream =
      sse({kChunkHead + R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{)"
                        R"("arguments":"{\"usage\":{\"prompt_tokens\":5}}"}}]}}],"usage":null})",
           R"({"meta":{"usage":{"prompt_tokens":6}},"choices":[]})"});
  Outcome o = run_whole(Kind::EventStream, false, stream);
  EXPECT_EQ(o.usage.source, Source::None);
  EXPECT_EQ(o.content_bytes, std::string_view(R"({\"usage\":{\"prompt_tokens\":5}})").size());
}

TEST(UsageScannerStream, BeginForgetsThePreviousAttempt) {
  UsageScanner scanner;
  Outcome first = run(scanner, Kind::EventStream, false, kChatStreamWithUsage, {50});
  EXPECT_EQ(first.usage.source, Source::Reported);
  // The retry's stream is cut in the middle of an event: nothing of attempt one survives.
  Outcome second =
      run(scanner, Kind::EventStream, true, kChatStreamWithoutUsage.substr(0, 120), {50});
  EXPECT_EQ(second.usage.source, Source::None);
  EXPECT_EQ(second.forwarded, kChatStreamWithoutUsage.substr(0, 120));
}

TEST(UsageScannerStream, LongEventIsReadAsItArrives) {
  // A Responses stream whose response.completed event repeats a long output (longer than the
  // scanner keeps of one event): the usage at its end is still read, however it is split.
  std::string text;
  while (text.size() < 100 * 1024) text.append("All work and no play. ");
  const std::string stream =
      "event: response.output_text.delta\n"
      R"(data: {"type":"response.output_text.delta","delta":")" +
      text +
      "\"}\n\n"
      "event: response.completed\n"
      R"(data: {"type":"response.completed","response":{"output":[{"type":"message",)"
      R"("content":[{"type":"output_text","text":")" +
      text +
      R"("}]}],"usage":{"input_tokens":7,)"
      R"("output_tokens":25000,"output_tokens_details":{"reasoning_tokens":0}}}})"
      "\n\n";
  ASSERT_GT(stream.size(), 2 * UsageScanner::kMaxEventData);
  UsageScanner scanner;
  for (const std::vector<size_t>& sizes :
       {std::vector<size_t>{stream.size()}, {1000}, {7, 1, 30}, {65536, 1}}) {
    for (bool strip : {false, true}) {
      Outcome o = run(scanner, Kind::EventStream, strip, stream, sizes);
      EXPECT_EQ(o.forwarded, stream);
      EXPECT_EQ(o.usage.source, Source::Reported);
      EXPECT_EQ(o.usage.input_tokens, 7u);
      EXPECT_EQ(o.usage.output_tokens, 25000u);
      EXPECT_EQ(o.content_bytes, text.size());  // the delta; the completed event repeats it
    }
  }
}

// ---- stripping the usage-only chunk ----------------------------------------------------------

TEST(UsageScannerStrip, ClientSeesTheStreamItWouldHaveGot) {
  Outcome o = run_whole(Kind::EventStream, true, kChatStreamWithUsage);
  EXPECT_EQ(o.forwarded, kChatStreamWithoutUsage);
  // ... and the usage was still read from the chunk that was taken out.
  EXPECT_EQ(o.usage.source, Source::Reported);
  EXPECT_EQ(o.usage.input_tokens, 9u);
  EXPECT_EQ(o.usage.output_tokens, 12u);
}

TEST(UsageScannerStrip, EverySplitPointAndByteByByte) {
  expect_split_independent(Kind::EventStream, true, kChatStreamWithUsage);
  EXPECT_EQ(run_whole(Kind::EventStream, true, kChatStreamWithUsage).forwarded,
            kChatStreamWithoutUsage);
}

TEST(UsageScannerStrip, CrLfAndLoneCrLineEndings) {
  for (std::string_view eol : {"\r\n", "\r"}) {
    auto stream = [&](bool with_usage) {
      std::string s;
      for (const std::string& d : {content_chunk("Hi", with_usage), finish_chunk(with_usage)}) {
        s.append("data: ").append(d).append(eol).append(eol);
      }
      if (with_usage) s.append("data: ").append(kUsageOnlyChunk).append(eol).append(eol);
      s.append("data: [DONE]").append(eol).append(eol);
      return s;
    };
    SCOPED_TRACE(eol == "\r" ? "CR" : "CRLF");
    EXPECT_EQ(run_whole(Kind::EventStream, true, stream(true)).forwarded, stream(false));
    expect_split_independent(Kind::EventStream, true, stream(true));
  }
}

TEST(UsageScannerStrip, UsageChunkAtTheVeryEnd) {
  // The usage chunk is the last thing, its final "\r" ending the body: still taken out.
  const std::string head = "data: " + content_chunk("Hi") + "\r\r";
  const std::string stream = head + "data: " + kUsageOnlyChunk + "\r\r";
  Outcome o = run_whole(Kind::EventStream, true, stream);
  EXPECT_EQ(o.forwarded, "data: " + content_chunk("Hi", false) + "\r\r");
  EXPECT_EQ(o.usage.input_tokens, 9u);
  expect_split_independent(Kind::EventStream, true, stream);
}

TEST(UsageScannerStrip, OnlyTheUsageOnlyChunkIsRemoved) {
  // Azure's prompt_filter_results chunk has empty choices but no usage: it stays. So do
  // events with other fields, and a stream cut inside the usage chunk (never complete).
  const std::string azure_first =
      R"({"choices":[],"created":0,"id":"","model":"","object":"",)"
      R"("prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]})";
  const std::string with_id = "id: 1\ndata: " + kUsageOnlyChunk + "\n\n";
  const std::string stream = sse({azure_first, content_chunk("x", false)}) + with_id;
  EXPECT_EQ(run_whole(Kind::EventStream, true, stream).forwarded, stream);
  const std::string cut = sse({content_chunk("x", false)}) + "data: " + kUsageOnlyChunk + "\n";
  Outcome o = run_whole(Kind::EventStream, true, cut);
  EXPECT_EQ(o.forwarded, cut);
  EXPECT_EQ(o.usage.input_tokens, 9u);
  expect_split_independent(Kind::EventStream, true, cut);
}

TEST(UsageScannerStrip, UndecidedEventHeldOnlyUpToTheBound) {
  // An event that starts like a usage-only chunk and never decides: after kMaxHeldBytes the
  // scanner lets it go instead of holding more.
  std::string stream = R"(data: {"pad":")";
  stream.append(200 * 1024, 'a');
  UsageScanner scanner;
  scanner.begin(Kind::EventStream, true);
  std::string forwarded;
  for (size_t off = 0; off < stream.size(); off += 1000) {
    append_pieces(scanner.feed(std::string_view(stream).substr(off, 1000)), &forwarded);
    ASSERT_LE(off + std::min<size_t>(1000, stream.size() - off) - forwarded.size(),
              UsageScanner::kMaxHeldBytes);
  }
  append_pieces(scanner.flush(), &forwarded);
  EXPECT_EQ(forwarded, stream);
}

TEST(UsageScannerStrip, UsageOnlyChunkLongerThanTheHoldBoundIsKept) {
  // Whole or split, the same answer: such an event is never held, so never removed.
  const std::string padded = kChunkHead + R"("pad":")" + std::string(20000, 'p') +
                             R"(","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1}})";
  const std::string stream = sse({content_chunk("x", false), padded});
  UsageScanner scanner;
  for (const std::vector<size_t>& sizes : {std::vector<size_t>{stream.size()}, {1000}, {1}}) {
    Outcome o = run(scanner, Kind::EventStream, true, stream, sizes);
    EXPECT_EQ(o.forwarded, stream);
    EXPECT_EQ(o.usage.input_tokens, 9u);
  }
}

TEST(UsageScannerStrip, FlushReleasesAHeldEvent) {
  UsageScanner scanner;
  scanner.begin(Kind::EventStream, true);
  std::string forwarded;
  append_pieces(scanner.feed(R"(data: {"id":"x",)"), &forwarded);
  EXPECT_EQ(forwarded, "");  // might be the usage-only chunk
  append_pieces(scanner.flush(), &forwarded);
  EXPECT_EQ(forwarded, R"(data: {"id":"x",)");
}

TEST(UsageScannerStrip, WithoutStrippingTheInputIsForwardedAsIs) {
  UsageScanner scanner;
  scanner.begin(Kind::EventStream, false);
  const std::string chunk = kChatStreamWithUsage.substr(0, 77);
  auto pieces = scanner.feed(chunk);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].data, chunk.data());  // no copy
  EXPECT_EQ(pieces[0].size, chunk.size());
  EXPECT_TRUE(scanner.flush().empty());
}

// ---- stripping the chunks' "usage": null ---------------------------------------------------

// What a client gets for one `data: <data>` event of a stream sluice asked usage for (the data
// back out of the event, or "<event changed>" when the SSE framing did not survive).
std::string stripped_data(std::string_view data, std::string_view eol = "\n") {
  const std::string event = "data: " + std::string(data) + std::string(eol) + std::string(eol);
  const Outcome o = run_whole(Kind::EventStream, true, event);
  const std::string tail = std::string(eol) + std::string(eol);
  if (!o.forwarded.starts_with("data: ") || !o.forwarded.ends_with(tail)) return "<event changed>";
  // Split or whole, the client gets the same.
  expect_split_independent(Kind::EventStream, true, event);
  return o.forwarded.substr(6, o.forwarded.size() - 6 - tail.size());
}

TEST(UsageScannerStripNullUsage, TheStreamAsIfUsageHadNeverBeenAsked) {
  // Every chunk loses "usage":null, the usage-only chunk goes: byte for byte what OpenAI sends
  // a client without include_usage.
  EXPECT_EQ(run_whole(Kind::EventStream, true, kChatStreamWithUsage).forwarded,
            kChatStreamWithoutUsage);
  // A stream sent without include_usage is untouched.
  EXPECT_EQ(run_whole(Kind::EventStream, true, kChatStreamWithoutUsage).forwarded,
            kChatStreamWithoutUsage);
}

TEST(UsageScannerStripNullUsage, ChunksWithoutTheMemberAreForwardedAsTheyCame) {
  // A provider that sends the usage-only chunk but no "usage": null in the others (the chunks
  // without the member skip the search for it): only the usage-only chunk goes, whatever the
  // split.
  const std::string stream = sse({content_chunk("Hello", false), content_chunk(" world", false),
                                  finish_chunk(false), kUsageOnlyChunk, "[DONE]"});
  EXPECT_EQ(run_whole(Kind::EventStream, true, stream).forwarded, kChatStreamWithoutUsage);
  expect_split_independent(Kind::EventStream, true, stream);
  expect_split_independent(Kind::EventStream, true, kChatStreamWithoutUsage);
  EXPECT_EQ(run_whole(Kind::EventStream, true, stream).content_bytes,
            run_whole(Kind::EventStream, true, kChatStreamWithUsage).content_bytes);
}

TEST(UsageScannerStripNullUsage, MemberLastFirstMiddleOrAlone) {
  EXPECT_EQ(stripped_data(R"({"a":1,"choices":[{"x":[1,{}]}],"usage":null})"),
            R"({"a":1,"choices":[{"x":[1,{}]}]})");
  EXPECT_EQ(stripped_data(R"({"usage":null,"a":1})"), R"({"a":1})");
  EXPECT_EQ(stripped_data(R"({"a":1,"usage":null,"obfuscation":"Xy"})"),
            R"({"a":1,"obfuscation":"Xy"})");
  EXPECT_EQ(stripped_data(R"({"usage":null})"), "{}");
  // An empty choices list with null usage is a chunk like any other, not the usage-only one.
  EXPECT_EQ(stripped_data(R"({"id":"c","choices":[],"usage":null})"), R"({"id":"c","choices":[]})");
}

TEST(UsageScannerStripNullUsage, WhitespaceAroundTheMember) {
  EXPECT_EQ(stripped_data(R"({ "a": 1, "usage" : null })"), R"({ "a": 1 })");
  EXPECT_EQ(stripped_data("{\"a\":1,\t\"usage\":\tnull\t}"), "{\"a\":1\t}");
  EXPECT_EQ(stripped_data(R"({ "usage": null, "a": 1 })"), R"({ "a": 1 })");
  EXPECT_EQ(stripped_data(R"({ "usage": null })"), R"({  })");
  EXPECT_EQ(stripped_data(R"( {"a":1 , "usage":null} )"), R"( {"a":1 } )");
  for (std::string_view eol : {"\r\n", "\r"}) {
    EXPECT_EQ(stripped_data(R"({"a":1,"usage":null})", eol), R"({"a":1})");
  }
}

TEST(UsageScannerStripNullUsage, WhatCannotBeSafelyRemovedIsLeftAsItCame) {
  for (std::string_view data : {
           // not a top-level member
           R"({"choices":[{"delta":{},"usage":null}],"x":{"usage":null}})",
           // inside strings, or the tail of another key
           R"({"content":"\"usage\":null, ","x\"usage":null})",
           R"({"a":"}","b":"{\"usage\": null}"})",
           // not null, or not quite the key
           R"({"choices":[{"index":0}],"usage":{"prompt_tokens":1}})",
           R"({"usage":nullx,"a":1})",
           R"({"us\u0061ge":null})",
           R"({"usage ":null,"Usage":null})",
           // not an object, or malformed around the member
           R"([{"usage":null}])",
           R"({"a" "usage":null})",
           R"({"a":1,"usage":null)",
           "[DONE]",
       }) {
    EXPECT_EQ(stripped_data(data), data);
  }
}

TEST(UsageScannerStripNullUsage, StringsAndEscapesAtEveryOffset) {
  // The member is found by a walk over the document in 64-byte blocks: strings, escapes and
  // nesting are right wherever a block boundary falls.
  for (size_t pad = 0; pad < 140; ++pad) {
    const std::string a(pad, 'a');
    SCOPED_TRACE("pad " + std::to_string(pad));
    // An even run of backslashes ends the string: the member after it is the chunk's.
    EXPECT_EQ(stripped_data(R"({"c":")" + a + R"(\\","usage":null})"), R"({"c":")" + a + R"(\\"})");
    // An odd run escapes the quote: the key is x\"usage, not usage.
    const std::string decoy = R"({"c":")" + a + R"(","x\\\"usage":null})";
    EXPECT_EQ(stripped_data(decoy), decoy);
    // Nested members stay; the top-level one after them goes.
    EXPECT_EQ(stripped_data(R"({"c":")" + a + R"(","d":[{"usage":null}],"usage":null,"e":{}})"),
              R"({"c":")" + a + R"(","d":[{"usage":null}],"e":{}})");
  }
}

TEST(UsageScannerStripNullUsage, OnlyInEventsOfOneDataLine) {
  // Several data lines, other fields, a comment, an event the body ends inside of: as sent.
  for (std::string_view stream : {
           "data: {\"a\":1,\ndata: \"usage\":null}\n\n",
           "data: {\"a\":1,\"usage\":null}\ndata: {}\n\n",
           "id: 3\ndata: {\"a\":1,\"usage\":null}\n\n",
           "data: {\"a\":1,\"usage\":null}\n: comment\n\n",
           "data: {\"a\":1,\"usage\":null}\n",
           "data: {\"a\":1,\"usage\":null}",
       }) {
    EXPECT_EQ(run_whole(Kind::EventStream, true, stream).forwarded, stream);
    expect_split_independent(Kind::EventStream, true, stream);
  }
  // Without stripping nothing changes, and a JSON body is never changed.
  const std::string one = "data: {\"a\":1,\"usage\":null}\n\n";
  EXPECT_EQ(run_whole(Kind::EventStream, false, one).forwarded, one);
  EXPECT_EQ(run_whole(Kind::Json, true, R"({"a":1,"usage":null})").forwarded,
            R"({"a":1,"usage":null})");
}

TEST(UsageScannerStripNullUsage, EveryChunkOfALongStreamWhateverTheSplit) {
  std::string with, without;
  for (int i = 0; i < 40; ++i) {
    const std::string word = "w" + std::to_string(i) + " ";
    with += sse({content_chunk(word)});
    without += sse({content_chunk(word, false)});
  }
  with += sse({finish_chunk(), kUsageOnlyChunk, "[DONE]"});
  without += sse({finish_chunk(false), "[DONE]"});
  UsageScanner scanner;
  for (const std::vector<size_t>& sizes :
       {std::vector<size_t>{with.size()}, {4096}, {173, 9}, {1}}) {
    Outcome o = run(scanner, Kind::EventStream, true, with, sizes);
    EXPECT_EQ(o.forwarded, without) << "pieces of " << sizes[0];
    EXPECT_EQ(o.usage.input_tokens, 9u);
  }
}

TEST(UsageScannerStripNullUsage, AChunkInOneReadIsForwardedFromTheReadItself) {
  // No copy: the pieces around the removed member point into the caller's buffer.
  const std::string read = sse({content_chunk("a"), content_chunk("b")});
  UsageScanner scanner;
  scanner.begin(Kind::EventStream, true);
  std::string forwarded;
  for (const auto& piece : scanner.feed(read)) {
    EXPECT_GE(piece.data, read.data());
    EXPECT_LE(piece.data + piece.size, read.data() + read.size());
    forwarded.append(piece.data, piece.size);
  }
  append_pieces(scanner.flush(), &forwarded);
  EXPECT_EQ(forwarded, sse({content_chunk("a", false), content_chunk("b", false)}));
}

TEST(UsageScannerStripNullUsage, AChunkLongerThanTheHoldBoundKeepsItsMember) {
  // Such an event is never held, so never changed — whole or split, the same answer.
  const std::string long_chunk = content_chunk(std::string(20000, 'z'));
  const std::string stream = sse({content_chunk("x"), long_chunk});
  const std::string expected = sse({content_chunk("x", false), long_chunk});
  UsageScanner scanner;
  for (const std::vector<size_t>& sizes : {std::vector<size_t>{stream.size()}, {1000}, {7}}) {
    EXPECT_EQ(run(scanner, Kind::EventStream, true, stream, sizes).forwarded, expected);
  }
}

// ---- garbage ---------------------------------------------------------------------------------

TEST(UsageScannerGarbage, LongLinesAndNestingStayBounded) {
  std::string garbage(300 * 1024, '[');
  garbage.append("\ndata: ").append(100 * 1024, '{').append("\n\n");
  garbage.append("data: ").append(70 * 1024, '"').append("\n\n");
  for (int i = 0; i < 2000; ++i) garbage.append("data: {\"usage\":{\"prompt_tokens\":1\n\n");
  garbage.append(sse({kUsageOnlyChunk}));
  for (bool strip : {false, true}) {
    UsageScanner scanner;
    Outcome o = run(scanner, Kind::EventStream, strip, garbage, {4096, 3, 1});
    // The only complete usage object is the last one; nothing was lost or invented.
    EXPECT_EQ(o.usage.input_tokens, 9u);
    EXPECT_EQ(o.forwarded,
              strip ? garbage.substr(0, garbage.size() - sse({kUsageOnlyChunk}).size()) : garbage);
    o = run(scanner, Kind::Json, strip, garbage, {4096});
    EXPECT_EQ(o.forwarded, garbage);
  }
}

}  // namespace
}  // namespace sluice::usage
