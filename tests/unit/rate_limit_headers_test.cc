// The values of the rate-limit headers as a client parses them: x-ratelimit-reset-* in OpenAI's
// duration format ("1s", "6m0s", "250ms", "1m30s" — Go's duration text, at millisecond
// precision), retry-after in whole seconds rounded up and never 0, retry-after-ms exact.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/filter/request_context.h"
#include "filters/rate_limit/rate_limit_headers.h"
#include "filters/rate_limit/reset_duration.h"

namespace sluice::filters::rate_limit {
namespace {

using namespace std::chrono_literals;

std::string duration(std::chrono::milliseconds d) {
  char buf[kResetDurationMax];
  return std::string(format_reset_duration(d, buf));
}

TEST(ResetDuration, OpenAIsDocumentedExamples) {
  EXPECT_EQ(duration(1s), "1s");
  EXPECT_EQ(duration(6min), "6m0s");
  EXPECT_EQ(duration(250ms), "250ms");
  EXPECT_EQ(duration(90s), "1m30s");
}

TEST(ResetDuration, BelowASecondIsMilliseconds) {
  EXPECT_EQ(duration(1ms), "1ms");
  EXPECT_EQ(duration(17ms), "17ms");
  EXPECT_EQ(duration(999ms), "999ms");
}

TEST(ResetDuration, FractionsOfASecondDropTrailingZeros) {
  EXPECT_EQ(duration(1500ms), "1.5s");
  EXPECT_EQ(duration(8640ms), "8.64s");
  EXPECT_EQ(duration(1001ms), "1.001s");
  EXPECT_EQ(duration(1010ms), "1.01s");
  EXPECT_EQ(duration(179560ms), "2m59.56s");
}

TEST(ResetDuration, LargerUnitsWriteEverySmallerOne) {
  EXPECT_EQ(duration(60s), "1m0s");
  EXPECT_EQ(duration(1h), "1h0m0s");
  EXPECT_EQ(duration(1h + 5s), "1h0m5s");
  EXPECT_EQ(duration(23h + 47min + 36648ms), "23h47m36.648s");
  EXPECT_EQ(duration(100h), "100h0m0s");
}

TEST(ResetDuration, ZeroAndNegativeAreZeroSeconds) {
  EXPECT_EQ(duration(0ms), "0s");
  EXPECT_EQ(duration(-5ms), "0s");
}

TEST(ResetDuration, TheLargestValueFits) {
  EXPECT_EQ(duration(std::chrono::milliseconds::max()), "2562047788015h12m55.807s");
}

TEST(RetryAfter, WholeSecondsRoundedUpAndAtLeastOne) {
  EXPECT_EQ(retry_after_seconds(0ms), 1u);
  EXPECT_EQ(retry_after_seconds(1ms), 1u);
  EXPECT_EQ(retry_after_seconds(1000ms), 1u);
  EXPECT_EQ(retry_after_seconds(1001ms), 2u);
  EXPECT_EQ(retry_after_seconds(59999ms), 60u);
}

TEST(RateLimitHeaders, BucketAndRetryHeadersAsTheyGoOnTheWire) {
  filter::RequestContext ctx;
  state::BucketReading requests;
  requests.limit = 60;
  requests.remaining = 59;
  requests.reset_after = 1s;
  state::BucketReading tokens;
  tokens.limit = 150000;
  tokens.remaining = 149984;
  tokens.reset_after = 6ms;
  add_bucket_headers(ctx, BucketKind::Requests, requests);
  add_bucket_headers(ctx, BucketKind::Tokens, tokens);
  add_retry_after_headers(ctx, 1500ms);
  EXPECT_EQ(ctx.extra_response_headers(),
            "x-ratelimit-limit-requests: 60\r\n"
            "x-ratelimit-remaining-requests: 59\r\n"
            "x-ratelimit-reset-requests: 1s\r\n"
            "x-ratelimit-limit-tokens: 150000\r\n"
            "x-ratelimit-remaining-tokens: 149984\r\n"
            "x-ratelimit-reset-tokens: 6ms\r\n"
            "retry-after: 2\r\n"
            "retry-after-ms: 1500\r\n");
}

// Each line keeps the digits of the number it carried last (per thread) and formats only a
// new one: whatever sequence of values comes, every header says its own request's number.
TEST(RateLimitHeaders, EachRequestSeesItsOwnNumbersWhateverCameBefore) {
  const uint64_t values[] = {60, 60, 600, 60, 0, 0, 9, 10, 18446744073709551615ull, 1, 1};
  for (uint64_t limit : values) {
    for (uint64_t remaining : values) {
      filter::RequestContext ctx;
      state::BucketReading reading;
      reading.limit = limit;
      reading.remaining = remaining;
      reading.reset_after = 1s;
      add_bucket_headers(ctx, BucketKind::Tokens, reading);
      add_bucket_headers(ctx, BucketKind::Requests, reading);
      const std::string l = std::to_string(limit), r = std::to_string(remaining);
      ASSERT_EQ(ctx.extra_response_headers(),
                "x-ratelimit-limit-tokens: " + l + "\r\nx-ratelimit-remaining-tokens: " + r +
                    "\r\nx-ratelimit-reset-tokens: 1s\r\nx-ratelimit-limit-requests: " + l +
                    "\r\nx-ratelimit-remaining-requests: " + r +
                    "\r\nx-ratelimit-reset-requests: 1s\r\n");
    }
  }
}

}  // namespace
}  // namespace sluice::filters::rate_limit
