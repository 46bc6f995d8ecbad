// Building downstream responses: status line + headers into a reusable buffer, and the
// OpenAI-shaped error body of DESIGN §5 ({"error": {"message","type","code","param"}}).
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

// A whole response with a JSON body and Content-Length; `keep_alive` false adds Connection: close.
// `extra_headers` is pre-formatted "Name: value\r\n" lines (may be empty).
std::string json_response(int status, std::string_view body, bool keep_alive,
                          std::string_view extra_headers = {});

}  // namespace sluice::http
