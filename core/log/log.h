// Process log (start-up, reload, warnings): one line per event on stderr, thread-safe.
// Not for per-request output (that is the access log). Never logs secrets: callers pass
// only names, never api keys or agent keys.
#pragma once

#include <string_view>

namespace sluice::log {

enum class Level : uint8_t { Debug, Info, Warn, Error };
void set_min_level(Level level);
void write(Level level, std::string_view message);
inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warn(std::string_view m) { write(Level::Warn, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

}  // namespace sluice::log
