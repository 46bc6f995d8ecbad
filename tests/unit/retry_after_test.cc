#include "core/http/retry_after.h"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

using std::chrono::milliseconds;

// 2026-11-21T10:00:00Z
const auto kNow = std::chrono::system_clock::from_time_t(1'795'255'200);

TEST(RetryAfter, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after("2", kNow), milliseconds(2000));
  EXPECT_EQ(parse_retry_after(" 0 ", kNow), milliseconds(0));
  EXPECT_EQ(parse_retry_after("999999999", kNow), milliseconds(86'400'000));  // clamped
}

TEST(RetryAfter, HttpDateInTheFutureAndThePast) {
  EXPECT_EQ(parse_retry_after("Sat, 21 Nov 2026 10:00:30 GMT", kNow), milliseconds(30'000));
  EXPECT_EQ(parse_retry_after("Sat, 21 Nov 2026 09:00:00 GMT", kNow), milliseconds(0));
}

TEST(RetryAfter, GarbageIsNoHint) {
  EXPECT_EQ(parse_retry_after("", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sat, 21 Nov 2026 10:00:30 UTC", kNow), std::nullopt);
}

TEST(RetryAfterMs, DecimalMilliseconds) {
  EXPECT_EQ(parse_retry_after_ms("1500"), milliseconds(1500));
  EXPECT_EQ(parse_retry_after_ms("20.7"), milliseconds(21));
  EXPECT_EQ(parse_retry_after_ms("20.2"), milliseconds(20));
  EXPECT_EQ(parse_retry_after_ms("x"), std::nullopt);
  EXPECT_EQ(parse_retry_after_ms("1."), std::nullopt);
}

}  // namespace
}  // namespace sluice::http
