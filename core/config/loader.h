// Loads conf/sluice.yaml into an immutable Config (DESIGN §4): ${VAR} / ${VAR:-default}
// substitution, units, defaults, cross-references (models → providers, fallbacks → models,
// agents.models → models) and relative paths. Filter configs are validated by building the
// filter chain (see FilterRegistry), which the caller does right after.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.h"
#include "core/config/node_reader.h"

namespace sluice::config {

// Reads the environment; injectable so tests do not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// Throws ConfigError (with file:line:column and key path) on any problem.
std::shared_ptr<const Config> load_config_file(const std::string& path,
                                               const EnvLookup& env = process_env());
// Same, from text; `path` is used for messages and relative paths.
std::shared_ptr<const Config> load_config_text(const std::string& text, const std::string& path,
                                               const EnvLookup& env = process_env());

// "sha256:<hex>" of a key, as `sluice hash-key` prints it.
std::string hash_key(std::string_view key);
KeyDigest digest_of(std::string_view key);
// "sha256:<64 hex digits>" (either case) → the digest; nullopt for anything else.
std::optional<KeyDigest> parse_key_digest(std::string_view text);

// Replaces ${VAR} and ${VAR:-default} in one string ("http://${HOST}:8080"). `:-` uses the
// default when VAR is unset or empty, as in the shell; "$${" is a literal "${". On failure
// (VAR unset without a default, "${" never closed, a bad name) returns nullopt and sets `error`.
std::optional<std::string> substitute_env(std::string_view text, const EnvLookup& env,
                                          std::string& error);

}  // namespace sluice::config
