#include "core/http/request.h"

#include <array>

namespace sluice::http {

namespace {

// Always hop-by-hop (RFC 9110 §7.6.1 plus the de-facto Keep-Alive / Proxy-* ones).
constexpr std::array<std::string_view, 8> kHopByHop = {
    "connection", "keep-alive", "proxy-connection",  "proxy-authorization",
    "te",         "trailer",    "transfer-encoding", "upgrade",
};

}  // namespace

std::string_view HttpRequest::method() const {
  return view(method_off, method_len);
}

std::string_view HttpRequest::target() const {
  return view(target_off, target_len);
}

std::string_view HttpRequest::path() const {
  std::string_view t = target();
  if (!t.empty() && t.front() != '/') {
    // absolute-form ("http://host/p?q", RFC 9112 §3.2.2): the path starts after the authority.
    // authority-form (CONNECT) and asterisk-form ("*") have no path to cut.
    size_t scheme_end = t.find("://");
    if (scheme_end != std::string_view::npos) {
      size_t slash = t.find('/', scheme_end + 3);
      if (slash == std::string_view::npos) return "/";
      t.remove_prefix(slash);
    }
  }
  size_t end = t.find_first_of("?#");
  return end == std::string_view::npos ? t : t.substr(0, end);
}

HeaderView HttpRequest::header_at(size_t i) const {
  const HeaderRef& h = headers_[i];
  return HeaderView{view(h.name_off, h.name_len), view(h.value_off, h.value_len)};
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const HeaderRef& h : headers_) {
    if (iequals(view(h.name_off, h.name_len), name)) return view(h.value_off, h.value_len);
  }
  return std::nullopt;
}

bool HttpRequest::is_hop_by_hop(size_t i) const {
  const HeaderRef& h = headers_[i];
  std::string_view name = view(h.name_off, h.name_len);
  for (std::string_view hop : kHopByHop) {
    if (iequals(name, hop)) return true;
  }
  for (const Span& token : connection_tokens_) {
    if (iequals(name, view(token.off, token.len))) return true;
  }
  return false;
}

void HttpRequest::remove_header(std::string_view name) {
  std::erase_if(headers_,
                [&](const HeaderRef& h) { return iequals(view(h.name_off, h.name_len), name); });
}

void HttpRequest::set_header(std::string_view name, std::string_view value) {
  remove_header(name);
  HeaderRef ref;
  ref.name_off = static_cast<uint32_t>(head_storage.size());
  ref.name_len = static_cast<uint32_t>(name.size());
  head_storage.append(name);
  ref.value_off = static_cast<uint32_t>(head_storage.size());
  ref.value_len = static_cast<uint32_t>(value.size());
  head_storage.append(value);
  headers_.push_back(ref);
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!tchar) return false;
  }
  return true;
}

bool valid_header_name(std::string_view name) {
  return name.size() <= 256 && is_token(name);
}

bool valid_header_value(std::string_view value) {
  if (value.size() > 8192) return false;
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

void HttpRequest::clear() {
  head_storage.clear();
  headers_.clear();
  connection_tokens_.clear();
  method_off = method_len = target_off = target_len = 0;
  http_minor = 1;
  keep_alive = true;
  content_length.reset();
  chunked = false;
  if (body.capacity() > kMaxRetainedBodyCapacity) {
    std::string().swap(body);
  } else {
    body.clear();
  }
}

}  // namespace sluice::http
