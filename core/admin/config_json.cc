#include "core/admin/config_json.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "core/admin/json_writer.h"

namespace sluice::admin {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Rule 1: a map key whose words name a credential.
bool is_credential_key(std::string_view key) {
  static constexpr std::array<std::string_view, 12> kWords = {
      "key",      "keys",   "apikey",     "token",       "secret",        "secrets",
      "password", "passwd", "credential", "credentials", "authorization", "cookie"};
  const std::string lower = lowercase(key);
  size_t i = 0;
  while (i < lower.size()) {
    while (i < lower.size() && !std::isalnum(static_cast<unsigned char>(lower[i]))) ++i;
    size_t start = i;
    while (i < lower.size() && std::isalnum(static_cast<unsigned char>(lower[i]))) ++i;
    std::string_view word(lower.data() + start, i - start);
    for (std::string_view w : kWords) {
      if (word == w) return true;
    }
  }
  return false;
}

// Rule 2: a header name that carries a credential.
bool is_credential_header(std::string_view name) {
  const std::string lower = lowercase(name);
  for (std::string_view part : {"authorization", "key", "token", "secret", "cookie"}) {
    if (lower.find(part) != std::string::npos) return true;
  }
  return false;
}

bool is_plain_string_tag(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return tag == "!" || tag == "tag:yaml.org,2002:str";
}

// A plain scalar as the YAML 1.2 core schema reads it, written as JSON.
void write_scalar(JsonWriter& out, const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (is_plain_string_tag(node)) {
    out.string(redact_url_userinfo(s));
    return;
  }
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    out.null();
    return;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    out.boolean(true);
    return;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    out.boolean(false);
    return;
  }
  // Decimal integer: [-+]?[0-9]+
  {
    std::string_view digits = s;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    int64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() &&
        digits.front() != '+') {
      out.integer(n);
      return;
    }
  }
  // Float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?  (no inf/nan: JSON has none)
  {
    std::string_view num = s;
    if (!num.empty() && num.front() == '+') num.remove_prefix(1);
    bool looks_numeric = !num.empty();
    for (char c : num) {
      if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != 'E' &&
          c != '-' && c != '+') {
        looks_numeric = false;
      }
    }
    double d = 0;
    if (looks_numeric) {
      auto [end, ec] =
          std::from_chars(num.data(), num.data() + num.size(), d, std::chars_format::general);
      if (ec == std::errc() && end == num.data() + num.size() && std::isfinite(d)) {
        out.number(d);
        return;
      }
    }
  }
  out.string(redact_url_userinfo(s));
}

// The shape of `node`, with every non-empty leaf replaced by "[redacted]".
void write_redacted(JsonWriter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      out.begin_array();
      for (const YAML::Node& item : node) write_redacted(out, item);
      out.end_array();
      return;
    case YAML::NodeType::Map:
      out.begin_object();
      for (const auto& kv : node) {
        out.key(kv.first.IsScalar() ? kv.first.Scalar() : std::string("?"));
        write_redacted(out, kv.second);
      }
      out.end_object();
      return;
    case YAML::NodeType::Scalar:
      if (node.Scalar().empty()) {
        out.string("");
      } else {
        out.string(kRedacted);
      }
      return;
    default:
      out.null();
  }
}

void write_node(JsonWriter& out, const YAML::Node& node, bool in_headers_map);

void write_map(JsonWriter& out, const YAML::Node& node, bool is_headers_map) {
  out.begin_object();
  for (const auto& kv : node) {
    // Non-scalar keys are legal YAML but meaningless in sluice's schema; keep them visible.
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
    out.key(key);
    if (is_credential_key(key) || (is_headers_map && is_credential_header(key))) {
      write_redacted(out, kv.second);
    } else {
      write_node(out, kv.second, lowercase(key) == "headers");
    }
  }
  out.end_object();
}

void write_node(JsonWriter& out, const YAML::Node& node, bool is_headers_map) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      write_map(out, node, is_headers_map);
      return;
    case YAML::NodeType::Sequence:
      out.begin_array();
      for (const YAML::Node& item : node) write_node(out, item, false);
      out.end_array();
      return;
    case YAML::NodeType::Scalar:
      write_scalar(out, node);
      return;
    default:  // Null, Undefined
      out.null();
  }
}

}  // namespace

std::string redact_url_userinfo(std::string_view s) {
  const size_t scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::string(s);
  for (size_t i = 0; i < scheme_end; ++i) {
    const char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return std::string(s);
    }
  }
  const size_t authority = scheme_end + 3;
  size_t authority_end = s.find_first_of("/?#", authority);
  if (authority_end == std::string_view::npos) authority_end = s.size();
  const std::string_view auth = s.substr(authority, authority_end - authority);
  const size_t at = auth.rfind('@');
  if (at == std::string_view::npos) return std::string(s);
  const size_t colon = auth.substr(0, at).find(':');
  std::string out(s.substr(0, authority));
  if (colon == std::string_view::npos) {
    out.append(kRedacted);  // scheme://token@host: the user name is the credential
  } else {
    out.append(auth.substr(0, colon + 1)).append(kRedacted);
  }
  out.append(s.substr(authority + at));
  return out;
}

std::string redacted_config_json(const YAML::Node& raw) {
  JsonWriter out;
  write_node(out, raw, false);
  return out.take();
}

}  // namespace sluice::admin
