#include "core/json/ondemand_validate.h"

#include "core/json/request_fields.h"

namespace sluice::json::detail {

namespace ondemand = simdjson::ondemand;

std::string_view trim_token(std::string_view raw) {
  size_t n = raw.size();
  while (n > 0) {
    char c = raw[n - 1];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    --n;
  }
  return raw.substr(0, n);
}

namespace {
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
}  // namespace

bool is_json_number(std::string_view t) {
  size_t i = 0, n = t.size();
  if (i < n && t[i] == '-') ++i;
  if (i >= n) return false;
  if (t[i] == '0') {
    ++i;
  } else if (is_digit(t[i])) {
    while (i < n && is_digit(t[i])) ++i;
  } else {
    return false;
  }
  if (i < n && t[i] == '.') {
    ++i;
    if (i >= n || !is_digit(t[i])) return false;
    while (i < n && is_digit(t[i])) ++i;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (i >= n || !is_digit(t[i])) return false;
    while (i < n && is_digit(t[i])) ++i;
  }
  return i == n;
}

bool consume_valid(ondemand::value& value, int depth) {
  if (depth > kMaxDepth) return false;
  ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  switch (type) {
    case ondemand::json_type::object: {
      ondemand::object object;
      if (value.get_object().get(object) != simdjson::SUCCESS) return false;
      for (auto field_result : object) {
        ondemand::field field;
        if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
        std::string_view key;  // unescaping is what checks the key's escapes
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
        ondemand::value child = field.value();
        if (!consume_valid(child, depth + 1)) return false;
      }
      return true;
    }
    case ondemand::json_type::array: {
      ondemand::array array;
      if (value.get_array().get(array) != simdjson::SUCCESS) return false;
      for (auto element_result : array) {
        ondemand::value element;
        if (std::move(element_result).get(element) != simdjson::SUCCESS) return false;
        if (!consume_valid(element, depth + 1)) return false;
      }
      return true;
    }
    case ondemand::json_type::string: {
      std::string_view text;  // unescaping checks the escapes
      return value.get_string().get(text) == simdjson::SUCCESS;
    }
    case ondemand::json_type::number:
      // simdjson's number getters refuse valid numbers they cannot represent (big integers,
      // 1e400); the grammar check accepts exactly what JSON does. Left unconsumed, the
      // scalar is stepped over by the enclosing iterator.
      return is_json_number(trim_token(value.raw_json_token()));
    case ondemand::json_type::boolean: {
      bool b;
      return value.get_bool().get(b) == simdjson::SUCCESS;
    }
    case ondemand::json_type::null: {
      bool is_null = false;
      return value.is_null().get(is_null) == simdjson::SUCCESS && is_null;
    }
  }
  return false;
}

}  // namespace sluice::json::detail
