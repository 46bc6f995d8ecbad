#include "filters/rate_limit/rate_limit_headers.h"

#include <charconv>
#include <cstring>
#include <string_view>

#include "filters/rate_limit/reset_duration.h"

namespace sluice::filters::rate_limit {
namespace {

// The digits of the number one header line carried last on this thread. A limit is the same on
// every request of an agent, and with a steady load so is often what remains: copying a few
// cached bytes costs less than formatting the number again (bench/profile.sh: to_chars was
// ~700 of the ~1,280 instructions of the six x-ratelimit-* lines). Any other value is formatted
// and becomes the cached one, so the text is always exactly the number's.
class LastNumber {
 public:
  std::string_view digits(uint64_t value) {
    if (len_ == 0 || value != value_) {
      value_ = value;
      len_ = static_cast<uint8_t>(std::to_chars(text_, text_ + sizeof text_, value).ptr - text_);
    }
    return std::string_view(text_, len_);
  }

 private:
  uint64_t value_ = 0;
  uint8_t len_ = 0;  // 0: nothing cached yet
  char text_[20];    // UINT64_MAX has 20 digits
};

// One per header line that carries a limit or a remaining count, per worker thread.
struct LastNumbers {
  LastNumber limit, remaining;
};
thread_local LastNumbers last_requests, last_tokens;

// A few header lines written into a stack buffer, then handed to the context in one append.
// Names are string literals, so their copies compile to a few moves.
class HeaderLines {
 public:
  template <size_t N>
  void number(const char (&name)[N], uint64_t value) {
    start(name);
    p_ = std::to_chars(p_, end_, value).ptr;
    end_line();
  }
  template <size_t N>
  void number(const char (&name)[N], uint64_t value, LastNumber& last) {
    start(name);
    const std::string_view d = last.digits(value);
    std::memcpy(p_, d.data(), d.size());
    p_ += d.size();
    end_line();
  }
  template <size_t N>
  void duration(const char (&name)[N], std::chrono::milliseconds value) {
    start(name);
    char text[kResetDurationMax];
    const std::string_view d = format_reset_duration(value, text);
    std::memcpy(p_, d.data(), d.size());
    p_ += d.size();
    end_line();
  }

  // RequestContext appends "name: value\r\n" and has no call for several lines: the first
  // line's name goes as the name and everything after its ": " (the later lines included —
  // all written here from literal names and numbers, so no CR/LF from any input) as the value.
  void flush(filter::RequestContext& ctx) const {
    const size_t len = static_cast<size_t>(p_ - buf_);
    ctx.add_response_header(std::string_view(buf_, first_name_),
                            std::string_view(buf_ + first_name_ + 2, len - first_name_ - 4));
  }

 private:
  template <size_t N>
  void start(const char (&name)[N]) {
    if (p_ == buf_) first_name_ = N - 1;
    std::memcpy(p_, name, N - 1);
    p_ += N - 1;
    std::memcpy(p_, ": ", 2);
    p_ += 2;
  }
  void end_line() {
    std::memcpy(p_, "\r\n", 2);
    p_ += 2;
  }

  // Three lines of at most 30 (name) + 2 + 32 (value) + 2 bytes.
  char buf_[256];
  char* p_ = buf_;
  char* const end_ = buf_ + sizeof buf_;
  size_t first_name_ = 0;
};

}  // namespace

void add_bucket_headers(filter::RequestContext& ctx, BucketKind kind,
                        const state::BucketReading& reading) {
  HeaderLines lines;
  if (kind == BucketKind::Requests) {
    lines.number("x-ratelimit-limit-requests", reading.limit, last_requests.limit);
    lines.number("x-ratelimit-remaining-requests", reading.remaining, last_requests.remaining);
    lines.duration("x-ratelimit-reset-requests", reading.reset_after);
  } else {
    lines.number("x-ratelimit-limit-tokens", reading.limit, last_tokens.limit);
    lines.number("x-ratelimit-remaining-tokens", reading.remaining, last_tokens.remaining);
    lines.duration("x-ratelimit-reset-tokens", reading.reset_after);
  }
  lines.flush(ctx);
}

uint64_t retry_after_seconds(std::chrono::milliseconds wait) {
  const int64_t ms = wait.count();
  if (ms <= 1000) return 1;
  return static_cast<uint64_t>((ms + 999) / 1000);
}

void add_retry_after_headers(filter::RequestContext& ctx, std::chrono::milliseconds wait) {
  HeaderLines lines;
  lines.number("retry-after", retry_after_seconds(wait));
  lines.number("retry-after-ms", static_cast<uint64_t>(wait.count() < 1 ? 1 : wait.count()));
  lines.flush(ctx);
}

}  // namespace sluice::filters::rate_limit
