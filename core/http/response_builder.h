// Building downstream responses: status line + headers into a reusable buffer, and the
// OpenAI-shaped error body of DESIGN §5 ({"error": {"message","type","code","param"}}).
#pragma once

#include <string>
#include <string_view>

namespace sluice::http {

const char* reason_phrase(int status);

// Appends "HTTP/1.1 <status> <reason>\r\n".
void append_status_line(std::string& out, int status);
void append_header(std::string& out, std::string_view name, std::string_view value);
void append_header(std::string& out, std::string_view name, uint64_t value);

// JSON-escapes `s` into out (no surrounding quotes).
void append_json_escaped(std::string& out, std::string_view s);

// {"error":{"message":...,"type":...,"code":...,"param":null}}; code may be empty → null.
std::string openai_error_body(std::string_view message, std::string_view type, std::string_view code);

// A whole response with a JSON body and Content-Length; `keep_alive` false adds Connection: close.
// `extra_headers` is pre-formatted "Name: value\r\n" lines (may be empty).
std::string json_response(int status, std::string_view body, bool keep_alive,
                          std::string_view extra_headers = {});

}  // namespace sluice::http
