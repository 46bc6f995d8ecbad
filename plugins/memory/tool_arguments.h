// The arguments of memory.store and memory.query (DESIGN §5), read from the call's JSON. sluice
// has checked them against the tools' input_schema already; these checks are the plugin's own
// (sizes, and what a schema cannot say), each with an error naming the argument. Pure logic.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace memory {

// memory.store {content: string, scope?: string, tags?: [string]}
struct StoreArguments {
  std::string content;
  std::string scope;  // "" → "agent"
  std::vector<std::string> tags;
};

// memory.query {query: string, limit?: integer (default 5), scope?: string}
struct QueryArguments {
  std::string query;
  size_t limit = 5;
  std::string scope;
};

inline constexpr size_t kMaxTags = 16;
inline constexpr size_t kMaxTagBytes = 64;
inline constexpr size_t kMaxQueryBytes = 4096;
inline constexpr size_t kMaxLimit = 50;

bool parse_store_arguments(std::string_view json, size_t max_content_bytes, StoreArguments* out,
                           std::string* error);
bool parse_query_arguments(std::string_view json, QueryArguments* out, std::string* error);

// The tags as a JSON array, for storing.
std::string tags_json(const std::vector<std::string>& tags);

// The input_schema each tool registers (JSON Schema objects).
extern const char* const kStoreInputSchema;
extern const char* const kQueryInputSchema;

}  // namespace memory
