// RequestParser: strict llhttp (no lenient flags) plus the limits llhttp does not enforce
// (DESIGN §4 limits, §10). Feed it bytes as they arrive; it stops after each complete message
// so a connection answers pipelined requests one at a time, in order.
//
// What is refused, and by whom:
//  - llhttp (strict): bad request line, method, URL or header characters, bad chunk framing,
//    Content-Length together with Transfer-Encoding, a second Content-Length, a Transfer-Encoding
//    whose last coding is not chunked. Its reason string is kept for detail().
//  - this parser, because llhttp lets them through: obs-fold (a header line starting with SP/HT),
//    a bare CR or bare LF anywhere in the head or trailers, an empty header name, an HTTP
//    version other than 1.0/1.1 (llhttp accepts 0.9 and 2.0), a CONNECT with content, and every
//    size limit.
// The verdict never depends on how the bytes were split into reads (tests/fuzz checks it).
// A request with Upgrade (or CONNECT) is served as plain HTTP/1.1 with keep_alive = false:
// llhttp stops parsing HTTP after it.
// Needs llhttp compiled with LLHTTP_STRICT_MODE=1 (the top-level CMakeLists does it): in llhttp's
// loose mode the chunk framing after a chunk's data is not checked.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>

#include "core/http/request.h"

namespace sluice::http {

struct ParserLimits {
  uint64_t max_request_body = 32ull << 20;
  uint32_t max_header_bytes = 64u << 10;  // request line + headers, counted by us (also trailers)
  uint32_t max_headers = 100;             // header fields (also trailer fields)
};

// Why a request was refused. Each maps to one status and one message (see status_of/message_of).
// Every error closes the connection after the answer: the framing of what follows is unknown.
enum class ParseError : uint8_t {
  None,
  BadRequest,         // 400 malformed framing (llhttp error), reason in detail()
  ConflictingLength,  // 400 both Content-Length and Transfer-Encoding: request smuggling
  DuplicateLength,    // 400 two Content-Length headers (even with equal values)
  HeadTooLarge,       // 431 request line + headers (or trailers) over max_header_bytes
  TooManyHeaders,     // 431 more than max_headers (or trailer fields)
  BodyTooLarge,  // 413 body over max_request_body (by Content-Length up front, or as it streams)
  UnsupportedVersion  // 505 not HTTP/1.0 or HTTP/1.1 (HTTP/0.9, HTTP/2.0 request line, 1.2, PRI *)
};
int status_of(ParseError e);           // 400 / 413 / 431 / 505; 0 for None
const char* message_of(ParseError e);  // for the OpenAI error body's "message"
// The OpenAI error "type" for the error body (DESIGN §5): invalid_request_error,
// request_too_large (413) or request_header_fields_too_large (431).
const char* error_type_of(ParseError e);
const char* to_string(ParseError e);  // the enumerator's name, for logs

class RequestParser {
 public:
  enum class State : uint8_t {
    NeedMore,  // all bytes consumed, message not complete yet
    Complete,  // a whole request is in request(); feed() stopped right after it. Until
               // next_message() is called, feed() consumes nothing and returns Complete again.
    Failed,    // error(); the connection must answer and close. feed() keeps returning Failed.
  };
  struct FeedResult {
    State state;
    size_t consumed;  // bytes of the input used; the rest belongs to the next request
  };

  RequestParser(const ParserLimits& limits, HttpRequest* request);
  ~RequestParser() = default;
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  FeedResult feed(const char* data, size_t len);
  // After Complete: clears the request and gets ready for the next message. After Failed (or
  // mid-message) it resets the parser completely.
  void next_message();
  // Forgets everything, as if newly built with `limits` (the request is cleared too): for a
  // parser reused by another connection (server/request_slot.h). Keeps buffer capacity.
  void reset(const ParserLimits& limits);
  // True once any byte of the current message has been seen (for header_timeout/idle logic).
  // Empty lines before a request line (RFC 9112 §2.2 says to ignore them) do not count, so a
  // client's stray CRLF after a body leaves an idle connection idle.
  bool in_message() const { return message_begun_; }
  // True once the head is complete (body may still be arriving).
  bool head_complete() const;

  ParseError error() const { return error_; }
  const char* detail() const;  // llhttp's reason for BadRequest, else message_of(error())

 private:
  // Where the current message is. Head and Trailers are the counted parts (max_header_bytes).
  enum class Phase : uint8_t { Idle, Head, Body, Trailers, Complete, Failed };
  // Why llhttp_execute() last returned HPE_PAUSED: every pause is ours, from a callback.
  enum class Pause : uint8_t { None, HeadDone, LastChunk, MessageDone };
  // Which part of a header line llhttp is delivering (its spans may be split across feeds).
  enum class HeaderPart : uint8_t { BetweenHeaders, InName, NameDone, InValue };

  static const llhttp_settings_t* settings();  // one shared, immutable callback table
  static RequestParser& self(llhttp_t* p) { return *static_cast<RequestParser*>(p->data); }
  static int on_message_begin(llhttp_t* p);
  static int on_method(llhttp_t* p, const char* at, size_t len);
  static int on_url(llhttp_t* p, const char* at, size_t len);
  static int on_version_complete(llhttp_t* p);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_field_complete(llhttp_t* p);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_chunk_header(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  int fail(ParseError e, const char* detail);  // records the error; returns -1 for llhttp
  FeedResult fail_at(ParseError e, const char* detail, size_t consumed);
  ParseError map_llhttp_error(llhttp_errno_t err) const;
  // Scans head/trailer bytes llhttp consumed; the reason of the first bad one, or nullptr.
  const char* check_line_endings(const char* data, size_t len);
  void finish_head();
  void reset_message_state();

  ParserLimits limits_;
  HttpRequest* request_;
  llhttp_t parser_;
  Phase phase_ = Phase::Idle;
  Pause pause_ = Pause::None;
  HeaderPart header_part_ = HeaderPart::BetweenHeaders;
  ParseError error_ = ParseError::None;
  const char* detail_ = nullptr;  // static string: llhttp's reason or ours
  uint32_t counted_bytes_ = 0;    // head (or trailer) bytes of this message so far
  uint32_t trailer_fields_ = 0;
  uint8_t content_length_headers_ = 0;  // to tell llhttp's two HPE_UNEXPECTED_CONTENT_LENGTH apart
  bool transfer_encoding_seen_ = false;
  bool message_begun_ = false;  // llhttp saw the first byte of a request line
  bool prev_cr_ = false;        // last counted byte was CR (a CR must be followed by LF)
  bool prev_lf_ = false;        // last counted byte was LF (a line must not start with SP/HT)
};

}  // namespace sluice::http
