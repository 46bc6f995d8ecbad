// ResponseParser: one upstream HTTP/1.x response at a time, on llhttp (HTTP_RESPONSE, strict:
// no lenient flags, so both Content-Length and Transfer-Encoding, or a bad chunk size, are
// errors). Collects the head into reusable storage, skips 1xx responses, removes hop-by-hop
// headers (and Transfer-Encoding / Content-Length, reported as `content_length` instead) and
// hands body bytes on as they are parsed, de-chunked, without buffering them.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/upstream/upstream_pool.h"

namespace sluice::upstream {

class ResponseParser {
 public:
  // Limits on what an upstream may send us before the body starts.
  static constexpr size_t kMaxHeadBytes = 64 * 1024;
  static constexpr size_t kMaxHeaders = 256;

  // Implemented by the connection. Returning false stops parsing at once (the exchange was
  // aborted from inside the callback): feed() then returns Stopped.
  class Events {
   public:
    virtual bool on_response_head(int status, std::span<const ResponseHeader> headers,
                                  std::optional<uint64_t> content_length) = 0;
    virtual bool on_response_body(const char* data, size_t len) = 0;

   protected:
    ~Events() = default;
  };

  enum class Result : uint8_t {
    NeedMore,  // every byte was consumed; the response is not complete yet
    Complete,  // the response ended; only `consumed` bytes belonged to it
    Stopped,   // an Events callback returned false
    Error,     // not a valid HTTP/1.x response (or over a limit); error() says why
  };

  explicit ResponseParser(Events* events);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Ready for the response to a new request. `head_request`: the request was HEAD, so the
  // response has no body whatever its headers say.
  void reset(bool head_request);
  Result feed(const char* data, size_t len, size_t* consumed);
  // The peer closed the connection: Complete if that ends a body delimited by the close,
  // Error otherwise (the response was cut short, or had not begun).
  Result finish();

  bool started() const { return bytes_seen_ > 0; }  // any byte of a response fed
  bool keep_alive() const { return keep_alive_; }   // valid once Complete
  const char* error() const { return error_; }

 private:
  struct HeaderSpan {  // offsets into head_
    uint32_t name_off, name_len, value_off, value_len;
  };

  static int cb_message_begin(llhttp_t* p);
  static int cb_header_field(llhttp_t* p, const char* at, size_t len);
  static int cb_header_field_complete(llhttp_t* p);
  static int cb_header_value(llhttp_t* p, const char* at, size_t len);
  static int cb_header_value_complete(llhttp_t* p);
  static int cb_headers_complete(llhttp_t* p);
  static int cb_body(llhttp_t* p, const char* at, size_t len);
  static int cb_message_complete(llhttp_t* p);
  static const llhttp_settings_t* settings();

  int headers_complete();
  int fail(const char* why);

  Events* events_;
  llhttp_t parser_;
  bool head_request_ = false;
  bool informational_ = false;  // inside a 1xx response: skipped, the real one follows
  bool headers_done_ = false;   // the final (non-1xx) head was delivered
  bool complete_ = false;
  bool stopped_ = false;
  bool keep_alive_ = false;
  bool in_field_ = false;  // the last header callback was for a name
  uint64_t bytes_seen_ = 0;
  const char* error_ = "";
  std::string head_;                     // header names and values, back to back
  std::vector<HeaderSpan> spans_;        // one per received header
  std::vector<ResponseHeader> visible_;  // the headers handed to Events (views into head_)
};

}  // namespace sluice::upstream
