#include "core/config/yaml_json.h"

#include "core/http/response_builder.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace sluice::config {
namespace {

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  http::append_json_escaped(out, s);  // the escaping every JSON sluice writes uses
  out.push_back('"');
}

bool is_quoted(const YAML::Node& node) {
  // yaml-cpp tags a quoted scalar "!" (non-specific) and a plain one "?".
  const std::string& tag = node.Tag();
  return tag == "!" || tag == "tag:yaml.org,2002:str";
}

bool is_integer(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, finite.
bool as_number(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok =
        (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+';
    if (!ok) return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, std::chars_format::general);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(*out);
}

void write_scalar(std::string& out, const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (is_quoted(node)) return append_string(out, s);
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    out.append("null");
  } else if (s == "true" || s == "True" || s == "TRUE") {
    out.append("true");
  } else if (s == "false" || s == "False" || s == "FALSE") {
    out.append("false");
  } else if (is_integer(s)) {
    // Kept as written (without a leading '+'), so integers wider than a double stay exact.
    out.append(s.front() == '+' ? std::string_view(s).substr(1) : std::string_view(s));
  } else if (double d = 0; as_number(s, &d)) {
    char text[32];
    auto [end, ec] = std::to_chars(text, text + sizeof text, d);
    out.append(text, ec == std::errc() ? end : text);
  } else {
    append_string(out, s);
  }
}

void write(std::string& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : node) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first));
        out.push_back(':');
        write(out, kv.second);
      }
      out.push_back('}');
      return;
    }
    case YAML::NodeType::Sequence: {
      out.push_back('[');
      bool first = true;
      for (const YAML::Node& item : node) {
        if (!first) out.push_back(',');
        first = false;
        write(out, item);
      }
      out.push_back(']');
      return;
    }
    case YAML::NodeType::Scalar:
      write_scalar(out, node);
      return;
    default:  // Null, Undefined
      out.append("null");
  }
}

}  // namespace

std::string yaml_to_json(const YAML::Node& node) {
  std::string out;
  write(out, node);
  return out;
}

}  // namespace sluice::config
