// NodeReader: typed access to one mapping of the config, with the key path and position of
// every value at hand so that each error can say exactly where it is. Every getter records its
// key as part of the schema, whether or not the key is present, so finish() knows both which
// keys are unknown and which valid keys to suggest instead.
#include "core/config/node_reader.h"

#include <charconv>
#include <cmath>
#include <string>

namespace sluice::config {
namespace {

// What a non-scalar node looks like to a user reading the error.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return '"' + node.Scalar() + '"';
    default:
      return "nothing";
  }
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : ", ") + word;
  return out;
}

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates) {
  auto guess = did_you_mean(word, candidates);
  return guess ? " (did you mean \"" + *guess + "\"?)" : "";
}

}  // namespace

NodeReader::NodeReader(YAML::Node node, std::string key_path, std::string file)
    : NodeReader(std::move(node), std::move(key_path), file, SourceMark{file, 0, 0}) {}

NodeReader::NodeReader(YAML::Node node, std::string key_path, std::string file, SourceMark fallback)
    : path_(std::move(key_path)), file_(std::move(file)), fallback_mark_(std::move(fallback)) {
  const SourceMark own = mark_of_node(node, file_);
  if (own.line > 0) fallback_mark_ = own;
  if (node.IsDefined() && node.IsMap()) {
    node_ = node;
    return;
  }
  if (node.IsDefined() && !node.IsNull()) {
    throw ConfigError(fallback_mark_, path_,
                      "expected a mapping (key: value pairs), got " + describe(node));
  }
  node_ = YAML::Node(YAML::NodeType::Map);  // absent or empty: no keys
}

std::optional<YAML::Node> NodeReader::find(std::string_view key) const {
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return std::nullopt;
}

void NodeReader::note(std::string_view key) {
  if (known_.find(key) == known_.end()) known_.emplace(key);
}

bool NodeReader::has(std::string_view key) const {
  return find(key).has_value();
}

SourceMark NodeReader::mark() const {
  return fallback_mark_;
}

SourceMark NodeReader::mark_of(std::string_view key) const {
  auto value = find(key);
  if (!value) return mark();
  SourceMark own = mark_of_node(*value, file_);
  return own.line > 0 ? own : mark();
}

std::string NodeReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::optional<std::string> NodeReader::scalar(std::string_view key, const char* expected) {
  note(key);
  auto value = find(key);
  if (!value || value->IsNull()) return std::nullopt;
  if (!value->IsScalar())
    fail(key, std::string("expected ") + expected + ", got " + describe(*value));
  return value->Scalar();
}

std::optional<std::string> NodeReader::string(std::string_view key) {
  return scalar(key, "a string");
}

std::optional<bool> NodeReader::boolean(std::string_view key) {
  auto text = scalar(key, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  fail(key, "expected true or false, got \"" + *text + "\"");
}

std::optional<int64_t> NodeReader::integer(std::string_view key, int64_t min, int64_t max) {
  auto text = scalar(key, "an integer");
  if (!text) return std::nullopt;
  const std::string range = "from " + std::to_string(min) + " to " + std::to_string(max);
  int64_t value = 0;
  const char* end = text->data() + text->size();
  auto [stop, ec] = std::from_chars(text->data(), end, value);
  if (ec == std::errc::result_out_of_range) fail(key, "must be " + range + ", got " + *text);
  if (ec != std::errc() || stop != end || text->empty()) {
    fail(key, "expected an integer " + range + ", got \"" + *text + "\"");
  }
  if (value < min || value > max) fail(key, "must be " + range + ", got " + *text);
  return value;
}

std::optional<double> NodeReader::number(std::string_view key, double min, double max) {
  auto text = scalar(key, "a number");
  if (!text) return std::nullopt;
  auto shown = [](double v) {
    std::string s = std::to_string(v);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  const std::string range = "from " + shown(min) + " to " + shown(max);
  double value = 0;
  const char* end = text->data() + text->size();
  auto [stop, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || stop != end || !std::isfinite(value)) {
    fail(key, "expected a number " + range + ", got \"" + *text + "\"");
  }
  if (value < min || value > max) fail(key, "must be " + range + ", got " + *text);
  return value;
}

std::optional<Duration> NodeReader::duration(std::string_view key) {
  auto text = scalar(key, "a duration");
  if (!text) return std::nullopt;
  auto value = parse_duration(*text);
  if (!value) {
    fail(key,
         "expected a duration like 250ms, 2s, 1m (units: ms, s, m, h, d), got \"" + *text + "\"");
  }
  return value;
}

std::optional<uint64_t> NodeReader::size(std::string_view key) {
  auto text = scalar(key, "a size");
  if (!text) return std::nullopt;
  auto value = parse_size(*text);
  if (!value) {
    fail(key,
         "expected a size like 64KiB, 32MiB, 1GiB (units: B, KiB, MiB, GiB, KB, MB, GB), got \"" +
             *text + "\"");
  }
  return value;
}

std::optional<std::vector<std::string>> NodeReader::string_list(std::string_view key,
                                                                bool allow_scalar) {
  note(key);
  auto value = find(key);
  if (!value || value->IsNull()) return std::nullopt;
  if (value->IsScalar()) {
    if (allow_scalar) return std::vector<std::string>{value->Scalar()};
    fail(key, "expected a list of strings like [a, b], got " + describe(*value));
  }
  if (!value->IsSequence())
    fail(key, "expected a list of strings like [a, b], got " + describe(*value));
  std::vector<std::string> items;
  for (size_t i = 0; i < value->size(); ++i) {
    const YAML::Node item = (*value)[i];
    if (!item.IsScalar()) {
      throw ConfigError(
          mark_of_node(item, file_).line > 0 ? mark_of_node(item, file_) : mark_of(key),
          path_of(key) + "[" + std::to_string(i) + "]", "expected a string, got " + describe(item));
    }
    items.push_back(item.Scalar());
  }
  return items;
}

std::optional<std::string> NodeReader::one_of(std::string_view key,
                                              const std::vector<std::string>& allowed) {
  auto text = scalar(key, "a string");
  if (!text) return std::nullopt;
  for (const std::string& option : allowed) {
    if (*text == option) return text;
  }
  fail(key,
       "expected one of " + join(allowed) + ", got \"" + *text + "\"" + suggestion(*text, allowed));
}

NodeReader NodeReader::child(std::string_view key) {
  note(key);
  auto value = find(key);
  return NodeReader(value ? *value : YAML::Node(), path_of(key), file_, mark_of(key));
}

YAML::Node NodeReader::raw(std::string_view key) {
  note(key);
  auto value = find(key);
  return value ? *value : YAML::Node();
}

void NodeReader::fail(std::string_view key, const std::string& message) const {
  throw ConfigError(mark_of(key), path_of(key), message);
}

void NodeReader::fail_here(const std::string& message) const {
  throw ConfigError(mark(), path_, message);
}

void NodeReader::finish() const {
  std::set<std::string, std::less<>> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const YAML::Node key = it->first;
    const SourceMark where = mark_of_node(key, file_).line > 0 ? mark_of_node(key, file_) : mark();
    if (!key.IsScalar())
      throw ConfigError(where, path_, "keys must be plain names, got " + describe(key));
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second) {
      throw ConfigError(where, path_of(name), "duplicate key \"" + name + "\"");
    }
    if (known_.count(name)) continue;
    const std::vector<std::string> candidates(known_.begin(), known_.end());
    std::string message = "unknown key \"" + name + "\"";
    if (auto guess = did_you_mean(name, candidates)) {
      message += " (did you mean \"" + *guess + "\"?)";
    } else if (!candidates.empty()) {
      message += " (expected one of: " + join(candidates) + ")";
    }
    throw ConfigError(where, path_of(name), message);
  }
}

}  // namespace sluice::config
