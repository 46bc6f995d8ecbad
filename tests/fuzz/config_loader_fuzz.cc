// Fuzz target: the config loader (core/config) on arbitrary YAML text, ${VAR} substitution
// included.
//
// Besides "no crash, no sanitizer report", it checks the loader's contract (loader.h): a load
// either gives a Config or throws ConfigError with a message — no other exception escapes
// load_config_text, whatever yaml-cpp or a conversion throws inside. substitute_env alone
// either gives a string or an error sentence, and leaves text without "$" untouched.
//
// The environment is a fixed table (EnvLookup is injectable), so a run never depends on the
// machine's environment; its values include YAML and "${" syntax, which must stay literal.
//
// Built with clang and -DSLUICE_FUZZ=ON it is a libFuzzer binary; otherwise
// (SLUICE_FUZZ_STANDALONE) a plain program that replays the files named on its command line.
//   clang run:
//     build-fuzz/tests/fuzz/fuzz_config_loader -max_len=4096
//       -dict=tests/fuzz/config_loader.dict tests/fuzz/corpus/config_loader
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/loader.h"
#include "core/config/node_reader.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sluice::config::ConfigError;

std::optional<std::string> fixed_env(const std::string& name) {
  static const std::pair<const char*, const char*> kEnv[] = {
      {"HOST", "127.0.0.1"},
      {"PORT", "8080"},
      {"OPENAI_API_KEY", "sk-test-0123456789"},
      {"ANTHROPIC_API_KEY", "sk-ant-test"},
      {"EMPTY", ""},
      {"NESTED", "${HOST}"},
      {"YAMLISH", "{a: [1, 2]}: &x *y"},
      {"SECONDS", "30s"},
  };
  for (const auto& [n, v] : kEnv) {
    if (name == n) return std::string(v);
  }
  return std::nullopt;
}

void check_substitution(std::string_view text) {
  std::string error;
  const auto out = sluice::config::substitute_env(text, fixed_env, error);
  if (!out) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  if (text.find('$') == std::string_view::npos) FUZZ_CHECK(*out == text);
  // Substituted values are never substituted again.
  if (text == "${NESTED}") FUZZ_CHECK(*out == "${HOST}");
}

void check_load(const std::string& text) {
  try {
    auto config = sluice::config::load_config_text(text, "fuzz.yaml", fixed_env);
    FUZZ_CHECK(config != nullptr);
  } catch (const ConfigError& e) {
    FUZZ_CHECK(e.what() != nullptr && e.what()[0] != '\0');
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load_config_text threw something other than ConfigError: %s\n", e.what());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check_substitution(text);
  check_load(text);
  return 0;
}
