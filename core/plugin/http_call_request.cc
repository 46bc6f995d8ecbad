#include "core/plugin/http_call_request.h"

#include <array>
#include <string_view>

#include "core/config/node_reader.h"
#include "core/http/request.h"

namespace sluice::plugin {
namespace {

// Headers the caller may not set: sluice owns the framing and the connection.
constexpr std::array<std::string_view, 8> kReservedHeaders = {
    "content-length",   "transfer-encoding",
    "connection",       "keep-alive",
    "upgrade",          "te",
    "proxy-connection", "trailer"};

bool bodyless_by_default(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"}) {
    if (http::iequals(method, m)) return true;
  }
  return false;
}

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

}  // namespace

bool prepare_http_call(const HttpCallRequest& request, PreparedHttpCall* out, std::string* error) {
  if (request.timeout.count() <= 0) return fail(error, "timeout is required (milliseconds, > 0)");
  if (request.timeout > HttpCaller::kMaxTimeout) {
    return fail(error, "timeout must be at most " +
                           std::to_string(HttpCaller::kMaxTimeout.count()) + "ms, got " +
                           std::to_string(request.timeout.count()) + "ms");
  }
  if (!http::is_token(request.method))
    return fail(error, "invalid method \"" + request.method + "\"");
  if (http::iequals(request.method, "CONNECT"))
    return fail(error, "method CONNECT is not supported");

  // scheme://authority then the request target (path and query); the fragment stays local.
  std::string_view url = request.url;
  if (size_t hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return fail(error, "invalid URL \"" + request.url + "\": spaces or control characters");
    }
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return fail(error, "invalid URL \"" + request.url + "\": expected http:// or https://");
  }
  const size_t target_start = url.find_first_of("/?", scheme_end + 3);
  std::string_view authority_url = url.substr(0, target_start);
  std::string_view target =
      target_start == std::string_view::npos ? std::string_view() : url.substr(target_start);
  std::string why;
  auto origin = config::parse_url(authority_url, why);
  if (!origin) return fail(error, "invalid URL: " + why);

  out->origin = std::move(*origin);
  // Host names are case-insensitive: one pool for Example.com and example.com.
  std::string host = out->origin.host;
  for (char& c : host) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  out->origin_key =
      (out->origin.tls ? "https://" : "http://") + host + ":" + std::to_string(out->origin.port);

  std::string& head = out->head;
  head.clear();
  head.reserve(256);
  head += request.method;
  head += ' ';
  if (target.empty() || target.front() == '?') head += '/';
  head += target;
  head += " HTTP/1.1\r\n";
  bool host_given = false;
  for (const auto& [name, value] : request.headers) {
    if (!http::is_token(name)) return fail(error, "invalid header name \"" + name + "\"");
    for (std::string_view reserved : kReservedHeaders) {
      if (http::iequals(name, reserved)) {
        return fail(error, "header \"" + name + "\" is set by sluice, not by the plugin");
      }
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return fail(error, "header \"" + name + "\" has a CR, LF or NUL byte in its value");
    }
    if (http::iequals(name, "host")) host_given = true;
  }
  if (!host_given) {
    head += "Host: ";
    head += out->origin.host_header;
    head += "\r\n";
  }
  for (const auto& [name, value] : request.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  if (!request.body.empty() || !bodyless_by_default(request.method)) {
    head += "Content-Length: ";
    head += std::to_string(request.body.size());
    head += "\r\n";
  }
  head += "\r\n";
  return true;
}

}  // namespace sluice::plugin
