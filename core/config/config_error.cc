// ConfigError's text is the one line a user sees for a bad config:
//   <file>:<line>:<col>: <key.path>: <message>
// Parts that are unknown are left out rather than printed as 0 or "".
#include <string>

#include "core/config/node_reader.h"

namespace sluice::config {
namespace {

std::string format_error(const SourceMark& mark, const std::string& key_path,
                         const std::string& message) {
  std::string text = mark.file.empty() ? "<config>" : mark.file;
  if (mark.line > 0) {
    text += ':' + std::to_string(mark.line) + ':' + std::to_string(mark.column);
  }
  text += ": ";
  if (!key_path.empty()) text += key_path + ": ";
  text += message;
  return text;
}

}  // namespace

ConfigError::ConfigError(const SourceMark& mark, const std::string& key_path,
                         const std::string& message)
    : std::runtime_error(format_error(mark, key_path, message)), mark_(mark), key_path_(key_path) {}

SourceMark mark_of_node(const YAML::Node& node, const std::string& file) {
  SourceMark mark{file, 0, 0};
  if (!node.IsDefined()) return mark;  // also false for a node that was never in a document
  const YAML::Mark m = node.Mark();
  if (m.is_null() || m.line < 0) return mark;
  mark.line = m.line + 1;  // yaml-cpp counts from 0; editors from 1
  mark.column = m.column + 1;
  return mark;
}

}  // namespace sluice::config
