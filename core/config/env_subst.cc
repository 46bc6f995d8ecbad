// ${VAR} / ${VAR:-default} substitution. It runs over the whole parsed document before any
// value is read, so every scalar value (in any section, filter configs included) gets it, and
// an unset variable is reported with the key path of the value that needed it.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <unordered_set>

#include "core/config/load_steps.h"
#include "core/config/loader.h"

namespace sluice::config {
namespace {

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::optional<std::string> substitute_env(std::string_view text, const EnvLookup& env,
                                          std::string& error) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, dollar - i));
    if (text.substr(dollar, 3) == "$${") {  // escaped: a literal "${"
      out += "${";
      i = dollar + 3;
      continue;
    }
    if (text.substr(dollar, 2) != "${") {  // a lone '$' is just a character
      out += '$';
      i = dollar + 1;
      continue;
    }
    const size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      error =
          "\"${\" is never closed by \"}\" (write ${NAME} or ${NAME:-default}; $${ is a literal "
          "${)";
      return std::nullopt;
    }
    std::string_view inside = text.substr(dollar + 2, close - dollar - 2);
    const size_t marker = inside.find(":-");
    std::string_view name = inside.substr(0, marker);
    const bool valid = !name.empty() && is_name_start(name.front()) &&
                       std::all_of(name.begin(), name.end(), is_name_char);
    if (!valid) {
      error = "\"${" + std::string(inside) +
              "}\" is not a variable reference (names are letters, digits and _; "
              "write ${NAME} or ${NAME:-default})";
      return std::nullopt;
    }
    auto value = env(std::string(name));
    if (marker != std::string_view::npos) {
      if (!value || value->empty()) value = std::string(inside.substr(marker + 2));
    } else if (!value) {
      error = "environment variable " + std::string(name) + " is not set (set it, or write ${" +
              std::string(name) + ":-default} to give a default)";
      return std::nullopt;
    }
    out += *value;
    i = close + 1;
  }
  return out;
}

namespace load {
namespace {

class DocumentSubstitution {
 public:
  DocumentSubstitution(const EnvLookup& env, const std::string& file) : env_(env), file_(file) {}

  void walk(YAML::Node node, const std::string& path) {
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
        walk(it->second, path.empty() ? key : path + "." + key);
      }
    } else if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) walk(node[i], path + "[" + std::to_string(i) + "]");
    } else if (node.IsScalar()) {
      substitute(node, path);
    }
  }

 private:
  void substitute(YAML::Node node, const std::string& path) {
    // An alias (*name) shares its node with the anchor: substitute it once, or a value that
    // itself contains "${" would be expanded twice.
    if (!done_.insert(node.Mark().pos).second) return;
    const std::string& text = node.Scalar();
    if (text.find('$') == std::string::npos) return;
    std::string error;
    auto value = substitute_env(text, env_, error);
    if (!value) throw ConfigError(mark_of_node(node, file_), path, error);
    if (*value != text) node = *value;  // keeps the node's position for later errors
  }

  const EnvLookup& env_;
  const std::string& file_;
  std::unordered_set<int> done_;  // positions of scalars already substituted
};

}  // namespace

void substitute_env_in_document(YAML::Node root, const EnvLookup& env, const std::string& file) {
  DocumentSubstitution(env, file).walk(root, "");
}

}  // namespace load
}  // namespace sluice::config
