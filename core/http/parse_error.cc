// The status, message and OpenAI error type of each ParseError (DESIGN §5 error table).
#include "core/http/request_parser.h"

namespace sluice::http {

int status_of(ParseError e) {
  switch (e) {
    case ParseError::None:
      return 0;
    case ParseError::BadRequest:
    case ParseError::ConflictingLength:
    case ParseError::DuplicateLength:
      return 400;
    case ParseError::HeadTooLarge:
    case ParseError::TooManyHeaders:
      return 431;
    case ParseError::BodyTooLarge:
      return 413;
    case ParseError::UnsupportedVersion:
      return 505;
  }
  return 400;
}

const char* message_of(ParseError e) {
  switch (e) {
    case ParseError::None:
      return "";
    case ParseError::BadRequest:
      return "malformed HTTP request";
    case ParseError::ConflictingLength:
      return "request has both Content-Length and Transfer-Encoding";
    case ParseError::DuplicateLength:
      return "request has more than one Content-Length header";
    case ParseError::HeadTooLarge:
      return "request line and headers are larger than limits.max_header_bytes";
    case ParseError::TooManyHeaders:
      return "request has more header fields than limits.max_headers";
    case ParseError::BodyTooLarge:
      return "request body is larger than limits.max_request_body";
    case ParseError::UnsupportedVersion:
      return "HTTP version not supported; use HTTP/1.1";
  }
  return "malformed HTTP request";
}

const char* error_type_of(ParseError e) {
  switch (status_of(e)) {
    case 413:
      return "request_too_large";
    case 431:
      return "request_header_fields_too_large";
    default:
      return "invalid_request_error";
  }
}

const char* to_string(ParseError e) {
  switch (e) {
    case ParseError::None:
      return "None";
    case ParseError::BadRequest:
      return "BadRequest";
    case ParseError::ConflictingLength:
      return "ConflictingLength";
    case ParseError::DuplicateLength:
      return "DuplicateLength";
    case ParseError::HeadTooLarge:
      return "HeadTooLarge";
    case ParseError::TooManyHeaders:
      return "TooManyHeaders";
    case ParseError::BodyTooLarge:
      return "BodyTooLarge";
    case ParseError::UnsupportedVersion:
      return "UnsupportedVersion";
  }
  return "?";
}

}  // namespace sluice::http
