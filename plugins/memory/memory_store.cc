#include "memory/memory_store.h"

#include <cstring>

#include "memory/ranking.h"

namespace memory {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS memory_items ("
    "  id INTEGER PRIMARY KEY,"
    "  scope_kind TEXT NOT NULL,"   // agent | channel | kb
    "  scope_owner TEXT NOT NULL,"  // the agent for agent and channel scopes, '' for kb
    "  scope_name TEXT NOT NULL,"   // the channel id or kb name, '' for agent
    "  content TEXT NOT NULL,"
    "  tags TEXT NOT NULL,"       // JSON array of strings
    "  embedding BLOB NOT NULL,"  // float32, native byte order
    "  stored_by TEXT NOT NULL,"
    "  stored_at INTEGER NOT NULL"  // Unix ms
    ");"
    "CREATE INDEX IF NOT EXISTS memory_items_by_scope"
    "  ON memory_items (scope_kind, scope_owner, scope_name, id);";

// A prepared statement, finalized when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  explicit operator bool() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }

  void text(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void integer(int i, int64_t n) { sqlite3_bind_int64(stmt_, i, n); }
  void blob(int i, const void* data, size_t n) {
    sqlite3_bind_blob(stmt_, i, data, static_cast<int>(n), SQLITE_TRANSIENT);
  }
  // Binds (kind, owner, name) at 1, 2, 3.
  void scope(const Scope& s) {
    text(1, s.kind_name());
    text(2, s.owner);
    text(3, s.name);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

std::string column_text(sqlite3_stmt* stmt, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return p != nullptr ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, i)))
                      : std::string();
}

}  // namespace

std::unique_ptr<MemoryStore> MemoryStore::open(const std::string& path, uint32_t busy_timeout_ms,
                                               std::string* error) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    *error = "cannot open " + path + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<MemoryStore> store(new MemoryStore(db));
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout_ms));
  std::string why;
  if (!store->exec("PRAGMA journal_mode=WAL;", &why) ||
      !store->exec("PRAGMA synchronous=NORMAL;", &why) || !store->exec(kSchema, &why)) {
    *error = "cannot use " + path + " as the memory database: " + why;
    return nullptr;
  }
  return store;
}

MemoryStore::~MemoryStore() {
  sqlite3_close(db_);
}

bool MemoryStore::exec(const char* sql, std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    *error = message != nullptr ? message : last_error();
    sqlite3_free(message);
    return false;
  }
  return true;
}

std::string MemoryStore::last_error() const {
  return sqlite3_errmsg(db_);
}

bool MemoryStore::store(const Scope& scope, std::string_view content, std::string_view tags_json,
                        std::span<const float> vector, std::string_view stored_by, int64_t now_ms,
                        uint32_t keep, StoreResult* out, std::string* error) {
  if (!exec("BEGIN IMMEDIATE;", error)) return false;
  auto fail = [&](std::string why) {
    *error = std::move(why);
    std::string ignored;
    exec("ROLLBACK;", &ignored);
    return false;
  };
  {
    Statement insert(db_,
                     "INSERT INTO memory_items (scope_kind, scope_owner, scope_name, content, "
                     "tags, embedding, stored_by, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return fail(last_error());
    insert.scope(scope);
    insert.text(4, content);
    insert.text(5, tags_json);
    insert.blob(6, vector.data(), vector.size_bytes());
    insert.text(7, stored_by);
    insert.integer(8, now_ms);
    if (sqlite3_step(insert.get()) != SQLITE_DONE) return fail(last_error());
    out->id = sqlite3_last_insert_rowid(db_);
  }
  {
    // Everything of the scope but its newest `keep` items.
    Statement evict(db_,
                    "DELETE FROM memory_items WHERE scope_kind = ?1 AND scope_owner = ?2 AND "
                    "scope_name = ?3 AND id <= (SELECT id FROM memory_items WHERE scope_kind = ?1 "
                    "AND scope_owner = ?2 AND scope_name = ?3 ORDER BY id DESC LIMIT 1 OFFSET ?4)");
    if (!evict) return fail(last_error());
    evict.scope(scope);
    evict.integer(4, keep);
    if (sqlite3_step(evict.get()) != SQLITE_DONE) return fail(last_error());
    out->evicted = sqlite3_changes(db_);
  }
  if (!exec("COMMIT;", error)) return fail(*error);
  return true;
}

bool MemoryStore::query(const Scope& scope, std::span<const float> vector, size_t limit,
                        std::vector<FoundItem>* out, std::string* error) {
  Statement select(db_,
                   "SELECT id, embedding FROM memory_items WHERE scope_kind = ? AND "
                   "scope_owner = ? AND scope_name = ?");
  if (!select) {
    *error = last_error();
    return false;
  }
  select.scope(scope);
  std::vector<Candidate> candidates;
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    Candidate c;
    c.id = sqlite3_column_int64(select.get(), 0);
    const void* blob = sqlite3_column_blob(select.get(), 1);
    const size_t bytes = static_cast<size_t>(sqlite3_column_bytes(select.get(), 1));
    c.vector.resize(bytes / sizeof(float));
    if (blob != nullptr && !c.vector.empty())
      std::memcpy(c.vector.data(), blob, c.vector.size() * sizeof(float));
    candidates.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) {
    *error = last_error();
    return false;
  }
  // Only the winners' texts are read.
  Statement fetch(db_, "SELECT content, tags, stored_by, stored_at FROM memory_items WHERE id = ?");
  if (!fetch) {
    *error = last_error();
    return false;
  }
  for (const Ranked& r : rank(vector, candidates, limit)) {
    sqlite3_reset(fetch.get());
    fetch.integer(1, candidates[r.index].id);
    if (sqlite3_step(fetch.get()) != SQLITE_ROW) continue;  // evicted meanwhile by another copy
    FoundItem item;
    item.id = candidates[r.index].id;
    item.content = column_text(fetch.get(), 0);
    item.tags_json = column_text(fetch.get(), 1);
    item.stored_by = column_text(fetch.get(), 2);
    item.stored_at_ms = sqlite3_column_int64(fetch.get(), 3);
    item.score = r.score;
    out->push_back(std::move(item));
  }
  return true;
}

}  // namespace memory
