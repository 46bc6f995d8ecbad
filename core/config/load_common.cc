// Helpers shared by the load steps: named sections, list-item positions, path resolution.
#include <filesystem>
#include <string>

#include "core/config/load_steps.h"
#include "core/http/request.h"

namespace sluice::config::load {

bool follows(const std::string& name, NameRule rule) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (rule == NameRule::AnyText) {
      if (u <= ' ' || u == 0x7f) return false;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::pair<std::string, NodeReader>> named_entries(NodeReader& root,
                                                              std::string_view key, NameRule rule) {
  NodeReader section = root.child(key);
  std::vector<std::string> names;
  for (auto it = section.node().begin(); it != section.node().end(); ++it) {
    if (it->first.IsScalar()) names.push_back(it->first.Scalar());
  }
  std::vector<std::pair<std::string, NodeReader>> entries;
  for (const std::string& name : names) {
    if (!follows(name, rule)) {
      section.fail(name,
                   rule == NameRule::Identifier
                       ? "invalid name \"" + name + "\": use letters, digits, '_', '-' and '.'"
                       : "invalid name \"" + name + "\": it must be non-empty, without spaces");
    }
    entries.emplace_back(name, section.child(name));
  }
  section.finish();  // duplicate names, non-scalar keys
  return entries;
}

std::optional<Duration> positive_duration(NodeReader& reader, std::string_view key) {
  auto value = reader.duration(key);
  if (value && value->count() <= 0) reader.fail(key, "must be greater than 0");
  return value;
}

SourceMark item_mark(NodeReader& reader, std::string_view key, size_t index) {
  const YAML::Node list = reader.raw(key);
  if (list.IsSequence() && index < list.size()) {
    SourceMark mark = mark_of_node(list[index], reader.file());
    if (mark.line > 0) return mark;
  }
  return reader.mark_of(key);
}

std::string item_path(const NodeReader& reader, std::string_view key, size_t index) {
  return reader.path_of(key) + "[" + std::to_string(index) + "]";
}

std::string unknown_name_hint(const std::string& name, const std::vector<std::string>& known) {
  if (auto guess = did_you_mean(name, known)) return " (did you mean \"" + *guess + "\"?)";
  if (known.empty()) return " (none are defined)";
  std::string list;
  for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
  return " (defined: " + list + ")";
}

std::string resolve_path(const Config& config, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (std::filesystem::path(config.base_dir) / p).lexically_normal().string();
}

std::vector<std::pair<std::string, std::string>> read_headers(NodeReader& entry) {
  std::vector<std::pair<std::string, std::string>> out;
  NodeReader headers = entry.child("headers");
  std::vector<std::string> names;
  for (auto it = headers.node().begin(); it != headers.node().end(); ++it) {
    if (it->first.IsScalar()) names.push_back(it->first.Scalar());
  }
  for (const std::string& name : names) {
    auto value = headers.string(name);
    if (!http::is_token(name)) {
      headers.fail(name, "\"" + name + "\" is not a valid HTTP header name");
    }
    std::string key = name;
    for (char& ch : key) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    if (key == "host" || key == "content-length" || key == "transfer-encoding" ||
        key == "connection") {
      headers.fail(name, "sluice sets " + name + " itself; it cannot be configured");
    }
    if (!value) headers.fail(name, "expected a header value");
    if (value->find_first_of("\r\n") != std::string::npos ||
        value->find('\0') != std::string::npos) {
      headers.fail(name, "header values cannot contain line breaks");
    }
    out.emplace_back(name, *value);
  }
  headers.finish();
  return out;
}

}  // namespace sluice::config::load
