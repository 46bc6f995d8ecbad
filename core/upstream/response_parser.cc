#include "core/upstream/response_parser.h"

#include <cstring>

namespace sluice::upstream {
namespace {

ResponseParser* self(llhttp_t* p) {
  return static_cast<ResponseParser*>(p->data);
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Headers that describe this hop only (RFC 9110 §7.6.1), plus the framing headers we replace
// by `content_length`: the proxy frames its own response to the client.
bool is_hop_by_hop_or_framing(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "connection",
      "keep-alive",
      "proxy-connection",
      "te",
      "trailer",
      "transfer-encoding",
      "upgrade",
      "proxy-authenticate",
      "proxy-authorization",
      "content-length",
  };
  for (std::string_view n : kNames) {
    if (iequals(name, n)) return true;
  }
  return false;
}

// True if `name` is one of the comma-separated tokens of a Connection header value.
bool named_in_connection(std::string_view connection_value, std::string_view name) {
  while (!connection_value.empty()) {
    size_t comma = connection_value.find(',');
    std::string_view token = trim(connection_value.substr(0, comma));
    if (iequals(token, name)) return true;
    if (comma == std::string_view::npos) break;
    connection_value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

const llhttp_settings_t* ResponseParser::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t x;
    llhttp_settings_init(&x);
    x.on_message_begin = &ResponseParser::cb_message_begin;
    x.on_header_field = &ResponseParser::cb_header_field;
    x.on_header_field_complete = &ResponseParser::cb_header_field_complete;
    x.on_header_value = &ResponseParser::cb_header_value;
    x.on_header_value_complete = &ResponseParser::cb_header_value_complete;
    x.on_headers_complete = &ResponseParser::cb_headers_complete;
    x.on_body = &ResponseParser::cb_body;
    x.on_message_complete = &ResponseParser::cb_message_complete;
    return x;
  }();
  return &s;
}

ResponseParser::ResponseParser(Events* events) : events_(events) {
  head_.reserve(1024);
  reset(false);
}

void ResponseParser::reset(bool head_request) {
  llhttp_init(&parser_, HTTP_RESPONSE, settings());
  parser_.data = this;
  head_request_ = head_request;
  informational_ = headers_done_ = complete_ = stopped_ = keep_alive_ = in_field_ = false;
  bytes_seen_ = 0;
  error_ = "";
  head_.clear();
  spans_.clear();
}

ResponseParser::Result ResponseParser::feed(const char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  if (complete_) return Result::Complete;
  if (len == 0) return Result::NeedMore;
  bytes_seen_ += len;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (stopped_) return Result::Stopped;
  if (err == HPE_PAUSED && complete_) {
    *consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    return Result::Complete;
  }
  if (err != HPE_OK) {
    if (*error_ == '\0') error_ = llhttp_get_error_reason(&parser_);
    if (!error_ || *error_ == '\0') error_ = llhttp_errno_name(err);
    return Result::Error;
  }
  // Bytes fed before the head is done count against the head limit (an upper bound: the
  // last buffer may also hold body bytes, but then headers_done_ is set).
  if (!headers_done_ && bytes_seen_ > kMaxHeadBytes) {
    error_ = "response head too large";
    return Result::Error;
  }
  *consumed = len;
  return Result::NeedMore;
}

ResponseParser::Result ResponseParser::finish() {
  if (complete_) return Result::Complete;
  if (!started()) {
    error_ = "connection closed before any response byte";
    return Result::Error;
  }
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (stopped_) return Result::Stopped;
  if ((err == HPE_OK || err == HPE_PAUSED) && complete_) return Result::Complete;
  error_ = "connection closed before the response was complete";
  return Result::Error;
}

int ResponseParser::fail(const char* why) {
  error_ = why;
  return -1;
}

int ResponseParser::cb_message_begin(llhttp_t* p) {
  ResponseParser* s = self(p);
  s->head_.clear();
  s->spans_.clear();
  s->in_field_ = false;
  return 0;
}

int ResponseParser::cb_header_field(llhttp_t* p, const char* at, size_t len) {
  ResponseParser* s = self(p);
  if (!s->in_field_) {
    if (s->spans_.size() >= kMaxHeaders) return s->fail("too many response headers");
    s->spans_.push_back({static_cast<uint32_t>(s->head_.size()), 0, 0, 0});
    s->in_field_ = true;
  }
  if (s->head_.size() + len > kMaxHeadBytes) return s->fail("response head too large");
  s->head_.append(at, len);
  return 0;
}

int ResponseParser::cb_header_field_complete(llhttp_t* p) {
  ResponseParser* s = self(p);
  // llhttp takes a line starting with ':' as a header with an empty name (cb_header_field
  // with no bytes, or not at all): a client must not be handed a nameless header.
  if (!s->in_field_ || s->spans_.back().name_off == s->head_.size()) {
    return s->fail("empty response header name");
  }
  HeaderSpan& h = s->spans_.back();
  h.name_len = static_cast<uint32_t>(s->head_.size()) - h.name_off;
  h.value_off = static_cast<uint32_t>(s->head_.size());
  s->in_field_ = false;
  return 0;
}

int ResponseParser::cb_header_value(llhttp_t* p, const char* at, size_t len) {
  ResponseParser* s = self(p);
  if (s->head_.size() + len > kMaxHeadBytes) return s->fail("response head too large");
  s->head_.append(at, len);
  return 0;
}

int ResponseParser::cb_header_value_complete(llhttp_t* p) {
  ResponseParser* s = self(p);
  HeaderSpan& h = s->spans_.back();
  h.value_len = static_cast<uint32_t>(s->head_.size()) - h.value_off;
  return 0;
}

int ResponseParser::cb_headers_complete(llhttp_t* p) {
  return self(p)->headers_complete();
}

int ResponseParser::headers_complete() {
  int status = parser_.status_code;
  // llhttp takes "HTTP/1.1 24 x" or "HTTP/1.1 024 x" as status 24; status codes start at 100,
  // and a client must never be handed one below.
  if (status < 100) return fail("invalid status code (below 100)");
  if (status == 101) return fail("unexpected 101 Switching Protocols (no upgrade was asked)");
  if (status >= 100 && status < 200) {
    informational_ = true;  // 100 Continue, 103 Early Hints...: no body, the real head follows
    return 1;
  }

  // The Connection header may name further hop-by-hop headers, so find it first.
  std::string_view connection;
  for (const HeaderSpan& h : spans_) {
    if (iequals(std::string_view(head_.data() + h.name_off, h.name_len), "connection")) {
      connection = std::string_view(head_.data() + h.value_off, h.value_len);
      break;
    }
  }
  visible_.clear();
  for (const HeaderSpan& h : spans_) {
    std::string_view name(head_.data() + h.name_off, h.name_len);
    if (is_hop_by_hop_or_framing(name)) continue;
    if (!connection.empty() && named_in_connection(connection, name)) continue;
    visible_.push_back({name, trim(std::string_view(head_.data() + h.value_off, h.value_len))});
  }

  bool no_body = head_request_ || status == 204 || status == 304;
  std::optional<uint64_t> content_length;
  if (no_body) {
    content_length = 0;
  } else if (parser_.flags & F_CHUNKED) {
    content_length = std::nullopt;
  } else if (parser_.flags & F_CONTENT_LENGTH) {
    content_length = parser_.content_length;
  } else if (!llhttp_message_needs_eof(&parser_)) {
    content_length = 0;
  }  // else: the body runs until the server closes (nullopt)

  headers_done_ = true;
  if (!events_->on_response_head(status, visible_, content_length)) {
    stopped_ = true;
    return HPE_PAUSED;
  }
  return no_body ? 1 : 0;  // 1: "no body", which llhttp cannot know for a HEAD request
}

int ResponseParser::cb_body(llhttp_t* p, const char* at, size_t len) {
  ResponseParser* s = self(p);
  if (!s->events_->on_response_body(at, len)) {
    s->stopped_ = true;
    return HPE_USER;
  }
  return 0;
}

int ResponseParser::cb_message_complete(llhttp_t* p) {
  ResponseParser* s = self(p);
  if (s->informational_) {
    s->informational_ = false;
    return 0;  // go on with the final response, in this same buffer if it is there
  }
  s->keep_alive_ = llhttp_should_keep_alive(p) != 0;
  s->complete_ = true;
  return HPE_PAUSED;  // stop here: bytes after the response are not ours to parse
}

}  // namespace sluice::upstream
