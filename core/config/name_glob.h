// Shell-style globs over names, for allow-lists (`agents.*.tools: ["memory.*"]`): '*' is any
// run of characters (dots included), '?' exactly one; everything else matches itself.
#pragma once

#include <string_view>

namespace sluice::config {

bool glob_match(std::string_view pattern, std::string_view name);
bool is_glob(std::string_view pattern);  // has '*' or '?'

}  // namespace sluice::config
