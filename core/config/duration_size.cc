// Units in the config: durations ("250ms", "2s", "1m", "1h", "1d") and sizes ("64KiB", "32MiB",
// "1GiB", "512B", "100"). Units are required for durations so that "timeout: 30" can never
// silently mean 30 ms where the writer meant 30 s; sizes without a unit are bytes.
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "core/config/node_reader.h"

namespace sluice::config {
namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Splits "250ms" into 250 and "ms"; nullopt when there is no leading number.
std::optional<std::pair<uint64_t, std::string_view>> split_number(std::string_view text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || stop == text.data()) return std::nullopt;
  return std::pair{value, text.substr(static_cast<size_t>(stop - text.data()))};
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto fold = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

std::optional<uint64_t> scaled(uint64_t value, uint64_t factor, uint64_t limit) {
  if (value > limit / factor) return std::nullopt;  // would overflow
  return value * factor;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"ms", 1}, {"s", 1'000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  for (const Unit& unit : kUnits) {
    if (parts->second != unit.name) continue;
    auto ms = scaled(parts->first, unit.factor,
                     static_cast<uint64_t>(std::numeric_limits<Duration::rep>::max()));
    if (!ms) return std::nullopt;
    return Duration{static_cast<Duration::rep>(*ms)};
  }
  return std::nullopt;  // no unit, or one we do not know
}

std::optional<uint64_t> parse_size(std::string_view text) {
  static constexpr Unit kUnits[] = {{"", 1},
                                    {"B", 1},
                                    {"KiB", 1ull << 10},
                                    {"MiB", 1ull << 20},
                                    {"GiB", 1ull << 30},
                                    {"TiB", 1ull << 40},
                                    {"KB", 1'000},
                                    {"MB", 1'000'000},
                                    {"GB", 1'000'000'000},
                                    {"TB", 1'000'000'000'000}};
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  for (const Unit& unit : kUnits) {
    if (!same_ignoring_case(parts->second, unit.name)) continue;
    return scaled(parts->first, unit.factor, std::numeric_limits<uint64_t>::max());
  }
  return std::nullopt;
}

}  // namespace sluice::config
