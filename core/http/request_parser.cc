#include "core/http/request_parser.h"

#include <algorithm>
#include <cstring>

namespace sluice::http {

namespace {

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

// Content-Length is a promise, not a fact: reserve at most this much before the bytes arrive.
constexpr uint64_t kMaxBodyReserveUpFront = 1u << 20;

}  // namespace

const llhttp_settings_t* RequestParser::settings() {
  static const llhttp_settings_t table = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_method = on_method;
    s.on_url = on_url;
    s.on_version_complete = on_version_complete;
    s.on_header_field = on_header_field;
    s.on_header_field_complete = on_header_field_complete;
    s.on_header_value = on_header_value;
    s.on_header_value_complete = on_header_value_complete;
    s.on_headers_complete = on_headers_complete;
    s.on_chunk_header = on_chunk_header;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  return &table;
}

RequestParser::RequestParser(const ParserLimits& limits, HttpRequest* request)
    : limits_(limits), request_(request) {
  llhttp_init(&parser_, HTTP_REQUEST, settings());
  parser_.data = this;
  // Capacity is kept across the requests of the connection (HttpRequest::clear), so this is the
  // only allocation a typical connection makes for heads; a bigger head grows it once.
  request_->head_storage.reserve(std::min<uint32_t>(limits_.max_header_bytes, 4096));
  request_->headers_.reserve(std::min<uint32_t>(limits_.max_headers, 32) +
                             1);  // +1: see TooManyHeaders
  request_->connection_tokens_.reserve(4);
}

// ---- feeding --------------------------------------------------------------------------------

// One llhttp_execute() per window. A window ends where llhttp pauses (our callbacks pause at the
// end of the head, at the last chunk and at the end of the message) or, while in the head or the
// trailers, where the max_header_bytes budget runs out — so llhttp never reads a head byte past
// the limit and the count is exact, however the bytes are split across calls.
RequestParser::FeedResult RequestParser::feed(const char* data, size_t len) {
  if (phase_ == Phase::Complete) return {State::Complete, 0};
  if (phase_ == Phase::Failed) return {State::Failed, 0};
  if (len == 0) return {State::NeedMore, 0};
  if (phase_ == Phase::Idle) phase_ = Phase::Head;

  size_t used = 0;
  bool run = true;
  while (run) {
    const bool counted = phase_ == Phase::Head || phase_ == Phase::Trailers;
    size_t window = len - used;
    if (counted) {
      const uint32_t budget = limits_.max_header_bytes - counted_bytes_;
      if (window > budget) {
        if (budget == 0) return fail_at(ParseError::HeadTooLarge, nullptr, used);
        window = budget;
      }
    }
    const char* start = data + used;
    const llhttp_errno_t err = llhttp_execute(&parser_, start, window);
    size_t n = window;
    if (err != HPE_OK) {
      const char* pos = llhttp_get_error_pos(&parser_);
      n = (pos != nullptr && pos >= start && pos <= start + window) ? size_t(pos - start) : 0;
    }
    if (err != HPE_OK && err != HPE_PAUSED) {
      // A bad line ending before the point of failure came first in the stream: report it, so
      // the answer does not depend on how the bytes were split into reads.
      if (counted) {
        if (const char* bad = check_line_endings(start, n)) {
          error_ = ParseError::None;
          return fail_at(ParseError::BadRequest, bad, used + n);
        }
      }
      if (error_ != ParseError::None) return fail_at(error_, detail_, used + n);  // a callback's
      const ParseError e = map_llhttp_error(err);
      const char* why = e == ParseError::BadRequest ? llhttp_get_error_reason(&parser_) : nullptr;
      if (err == HPE_PAUSED_UPGRADE) why = "protocol upgrade is not supported";
      return fail_at(e, why, used + n);
    }
    if (counted) {
      if (const char* bad = check_line_endings(start, n)) {
        return fail_at(ParseError::BadRequest, bad, used + n);
      }
      counted_bytes_ += static_cast<uint32_t>(n);
    }
    used += n;
    run = used < len;
    if (err == HPE_OK) continue;

    // HPE_PAUSED: always one of our callbacks; pause_ says which.
    const Pause why = pause_;
    pause_ = Pause::None;
    switch (why) {
      case Pause::HeadDone:
        phase_ = Phase::Body;
        llhttp_resume(&parser_);
        run = true;  // even with no bytes left: a message without a body completes right away
        break;
      case Pause::LastChunk:
        phase_ = Phase::Trailers;
        counted_bytes_ = 0;
        prev_cr_ = false;
        prev_lf_ = true;  // the chunk-size line just ended
        llhttp_resume(&parser_);
        run = true;
        break;
      case Pause::MessageDone: {
        std::string& body = request_->body;
        if (body.capacity() < body.size() + kBodyPadding) body.reserve(body.size() + kBodyPadding);
        phase_ = Phase::Complete;
        return {State::Complete, used};
      }
      case Pause::None:
        return fail_at(ParseError::BadRequest, "unexpected parser pause", used);
    }
  }
  return {State::NeedMore, used};
}

void RequestParser::next_message() {
  const bool resumable = phase_ == Phase::Complete;
  request_->clear();
  reset_message_state();
  error_ = ParseError::None;
  detail_ = nullptr;
  if (resumable) {
    llhttp_resume(&parser_);  // carries on right after the message, with llhttp's keep-alive rules
  } else {
    llhttp_init(&parser_, HTTP_REQUEST, settings());  // after an error llhttp needs a fresh start
    parser_.data = this;
  }
}

void RequestParser::reset(const ParserLimits& limits) {
  limits_ = limits;
  request_->clear();
  reset_message_state();
  error_ = ParseError::None;
  detail_ = nullptr;
  llhttp_init(&parser_, HTTP_REQUEST, settings());
  parser_.data = this;
}

bool RequestParser::head_complete() const {
  return phase_ == Phase::Body || phase_ == Phase::Trailers || phase_ == Phase::Complete;
}

const char* RequestParser::detail() const {
  return detail_ != nullptr ? detail_ : message_of(error_);
}

void RequestParser::reset_message_state() {
  phase_ = Phase::Idle;
  message_begun_ = false;
  pause_ = Pause::None;
  header_part_ = HeaderPart::BetweenHeaders;
  counted_bytes_ = 0;
  trailer_fields_ = 0;
  content_length_headers_ = 0;
  transfer_encoding_seen_ = false;
  prev_cr_ = false;
  prev_lf_ = false;
}

int RequestParser::fail(ParseError e, const char* detail) {
  if (error_ == ParseError::None) {
    error_ = e;
    detail_ = detail;
  }
  return -1;
}

RequestParser::FeedResult RequestParser::fail_at(ParseError e, const char* detail,
                                                 size_t consumed) {
  fail(e, detail);
  phase_ = Phase::Failed;
  return {State::Failed, consumed};
}

ParseError RequestParser::map_llhttp_error(llhttp_errno_t err) const {
  switch (err) {
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      // llhttp uses this one code for "Duplicate Content-Length" (raised at the second one) and
      // for "Content-Length can't be present with Transfer-Encoding" (raised at the head's end).
      if (content_length_headers_ >= 2) return ParseError::DuplicateLength;
      if (transfer_encoding_seen_) return ParseError::ConflictingLength;
      return ParseError::BadRequest;
    case HPE_INVALID_VERSION: {
      // A well-formed version llhttp does not know (HTTP/1.2, HTTP/3.0) is unsupported; a
      // malformed one ("HTTP/x.1", "HTTP/1.1 " before CRLF) is a bad request.
      const char* reason = llhttp_get_error_reason(&parser_);
      return reason != nullptr && std::strcmp(reason, "Invalid HTTP version") == 0
                 ? ParseError::UnsupportedVersion
                 : ParseError::BadRequest;
    }
    case HPE_PAUSED_H2_UPGRADE:  // "PRI * HTTP/2.0": an HTTP/2 connection preface
      return ParseError::UnsupportedVersion;
    default:
      return ParseError::BadRequest;
  }
}

// RFC 9112 §2.2/§5.2: lines end in CRLF; a line starting with SP/HT (obs-fold) must be rejected.
// llhttp accepts a bare LF ending the head and obs-fold even in strict mode, so check the bytes
// it consumed for the head or the trailers.
const char* RequestParser::check_line_endings(const char* data, size_t len) {
  // Line by line with memchr (this runs over every head byte, so it must be cheap); the state
  // carried across calls is whether the last byte was a CR or an LF.
  const char* p = data;
  const char* const end = data + len;
  bool cr = prev_cr_, lf = prev_lf_;
  while (p < end) {
    if (cr) {  // the byte after a CR must be LF
      if (*p != '\n') return "bare CR in request head";
      cr = false;
      lf = true;
      ++p;
      continue;
    }
    if (lf) {  // a line must not start with SP/HT
      if (is_ows(*p)) return "obsolete line folding in request head";
      lf = false;
    }
    const auto* next_cr = static_cast<const char*>(std::memchr(p, '\r', size_t(end - p)));
    const char* line_end = next_cr != nullptr ? next_cr : end;
    if (std::memchr(p, '\n', size_t(line_end - p)) != nullptr) {
      return "bare LF in request head (lines must end in CRLF)";
    }
    if (next_cr == nullptr) break;
    cr = true;
    p = next_cr + 1;
  }
  prev_cr_ = cr;
  prev_lf_ = lf;
  return nullptr;
}

// Collects the tokens of every Connection: header (they name more hop-by-hop headers).
void RequestParser::finish_head() {
  HttpRequest& r = *request_;
  for (const HeaderRef& h : r.headers_) {
    if (!iequals(std::string_view(r.head_storage).substr(h.name_off, h.name_len), "connection")) {
      continue;
    }
    const char* v = r.head_storage.data() + h.value_off;
    uint32_t i = 0;
    while (i < h.value_len) {
      while (i < h.value_len && (v[i] == ',' || is_ows(v[i]))) ++i;
      const uint32_t begin = i;
      while (i < h.value_len && v[i] != ',') ++i;
      uint32_t end = i;
      while (end > begin && is_ows(v[end - 1])) --end;
      if (end > begin) r.connection_tokens_.push_back({h.value_off + begin, end - begin});
    }
  }
}

// ---- llhttp callbacks -------------------------------------------------------------------------
// Span callbacks may be called several times for one item (llhttp flushes a span at the end of
// each buffer); appending to head_storage keeps the pieces contiguous, since nothing else is
// appended in between.

int RequestParser::on_message_begin(llhttp_t* p) {
  self(p).message_begun_ = true;
  return 0;
}

int RequestParser::on_method(llhttp_t* p, const char* at, size_t len) {
  HttpRequest& r = *self(p).request_;
  if (r.method_len == 0) r.method_off = static_cast<uint32_t>(r.head_storage.size());
  r.head_storage.append(at, len);
  r.method_len += static_cast<uint32_t>(len);
  return 0;
}

int RequestParser::on_url(llhttp_t* p, const char* at, size_t len) {
  HttpRequest& r = *self(p).request_;
  if (r.target_len == 0) r.target_off = static_cast<uint32_t>(r.head_storage.size());
  r.head_storage.append(at, len);
  r.target_len += static_cast<uint32_t>(len);
  return 0;
}

int RequestParser::on_version_complete(llhttp_t* p) {
  RequestParser& me = self(p);
  if (p->http_major != 1 || p->http_minor > 1) {
    return me.fail(ParseError::UnsupportedVersion, nullptr);
  }
  me.request_->http_minor = p->http_minor;
  return 0;
}

// Limits are checked in the *_complete callbacks, never on a span piece: pieces depend on how
// the bytes were split into reads, and the verdict on a request must not.
int RequestParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  RequestParser& me = self(p);
  if (me.header_part_ == HeaderPart::BetweenHeaders) {
    me.header_part_ = HeaderPart::InName;
    if (me.phase_ != Phase::Trailers) {
      HttpRequest& r = *me.request_;
      const auto off = static_cast<uint32_t>(r.head_storage.size());
      r.headers_.push_back(HeaderRef{off, 0, off, 0});
    }
  } else if (me.header_part_ != HeaderPart::InName) {
    return me.fail(ParseError::BadRequest, "malformed header line");
  }
  if (me.phase_ == Phase::Trailers) return 0;  // trailers are checked and counted, then dropped
  HttpRequest& r = *me.request_;
  r.head_storage.append(at, len);
  r.headers_.back().name_len += static_cast<uint32_t>(len);
  return 0;
}

int RequestParser::on_header_field_complete(llhttp_t* p) {
  RequestParser& me = self(p);
  const bool named = me.header_part_ == HeaderPart::InName;
  me.header_part_ = HeaderPart::NameDone;
  if (me.phase_ == Phase::Trailers) {
    if (!named) return me.fail(ParseError::BadRequest, "empty header name");
    if (++me.trailer_fields_ > me.limits_.max_headers) {
      return me.fail(ParseError::TooManyHeaders, nullptr);
    }
    return 0;
  }
  HttpRequest& r = *me.request_;
  if (!named || r.headers_.back().name_len == 0) {
    return me.fail(ParseError::BadRequest, "empty header name");
  }
  if (r.headers_.size() > me.limits_.max_headers) {
    r.headers_.pop_back();
    return me.fail(ParseError::TooManyHeaders, nullptr);
  }
  const HeaderRef& h = r.headers_.back();
  const std::string_view name = std::string_view(r.head_storage).substr(h.name_off, h.name_len);
  if (iequals(name, "content-length")) {
    if (me.content_length_headers_ < 255) ++me.content_length_headers_;
  } else if (iequals(name, "transfer-encoding")) {
    me.transfer_encoding_seen_ = true;
  }
  return 0;
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  RequestParser& me = self(p);
  if (me.header_part_ == HeaderPart::NameDone) {
    me.header_part_ = HeaderPart::InValue;
    if (me.phase_ != Phase::Trailers) {
      HttpRequest& r = *me.request_;
      r.headers_.back().value_off = static_cast<uint32_t>(r.head_storage.size());
    }
  } else if (me.header_part_ != HeaderPart::InValue) {
    return me.fail(ParseError::BadRequest, "header value without a name");
  }
  if (me.phase_ == Phase::Trailers) return 0;
  HttpRequest& r = *me.request_;
  r.head_storage.append(at, len);
  r.headers_.back().value_len += static_cast<uint32_t>(len);
  return 0;
}

int RequestParser::on_header_value_complete(llhttp_t* p) {
  RequestParser& me = self(p);
  if (me.header_part_ != HeaderPart::NameDone && me.header_part_ != HeaderPart::InValue) {
    return me.fail(ParseError::BadRequest, "header value without a name");
  }
  const bool has_value = me.header_part_ == HeaderPart::InValue;
  me.header_part_ = HeaderPart::BetweenHeaders;
  if (me.phase_ == Phase::Trailers) return 0;
  HttpRequest& r = *me.request_;
  HeaderRef& h = r.headers_.back();
  if (!has_value) {
    h.value_off = static_cast<uint32_t>(r.head_storage.size());
    h.value_len = 0;
    return 0;
  }
  const char* v = r.head_storage.data();
  while (h.value_len > 0 && is_ows(v[h.value_off])) {
    ++h.value_off;
    --h.value_len;
  }
  while (h.value_len > 0 && is_ows(v[h.value_off + h.value_len - 1])) --h.value_len;
  return 0;
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  RequestParser& me = self(p);
  if (me.phase_ != Phase::Head) return 0;  // not expected after trailers; nothing to do then
  if (p->http_major != 1 || p->http_minor > 1) {
    // A request line without a version ("GET /") is HTTP/0.9 to llhttp, and skips
    // on_version_complete.
    return me.fail(ParseError::UnsupportedVersion, nullptr);
  }
  if (p->method == HTTP_CONNECT && (p->content_length > 0 || (p->flags & F_CHUNKED) != 0)) {
    // llhttp does not read a CONNECT body (what follows is the tunnel); RFC 9110 §9.3.6 says it
    // has none. Refuse rather than leave its bytes to be read as the next request.
    return me.fail(ParseError::BadRequest, "CONNECT request with content");
  }
  HttpRequest& r = *me.request_;
  r.http_minor = p->http_minor;
  // After an Upgrade (or CONNECT) llhttp stops parsing HTTP on this connection; sluice answers
  // the request as plain HTTP/1.1 (RFC 9110 §7.8 lets a server ignore Upgrade) and then closes.
  r.keep_alive = llhttp_should_keep_alive(p) != 0 && p->upgrade == 0;
  r.chunked = (p->flags & F_CHUNKED) != 0;
  if ((p->flags & F_CONTENT_LENGTH) != 0) {
    r.content_length = p->content_length;
    if (p->content_length > me.limits_.max_request_body) {
      return me.fail(ParseError::BodyTooLarge, nullptr);  // before a byte of the body is read
    }
    const uint64_t want = std::min(p->content_length, kMaxBodyReserveUpFront) + kBodyPadding;
    if (r.body.capacity() < want) r.body.reserve(want);
  }
  me.finish_head();
  me.pause_ = Pause::HeadDone;
  return HPE_PAUSED;
}

int RequestParser::on_chunk_header(llhttp_t* p) {
  RequestParser& me = self(p);
  const uint64_t chunk = p->content_length;  // llhttp stores the chunk size there
  if (chunk > me.limits_.max_request_body - me.request_->body.size()) {
    return me.fail(ParseError::BodyTooLarge, nullptr);  // before the chunk's data is read
  }
  if (chunk == 0) {  // the last chunk: trailers (counted like the head) or the final CRLF follow
    me.pause_ = Pause::LastChunk;
    return HPE_PAUSED;
  }
  return 0;
}

int RequestParser::on_body(llhttp_t* p, const char* at, size_t len) {
  RequestParser& me = self(p);
  std::string& body = me.request_->body;
  if (len > me.limits_.max_request_body - body.size()) {
    return me.fail(ParseError::BodyTooLarge, nullptr);
  }
  body.append(at, len);
  return 0;
}

int RequestParser::on_message_complete(llhttp_t* p) {
  self(p).pause_ = Pause::MessageDone;
  return HPE_PAUSED;
}

}  // namespace sluice::http
