// What the fleet's components share when they call a script: its numeric arguments written
// into stack buffers (no allocation per call), and the two waits every pending change keeps.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace sluice::fleet {

// Refunds, debts, spend and holdings changed since the last call wait this long for a call
// to ride on before they are sent alone.
inline constexpr std::chrono::milliseconds kFlushDelay{100};
// A lease or block not drawn on for this long goes back to the fleet.
inline constexpr std::chrono::milliseconds kIdleReturn{1000};

// A script argument's text, in a buffer the caller keeps alive until eval() returns.
struct ArgBuffer {
  char bytes[32];
};

inline std::string_view arg(ArgBuffer& buf, int64_t v) {
  auto [end, ec] = std::to_chars(buf.bytes, buf.bytes + sizeof(buf.bytes), v);
  return {buf.bytes, static_cast<size_t>(end - buf.bytes)};
}

// Shortest round-trip form: Lua's tonumber reads it back exactly.
inline std::string_view arg(ArgBuffer& buf, double v) {
  auto [end, ec] = std::to_chars(buf.bytes, buf.bytes + sizeof(buf.bytes), v);
  return {buf.bytes, static_cast<size_t>(end - buf.bytes)};
}

}  // namespace sluice::fleet
