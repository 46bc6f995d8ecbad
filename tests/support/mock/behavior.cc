#include "tests/support/mock/behavior.h"

#include <charconv>

namespace sluice::mock {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_number(std::string_view text, long min, long max, long& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= min && out <= max;
}

}  // namespace

std::optional<Behavior> parse_behavior(std::string_view spec, const Behavior& base,
                                       std::string* error) {
  Behavior b = base;
  b.spec = std::string(trim(spec));
  std::string_view rest = spec;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;

    size_t colon = item.find(':');
    std::string_view name = item.substr(0, colon);
    std::string_view arg = colon == std::string_view::npos ? "" : item.substr(colon + 1);
    long n = 0;
    auto bad = [&](const char* why) -> std::optional<Behavior> {
      if (error) *error = std::string(why) + ": '" + std::string(item) + "'";
      return std::nullopt;
    };

    if (name == "ok") {
      b.ending = Behavior::Ending::Answer;
      b.status_code = 200;
    } else if (name == "status") {
      if (!parse_number(arg, 100, 599, n)) return bad("status needs a code 100-599");
      b.ending = Behavior::Ending::Answer;
      b.status_code = static_cast<int>(n);
    } else if (name == "reset") {
      b.ending = Behavior::Ending::Reset;
    } else if (name == "hang") {
      b.ending = Behavior::Ending::Hang;
    } else if (name == "cut") {
      b.ending = Behavior::Ending::Cut;
      b.cut_events = 2;
    } else if (name == "cut_after") {
      if (!parse_number(arg, 1, 1'000'000, n)) return bad("cut_after needs an event count");
      b.ending = Behavior::Ending::Cut;
      b.cut_events = static_cast<uint32_t>(n);
    } else if (name == "cut_in_tool") {
      b.ending = Behavior::Ending::Cut;
      b.cut_in_tool = true;
    } else if (name == "garbage") {
      b.ending = Behavior::Ending::Garbage;
    } else if (name == "slow") {
      if (!parse_number(arg, 0, 3'600'000, n)) return bad("slow needs milliseconds");
      b.delay_ms = static_cast<uint32_t>(n);
    } else if (name == "slow_chunks") {
      if (!parse_number(arg, 0, 3'600'000, n)) return bad("slow_chunks needs milliseconds");
      b.chunk_delay_ms = static_cast<uint32_t>(n);
    } else if (name == "chunks") {
      if (!parse_number(arg, 1, 10'000, n)) return bad("chunks needs a count 1-10000");
      b.chunks = static_cast<int>(n);
    } else if (name == "pad") {
      if (!parse_number(arg, 0, 64'000'000, n)) return bad("pad needs a byte count");
      b.pad_bytes = static_cast<uint32_t>(n);
    } else if (name == "retry_after") {
      if (!parse_number(arg, 0, 86'400, n)) return bad("retry_after needs seconds 0-86400");
      b.retry_after_s = static_cast<int>(n);
    } else if (name == "cached") {
      if (!parse_number(arg, 0, 1'000'000, n)) return bad("cached needs a token count");
      b.cached_tokens = static_cast<uint32_t>(n);
    } else if (name == "cache_write") {
      if (!parse_number(arg, 0, 1'000'000, n)) return bad("cache_write needs a token count");
      b.cache_write_tokens = static_cast<uint32_t>(n);
    } else if (name == "no_usage") {
      b.omit_usage = true;
    } else if (name == "usage_in_last_chunk") {
      b.usage_in_last_chunk = true;
    } else if (name == "close_after") {
      b.close_after = true;
    } else if (name == "no_tools") {
      b.ignore_tools = true;
    } else if (name == "tool_calls") {
      if (!parse_number(arg, 1, 16, n)) return bad("tool_calls needs a count 1-16");
      b.tool_calls = static_cast<uint32_t>(n);
    } else if (name == "tool_preamble") {
      b.tool_preamble = true;
    } else if (name == "arg_chunk") {
      if (!parse_number(arg, 1, 1'000'000, n)) return bad("arg_chunk needs a byte count");
      b.arg_chunk = static_cast<uint32_t>(n);
    } else if (name == "error_event") {
      b.error_event = true;
    } else if (name == "unknown_events") {
      b.unknown_events = true;
    } else if (name == "thinking") {
      b.thinking = true;
    } else if (name == "strict") {
      b.strict = true;
    } else {
      return bad("unknown behaviour");
    }
  }
  return b;
}

}  // namespace sluice::mock
