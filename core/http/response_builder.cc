#include "core/http/response_builder.h"

#include <charconv>

namespace sluice::http {

const char* reason_phrase(int status) {
  switch (status) {  // RFC 9110 §15 wording
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 529:  // not in RFC 9110; Anthropic's "overloaded" status
      return "Site Overloaded";
    default:
      return "Unknown";
  }
}

void append_status_line(std::string& out, int status) {
  char digits[16];
  const auto end = std::to_chars(digits, digits + sizeof digits, status).ptr;
  out.append("HTTP/1.1 ")
      .append(digits, end)
      .append(" ")
      .append(reason_phrase(status))
      .append("\r\n");
}

namespace {

// The first CR or LF of `value`, or npos. A plain loop: find_first_of("\r\n") calls memchr once
// per byte of the value, which made append_header ~320 instructions per header line of a
// response head (bench/profile.sh).
size_t find_line_break(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\r' || value[i] == '\n') return i;
  }
  return std::string_view::npos;
}

}  // namespace

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  // A CR or LF in a value would end the header early and let its sender write headers of its
  // own (response splitting); values echoed from elsewhere get them replaced by a space.
  size_t bad = find_line_break(value);
  while (bad != std::string_view::npos) {
    out.append(value.substr(0, bad)).push_back(' ');
    value.remove_prefix(bad + 1);
    bad = find_line_break(value);
  }
  out.append(value).append("\r\n");
}

void append_header(std::string& out, std::string_view name, uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(name).append(": ").append(digits, end).append("\r\n");
}

std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code) {
  std::string out;
  out.reserve(64 + message.size() + type.size() + code.size());
  out.append(R"({"error":{"message":")");
  append_json_escaped(out, message);
  out.append(R"(","type":")");
  append_json_escaped(out, type);
  out.append(R"(","code":)");
  if (code.empty()) {
    out.append("null");
  } else {
    out.push_back('"');
    append_json_escaped(out, code);
    out.push_back('"');
  }
  out.append(R"(,"param":null}})");
  return out;
}

std::string anthropic_error_body(std::string_view message, std::string_view type) {
  std::string out;
  out.reserve(48 + message.size() + type.size());
  out.append(R"({"type":"error","error":{"type":")");
  append_json_escaped(out, type);
  out.append(R"(","message":")");
  append_json_escaped(out, message);
  out.append(R"("}})");
  return out;
}

const char* anthropic_error_type(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      break;
  }
  // Anthropic: "We may also use this error type for other 4XX status codes not listed".
  if (status >= 400 && status < 500) return "invalid_request_error";
  return "api_error";  // 500, 502, 503, 504, other 5xx (and non-errors, see the header)
}

std::string json_response(int status, std::string_view body, bool keep_alive,
                          std::string_view extra_headers) {
  std::string out;
  out.reserve(128 + extra_headers.size() + body.size());
  append_status_line(out, status);
  out.append("Content-Type: application/json\r\n");
  append_header(out, "Content-Length", static_cast<uint64_t>(body.size()));
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append(extra_headers).append("\r\n").append(body);
  return out;
}

}  // namespace sluice::http
