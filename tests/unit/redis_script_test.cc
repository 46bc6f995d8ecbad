// RedisScript names a script the way Redis does (SHA-1 of the source, lowercase hex), so the
// first EVALSHA finds a script loaded by anyone.
#include <gtest/gtest.h>

#include "core/redis/redis_client.h"

namespace sluice::redis {
namespace {

TEST(RedisScript, Sha1IsWhatScriptLoadAnswers) {
  // `redis-cli SCRIPT LOAD "return 1"` and `printf 'return 1' | sha1sum`.
  RedisScript one("return 1");
  EXPECT_EQ(one.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(one.source(), "return 1");
  // `printf '' | sha1sum`
  EXPECT_EQ(RedisScript("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

}  // namespace
}  // namespace sluice::redis
