// RequestParser: strict llhttp (no lenient flags) plus the limits llhttp does not enforce
// (DESIGN §4 limits, §10). Feed it bytes as they arrive; it stops after each complete message
// so a connection answers pipelined requests one at a time, in order.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>

#include "core/http/request.h"

namespace sluice::http {

struct ParserLimits {
  uint64_t max_request_body = 32ull << 20;
  uint32_t max_header_bytes = 64u << 10;  // request line + headers, counted by us
  uint32_t max_headers = 100;
};

// Why a request was refused. Each maps to one status and one message (see status_of/message_of).
enum class ParseError : uint8_t {
  None,
  BadRequest,        // 400 malformed framing (llhttp error), reason in detail()
  ConflictingLength, // 400 both Content-Length and Transfer-Encoding: request smuggling
  DuplicateLength,   // 400 two Content-Length headers
  HeadTooLarge,      // 431 request line + headers over max_header_bytes
  TooManyHeaders,    // 431 more than max_headers
  BodyTooLarge,      // 413 body over max_request_body (by Content-Length up front, or as it streams)
  UnsupportedVersion // 505 not HTTP/1.x
};
int status_of(ParseError e);
const char* message_of(ParseError e);

class RequestParser {
 public:
  enum class State : uint8_t {
    NeedMore,  // all bytes consumed, message not complete yet
    Complete,  // a whole request is in request(); feed() stopped right after it
    Failed,    // error(); the connection must answer and close
  };
  struct FeedResult {
    State state;
    size_t consumed;  // bytes of the input used; the rest belongs to the next request
  };

  RequestParser(const ParserLimits& limits, HttpRequest* request);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  FeedResult feed(const char* data, size_t len);
  // After Complete: clears the request and gets ready for the next message.
  void next_message();
  // True once any byte of the current message has been seen (for header_timeout/idle logic).
  bool in_message() const;
  // True once the head is complete (body may still be arriving).
  bool head_complete() const;

  ParseError error() const { return error_; }
  const char* detail() const;  // llhttp's reason for BadRequest, else message_of(error())

 private:
  // implementation-defined members
  struct Impl;
  Impl* impl_;
  ParseError error_ = ParseError::None;
};

}  // namespace sluice::http
