#include "filters/rate_limit/reset_duration.h"

#include <charconv>
#include <cstdint>

namespace sluice::filters::rate_limit {

std::string_view format_reset_duration(std::chrono::milliseconds d,
                                       char (&out)[kResetDurationMax]) {
  char* p = out;
  char* const end = out + kResetDurationMax;
  auto number = [&](uint64_t v) { p = std::to_chars(p, end, v).ptr; };
  auto text = [&](std::string_view s) {
    for (char c : s) *p++ = c;
  };

  const int64_t count = d.count();
  if (count <= 0) {
    text("0s");
    return {out, static_cast<size_t>(p - out)};
  }
  const auto ms = static_cast<uint64_t>(count);
  if (ms < 1000) {
    number(ms);
    text("ms");
    return {out, static_cast<size_t>(p - out)};
  }
  const uint64_t hours = ms / 3'600'000;
  const uint64_t minutes = ms / 60'000 % 60;
  const uint64_t seconds = ms / 1000 % 60;
  uint64_t fraction = ms % 1000;
  if (hours > 0) {
    number(hours);
    *p++ = 'h';
  }
  if (hours > 0 || minutes > 0) {
    number(minutes);
    *p++ = 'm';
  }
  number(seconds);
  if (fraction > 0) {  // three digits, trailing zeros dropped: .5, .64, .648
    int digits = 3;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --digits;
    }
    char frac[3];
    for (int i = digits - 1; i >= 0; --i) {
      frac[i] = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    *p++ = '.';
    for (int i = 0; i < digits; ++i) *p++ = frac[i];
  }
  *p++ = 's';
  return {out, static_cast<size_t>(p - out)};
}

}  // namespace sluice::filters::rate_limit
