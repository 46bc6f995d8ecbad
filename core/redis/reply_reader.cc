#include "core/redis/reply_reader.h"

#include <hiredis/hiredis.h>

#include <vector>

namespace sluice::redis {
namespace {

void copy_reply(const redisReply* in, RedisReply* out) {
  using T = RedisReply::Type;
  out->integer = 0;
  out->str.clear();
  out->elements.clear();
  switch (in->type) {
    case REDIS_REPLY_STRING:
      out->type = T::String;
      out->str.assign(in->str, in->len);
      break;
    case REDIS_REPLY_STATUS:
      out->type = T::Status;
      out->str.assign(in->str, in->len);
      break;
    case REDIS_REPLY_ERROR:
      out->type = T::Error;
      out->str.assign(in->str, in->len);
      break;
    case REDIS_REPLY_INTEGER:
      out->type = T::Integer;
      out->integer = in->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out->type = T::Array;
      out->elements.resize(in->elements);
      for (size_t i = 0; i < in->elements; ++i) copy_reply(in->element[i], &out->elements[i]);
      break;
    default:  // REDIS_REPLY_NIL (a nil bulk string or a nil array)
      out->type = T::Nil;
      break;
  }
}

}  // namespace

bool append_command(std::span<const std::string_view> argv, std::string* out) {
  // hiredis wants parallel arrays of pointers and lengths; a few on the stack cover most
  // commands (an EVALSHA with a handful of keys and args).
  constexpr size_t kInline = 16;
  const char* ptr_inline[kInline];
  size_t len_inline[kInline];
  std::vector<const char*> ptr_heap;
  std::vector<size_t> len_heap;
  const char** ptrs = ptr_inline;
  size_t* lens = len_inline;
  if (argv.size() > kInline) {
    ptr_heap.resize(argv.size());
    len_heap.resize(argv.size());
    ptrs = ptr_heap.data();
    lens = len_heap.data();
  }
  for (size_t i = 0; i < argv.size(); ++i) {
    ptrs[i] = argv[i].data();
    lens[i] = argv[i].size();
  }
  char* cmd = nullptr;
  int n = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), ptrs, lens);
  if (n < 0 || cmd == nullptr) return false;
  out->append(cmd, static_cast<size_t>(n));
  redisFreeCommand(cmd);
  return true;
}

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {}

ReplyReader::~ReplyReader() {
  if (reader_) redisReaderFree(reader_);
}

bool ReplyReader::feed(const char* data, size_t len) {
  if (!reader_) {
    error_ = "out of memory";
    return false;
  }
  if (redisReaderFeed(reader_, data, len) != REDIS_OK) {
    error_ = reader_->errstr;
    return false;
  }
  return true;
}

ReplyReader::Result ReplyReader::next(RedisReply* out) {
  if (!reader_) {
    error_ = "out of memory";
    return Result::Error;
  }
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
    error_ = reader_->errstr;
    return Result::Error;
  }
  if (raw == nullptr) return Result::NeedMore;
  auto* reply = static_cast<redisReply*>(raw);
  copy_reply(reply, out);
  freeReplyObject(reply);
  return Result::Reply;
}

const char* to_string(RedisResult::Status s) {
  switch (s) {
    case RedisResult::Status::Ok:
      return "ok";
    case RedisResult::Status::Timeout:
      return "timeout";
    case RedisResult::Status::Down:
      return "down";
    case RedisResult::Status::Busy:
      return "busy";
    case RedisResult::Status::Closed:
      return "closed";
  }
  return "?";
}

}  // namespace sluice::redis
