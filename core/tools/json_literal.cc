#include "core/tools/json_literal.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include "core/json/request_fields.h"

namespace sluice::tools::detail {
namespace {

// A double holding an integer this close to zero is written as that integer, so that 5.0
// equals 5. Beyond it the double is written as a double (and no longer equals the integer
// literal with the same digits, a corner JSON Schema validators disagree on anyway).
constexpr double kIntegralRange = 9223372036854775808.0;  // 2^63

void append_number(double value, std::string& out) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < kIntegralRange) {
    out += std::to_string(static_cast<int64_t>(value));
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, ec == std::errc() ? end : buf);
}

}  // namespace

void append_canonical(simdjson::dom::element value, std::string& out) {
  switch (value.type()) {
    case simdjson::dom::element_type::OBJECT: {
      std::vector<std::pair<std::string_view, std::string>> members;
      for (auto [key, member] : as_object(value)) {
        std::string text;
        append_canonical(member, text);
        members.emplace_back(key, std::move(text));
      }
      std::sort(members.begin(), members.end());
      out.push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out.push_back(',');
        json::append_json_string(out, members[i].first);
        out.push_back(':');
        out += members[i].second;
      }
      out.push_back('}');
      return;
    }
    case simdjson::dom::element_type::ARRAY: {
      out.push_back('[');
      bool first = true;
      for (simdjson::dom::element item : as_array(value)) {
        if (!first) out.push_back(',');
        first = false;
        append_canonical(item, out);
      }
      out.push_back(']');
      return;
    }
    case simdjson::dom::element_type::STRING:
      json::append_json_string(out, value.get_string().value_unsafe());
      return;
    case simdjson::dom::element_type::INT64:
      out += std::to_string(value.get_int64().value_unsafe());
      return;
    case simdjson::dom::element_type::UINT64:
      out += std::to_string(value.get_uint64().value_unsafe());
      return;
    case simdjson::dom::element_type::DOUBLE:
      append_number(value.get_double().value_unsafe(), out);
      return;
    case simdjson::dom::element_type::BOOL:
      out += value.get_bool().value_unsafe() ? "true" : "false";
      return;
    case simdjson::dom::element_type::NULL_VALUE:
      out += "null";
      return;
  }
}

std::string describe(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::OBJECT:
      return "object";
    case simdjson::dom::element_type::ARRAY:
      return "array";
    case simdjson::dom::element_type::STRING: {
      bool was_cut = false;
      std::string out = "string ";
      json::append_json_string(out,
                               cut(value.get_string().value_unsafe(), kShownCodePoints, &was_cut));
      if (was_cut) out.insert(out.size() - 1, "…");
      return out;
    }
    case simdjson::dom::element_type::INT64:
      return "number " + std::to_string(value.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return "number " + std::to_string(value.get_uint64().value_unsafe());
    case simdjson::dom::element_type::DOUBLE:
      return "number " + number_text(value.get_double().value_unsafe());
    case simdjson::dom::element_type::BOOL:
      return value.get_bool().value_unsafe() ? "boolean true" : "boolean false";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

std::string number_text(double value) {
  std::string out;
  append_number(value, out);
  return out;
}

uint64_t code_points(std::string_view utf8) {
  // Every code point has exactly one byte that is not a continuation byte (10xxxxxx).
  uint64_t n = 0;
  for (char c : utf8) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string_view cut(std::string_view utf8, size_t max, bool* was_cut) {
  size_t seen = 0;
  for (size_t i = 0; i < utf8.size(); ++i) {
    if ((static_cast<unsigned char>(utf8[i]) & 0xC0) == 0x80) continue;
    if (seen++ == max) {
      *was_cut = true;
      return utf8.substr(0, i);
    }
  }
  *was_cut = false;
  return utf8;
}

}  // namespace sluice::tools::detail
