// MemoryStore: the memory's SQLite file — items with their embedding, per scope — and the two
// things done with it: store (then evict beyond the scope's bound, oldest first) and query
// (cosine ranking of the scope's items). Blocking I/O: used only on the plugin's database thread
// (db_thread.h), never on a sluice worker. Not thread-safe; one connection.
//
// The file is opened in WAL mode with a busy timeout, because two copies of the plugin may use
// it at once: after a reload that changed the plugin's config, the old copy finishes its calls
// while the new one starts.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memory/scope.h"

namespace memory {

struct FoundItem {
  int64_t id = 0;
  std::string content;
  std::string tags_json;     // a JSON array of strings
  std::string stored_by;     // the agent that stored it
  int64_t stored_at_ms = 0;  // Unix time
  double score = 0;          // cosine similarity to the query
};

struct StoreResult {
  int64_t id = 0;
  int64_t evicted = 0;  // older items of the scope removed to keep its bound
};

class MemoryStore {
 public:
  // Opens (creating) the file and its table. nullptr with *error when it cannot.
  static std::unique_ptr<MemoryStore> open(const std::string& path, uint32_t busy_timeout_ms,
                                           std::string* error);
  ~MemoryStore();
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // Adds an item to `scope`, then keeps only its newest `keep` items. One transaction.
  bool store(const Scope& scope, std::string_view content, std::string_view tags_json,
             std::span<const float> vector, std::string_view stored_by, int64_t now_ms,
             uint32_t keep, StoreResult* out, std::string* error);
  // The `limit` items of `scope` most similar to `vector`, best first.
  bool query(const Scope& scope, std::span<const float> vector, size_t limit,
             std::vector<FoundItem>* out, std::string* error);

 private:
  explicit MemoryStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql, std::string* error);
  std::string last_error() const;

  sqlite3* db_;
};

}  // namespace memory
