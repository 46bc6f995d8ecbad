// NodeReader: typed, path-aware access to one YAML mapping of the config. Every getter records
// the key as known; finish() then rejects any other key with a did-you-mean. Every error is a
// ConfigError that names file:line:column and the key path, e.g.
//   sluice.yaml:14:7: providers.x.timeouts.conect: unknown key "conect" (did you mean "connect"?)
// Used by the loader and by every filter factory, so all config errors read the same.
// Exceptions are fine here: this runs at config load only, never on the request path.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"

namespace sluice::config {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(const SourceMark& mark, const std::string& key_path, const std::string& message);
  const SourceMark& mark() const { return mark_; }
  const std::string& key_path() const { return key_path_; }

 private:
  SourceMark mark_;
  std::string key_path_;
};

// Parses "250ms", "2s", "1m", "1h", "1d" (a bare integer is refused: units are required).
std::optional<Duration> parse_duration(std::string_view text);
// Parses "64KiB", "32MiB", "1GiB", "512B", "100" (bytes); KB/MB also accepted as 1000-based.
std::optional<uint64_t> parse_size(std::string_view text);
// The closest candidate by edit distance, if close enough to be a plausible typo.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080"; the port is required (0 allowed: the
// kernel picks one). On failure returns nullopt and sets `error` to a sentence for the user.
std::optional<HostPort> parse_host_port(std::string_view text, std::string& error);
// "https://api.openai.com/v1", "http://127.0.0.1:11434/v1", "http://[::1]:8000": http or
// https, no credentials, query or fragment. On failure returns nullopt and sets `error`.
std::optional<Url> parse_url(std::string_view text, std::string& error);
// The mark of a node, 1-based, in `file`; line 0 when the node has none (not from a document).
SourceMark mark_of_node(const YAML::Node& node, const std::string& file);

class NodeReader {
 public:
  // `node` must be a map (or null, read as an empty map); `key_path` is its dotted path.
  NodeReader(YAML::Node node, std::string key_path, std::string file);

  bool has(std::string_view key) const;
  SourceMark mark() const;                          // of this mapping
  SourceMark mark_of(std::string_view key) const;   // of that key's value (or the mapping)
  std::string path_of(std::string_view key) const;  // "providers.openai.timeouts.connect"
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  YAML::Node node() const { return node_; }

  std::optional<std::string> string(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  std::optional<double> number(std::string_view key, double min, double max);
  std::optional<Duration> duration(std::string_view key);
  std::optional<uint64_t> size(std::string_view key);
  // A list of strings; a single string is accepted as a one-element list when `allow_scalar`.
  std::optional<std::vector<std::string>> string_list(std::string_view key,
                                                      bool allow_scalar = false);
  // `key` must be one of `allowed`, else an error listing them.
  std::optional<std::string> one_of(std::string_view key, const std::vector<std::string>& allowed);
  // A nested mapping (absent → a reader over an empty map).
  NodeReader child(std::string_view key);
  // The raw node, marked as known (for lists of maps and free-form values); absent → a null node.
  YAML::Node raw(std::string_view key);

  [[noreturn]] void fail(std::string_view key, const std::string& message) const;
  [[noreturn]] void fail_here(const std::string& message) const;

  // Unknown keys → ConfigError with did-you-mean over the keys that were read.
  void finish() const;

 private:
  // For child(): a reader over an absent key reports errors at `fallback` (the parent).
  NodeReader(YAML::Node node, std::string key_path, std::string file, SourceMark fallback);
  std::optional<YAML::Node> find(std::string_view key) const;  // marks nothing
  void note(std::string_view key);  // records `key` as part of the schema
  // The scalar text of `key`, nullopt when absent or null; a list or map fails with `expected`.
  std::optional<std::string> scalar(std::string_view key, const char* expected);

  YAML::Node node_;
  std::string path_;
  std::string file_;
  mutable std::set<std::string, std::less<>> known_;
  SourceMark fallback_mark_;  // used when node_ carries no position of its own
};

}  // namespace sluice::config
