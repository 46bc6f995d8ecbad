// The protocol half of RedisClient, done by hiredis: commands encoded by append_command,
// replies parsed by ReplyReader from RESP fed the way a socket delivers it (split anywhere);
// the client's status and state vocabulary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/redis/client_state.h"
#include "core/redis/redis_client.h"
#include "core/redis/reply_reader.h"

namespace sluice::redis {
namespace {

TEST(RedisProtocol, CommandsAreEncodedAsRespArrays) {
  std::string out = "prefix";
  std::string_view argv[] = {"SET", "k", std::string_view("a\0b", 3)};
  ASSERT_TRUE(append_command(argv, &out));
  static constexpr char kWire[] = "prefix*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n";
  EXPECT_EQ(out, std::string(kWire, sizeof kWire - 1));
}

TEST(RedisProtocol, ManyArgumentsAreEncodedToo) {
  std::vector<std::string> args(40, "x");
  std::vector<std::string_view> argv(args.begin(), args.end());
  std::string out;
  ASSERT_TRUE(append_command(argv, &out));
  EXPECT_TRUE(out.starts_with("*40\r\n$1\r\nx\r\n"));
  EXPECT_EQ(out.size(), 5 + 40 * 7u);
}

TEST(RedisProtocol, RepliesSplitAnywhereAreReassembled) {
  const std::string wire =
      "+OK\r\n-NOSCRIPT No matching script\r\n:42\r\n$5\r\nhello\r\n$-1\r\n"
      "*3\r\n:1\r\n*1\r\n$1\r\nx\r\n*-1\r\n";
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    ReplyReader reader;
    std::vector<RedisReply> got;
    for (std::string_view part :
         {std::string_view(wire).substr(0, cut), std::string_view(wire).substr(cut)}) {
      ASSERT_TRUE(reader.feed(part.data(), part.size()));
      RedisReply r;
      while (reader.next(&r) == ReplyReader::Result::Reply) got.push_back(std::move(r));
    }
    ASSERT_EQ(got.size(), 6u) << "cut at " << cut;
    using T = RedisReply::Type;
    EXPECT_EQ(got[0].type, T::Status);
    EXPECT_EQ(got[0].str, "OK");
    EXPECT_EQ(got[1].type, T::Error);
    EXPECT_EQ(got[1].str, "NOSCRIPT No matching script");
    EXPECT_EQ(got[2].type, T::Integer);
    EXPECT_EQ(got[2].integer, 42);
    EXPECT_EQ(got[3].type, T::String);
    EXPECT_EQ(got[3].str, "hello");
    EXPECT_EQ(got[4].type, T::Nil);
    ASSERT_EQ(got[5].type, T::Array);
    ASSERT_EQ(got[5].elements.size(), 3u);
    EXPECT_EQ(got[5].elements[0].integer, 1);
    ASSERT_EQ(got[5].elements[1].elements.size(), 1u);
    EXPECT_EQ(got[5].elements[1].elements[0].str, "x");
    EXPECT_EQ(got[5].elements[2].type, T::Nil);
  }
}

TEST(RedisProtocol, GarbageIsAProtocolError) {
  ReplyReader reader;
  const std::string wire = "HTTP/1.1 200 OK\r\n";
  reader.feed(wire.data(), wire.size());
  RedisReply r;
  EXPECT_EQ(reader.next(&r), ReplyReader::Result::Error);
  EXPECT_THAT(reader.error(), ::testing::HasSubstr("Protocol error"));
}

TEST(RedisResult, OkMeansAnAnswerThatIsNotAnError) {
  RedisResult r;
  EXPECT_FALSE(r.ok());  // Down by default
  r.status = RedisResult::Status::Ok;
  r.reply.type = RedisReply::Type::Status;
  EXPECT_TRUE(r.ok());
  r.reply.type = RedisReply::Type::Error;
  EXPECT_FALSE(r.ok());
  EXPECT_STREQ(to_string(RedisResult::Status::Timeout), "timeout");
  EXPECT_STREQ(to_string(RedisResult::Status::Busy), "busy");
}

TEST(RedisClientState, TransitionsFollowTheDiagram) {
  using S = RedisClient::State;
  EXPECT_TRUE(transition_allowed(S::Connecting, S::Ready));
  EXPECT_TRUE(transition_allowed(S::Connecting, S::Down));
  EXPECT_TRUE(transition_allowed(S::Ready, S::Down));
  EXPECT_TRUE(transition_allowed(S::Down, S::Connecting));
  EXPECT_FALSE(transition_allowed(S::Down, S::Ready));
  EXPECT_FALSE(transition_allowed(S::Ready, S::Connecting));
  for (S s : {S::Connecting, S::Ready, S::Down}) EXPECT_TRUE(transition_allowed(s, S::Closed));
  for (S s : {S::Connecting, S::Ready, S::Down, S::Closed}) {
    EXPECT_FALSE(transition_allowed(S::Closed, s));
  }
  EXPECT_STREQ(to_string(S::Ready), "ready");
}

}  // namespace
}  // namespace sluice::redis
