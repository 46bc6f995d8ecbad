#include "anthropic/json_reader.h"

#include "anthropic/json_writer.h"

namespace anthropic {

bool parse_object(simdjson::dom::parser& parser, std::string_view text, object& out) {
  if (text.empty()) return false;
  return parser.parse(text.data(), text.size()).get(out) == simdjson::SUCCESS;
}

std::optional<element> member(object obj, std::string_view name) {
  element value;
  if (obj[name].get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

std::optional<std::string_view> string_member(object obj, std::string_view name) {
  std::string_view text;
  if (obj[name].get(text) != simdjson::SUCCESS) return std::nullopt;
  return text;
}

std::string_view string_or_empty(object obj, std::string_view name) {
  return string_member(obj, name).value_or(std::string_view{});
}

std::optional<object> object_member(object obj, std::string_view name) {
  object value;
  if (obj[name].get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

std::optional<uint64_t> count_member(object obj, std::string_view name) {
  uint64_t n = 0;
  if (obj[name].get(n) != simdjson::SUCCESS) return std::nullopt;
  return n;
}

std::string minified(element value) {
  return simdjson::minify(value);
}

std::string minified(object value) {
  return simdjson::minify(value);
}

std::string quote(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out = "\"" + printable_prefix(text, kMax);
  out.append(text.size() > kMax ? "...\"" : "\"");
  return out;
}

std::string describe(element value) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::STRING:
      return quote(value.get_string().value_unsafe());
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
    default:
      return "a number";
  }
}

std::string indexed(std::string_view path, size_t index) {
  std::string out(path);
  out.push_back('[');
  out.append(std::to_string(index));
  out.push_back(']');
  return out;
}

}  // namespace anthropic
