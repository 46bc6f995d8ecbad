// Building downstream responses: status line + headers into a reusable buffer, and the error
// bodies of DESIGN §5: OpenAI's ({"error": {"message","type","code","param"}}) everywhere but
// POST /v1/messages, Anthropic's ({"type":"error","error":{"type","message"}}) there.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::http {

const char* reason_phrase(int status);  // RFC 9110 wording; "Unknown" for a status it lacks

// Appends "HTTP/1.1 <status> <reason>\r\n".
void append_status_line(std::string& out, int status);
// Appends "Name: value\r\n". A CR or LF inside `value` is replaced by a space (no response
// splitting through an echoed value).
void append_header(std::string& out, std::string_view name, std::string_view value);
void append_header(std::string& out, std::string_view name, uint64_t value);

// JSON-escapes `s` into out (no surrounding quotes): " and \\ escaped, \n \r \t \b \f as such,
// other control characters as \u00XX; well-formed UTF-8 copied as is, each byte of ill-formed
// UTF-8 replaced by \ufffd, so the output is always valid JSON in valid UTF-8.
void append_json_escaped(std::string& out, std::string_view s);

// {"error":{"message":...,"type":...,"code":...,"param":null}}; code may be empty → null.
std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code);

// {"type":"error","error":{"type":...,"message":...}} — the shape Anthropic's API and SDKs
// use, for replies on POST /v1/messages. As an SSE event after a stream's first byte:
// "event: error\ndata: " + anthropic_error_body(...) + "\n\n".
std::string anthropic_error_body(std::string_view message, std::string_view type);

// Anthropic's error type for an HTTP status (their "HTTP errors" table): 400
// invalid_request_error, 401 authentication_error, 402 billing_error, 403 permission_error,
// 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 529 overloaded_error, any
// other 5xx api_error. Other 4xx are invalid_request_error, as Anthropic documents for the
// 4xx statuses it does not list. Statuses below 400 are not errors; they get api_error so a
// caller's mistake still yields a well-formed body.
const char* anthropic_error_type(int status);

// A whole response with a JSON body and Content-Length; `keep_alive` false adds Connection: close.
// `extra_headers` is pre-formatted "Name: value\r\n" lines (may be empty).
std::string json_response(int status, std::string_view body, bool keep_alive,
                          std::string_view extra_headers = {});

}  // namespace sluice::http
