// The protocol half of the client, done by hiredis: commands encoded with
// redisFormatCommandArgv, replies parsed by a redisReader and copied out into owned
// RedisReply values (hiredis's own objects are freed at once). No sockets here.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/redis/redis_client.h"

struct redisReader;

namespace sluice::redis {

// Appends the RESP encoding of `argv` to `out`. False (nothing appended) if hiredis could not
// format it (out of memory).
bool append_command(std::span<const std::string_view> argv, std::string* out);

class ReplyReader {
 public:
  enum class Result : uint8_t {
    Reply,     // *out holds the next reply
    NeedMore,  // no complete reply buffered: feed more bytes
    Error,     // the stream is not RESP (error() says why); the connection must close
  };

  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // Bytes read from the socket, in order. False on a reader error (see error()).
  bool feed(const char* data, size_t len);
  Result next(RedisReply* out);
  const std::string& error() const { return error_; }

 private:
  redisReader* reader_;
  std::string error_;
};

}  // namespace sluice::redis
