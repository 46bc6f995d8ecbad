#include "memory/memory_config.h"

#include <simdjson.h>

namespace memory {
namespace {

using simdjson::dom::element;

bool read_count(element value, const char* key, uint64_t min, uint64_t max, uint32_t* out,
                std::string* error) {
  int64_t n = 0;
  if (value.get_int64().get(n) || n < static_cast<int64_t>(min) || n > static_cast<int64_t>(max)) {
    *error = std::string(key) + ": expected an integer from " + std::to_string(min) + " to " +
             std::to_string(max);
    return false;
  }
  *out = static_cast<uint32_t>(n);
  return true;
}

bool read_string(element value, const char* key, std::string* out, std::string* error) {
  std::string_view s;
  if (value.get_string().get(s) || s.empty()) {
    *error = std::string(key) + ": expected a non-empty string";
    return false;
  }
  out->assign(s);
  return true;
}

bool read_names(element value, const std::string& key, std::vector<std::string>* out,
                std::string* error) {
  simdjson::dom::array list;
  if (value.get_array().get(list)) {
    *error = key + ": expected a list of agent names (\"*\": every agent)";
    return false;
  }
  for (element item : list) {
    std::string_view name;
    if (item.get_string().get(name) || name.empty()) {
      *error = key + ": expected a list of agent names (\"*\": every agent)";
      return false;
    }
    out->emplace_back(name);
  }
  return true;
}

bool read_knowledge_bases(element value, KnowledgeBases* out, std::string* error) {
  simdjson::dom::object bases;
  if (value.get_object().get(bases)) {
    *error = "knowledge_bases: expected a map of name: {read: [...], write: [...]}";
    return false;
  }
  for (auto [name, entry] : bases) {
    const std::string key = "knowledge_bases." + std::string(name);
    if (name.empty() || name.size() > kMaxScopeName) {
      *error = "knowledge_bases: a name must be 1 to " + std::to_string(kMaxScopeName) + " bytes";
      return false;
    }
    simdjson::dom::object fields;
    if (entry.get_object().get(fields)) {
      *error = key + ": expected {read: [agents], write: [agents]}";
      return false;
    }
    KnowledgeBaseAccess access;
    for (auto [field, v] : fields) {
      if (field == "read") {
        if (!read_names(v, key + ".read", &access.read, error)) return false;
      } else if (field == "write") {
        if (!read_names(v, key + ".write", &access.write, error)) return false;
      } else {
        *error = key + "." + std::string(field) + ": unknown key (read, write)";
        return false;
      }
    }
    out->emplace(std::string(name), std::move(access));
  }
  return true;
}

}  // namespace

bool parse_memory_config(std::string_view json, MemoryConfig* out, std::string* error) {
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) {
    *error = "the config is not valid JSON";
    return false;
  }
  if (doc.is_null()) return true;
  simdjson::dom::object fields;
  if (doc.get_object().get(fields)) {
    *error = "expected a map of settings (db, embedding_model, knowledge_bases, ...)";
    return false;
  }
  constexpr uint64_t kMaxItems = 10'000'000;
  for (auto [key, value] : fields) {
    bool ok = true;
    if (key == "db") {
      ok = read_string(value, "db", &out->db, error);
    } else if (key == "embedding_model") {
      ok = read_string(value, "embedding_model", &out->embedding_model, error);
    } else if (key == "channel_items") {
      ok = read_count(value, "channel_items", 1, kMaxItems, &out->channel_items, error);
    } else if (key == "agent_items") {
      ok = read_count(value, "agent_items", 1, kMaxItems, &out->agent_items, error);
    } else if (key == "kb_items") {
      ok = read_count(value, "kb_items", 1, kMaxItems, &out->kb_items, error);
    } else if (key == "max_content_bytes") {
      ok = read_count(value, "max_content_bytes", 1, 1 << 20, &out->max_content_bytes, error);
    } else if (key == "queue") {
      ok = read_count(value, "queue", 1, 65536, &out->queue, error);
    } else if (key == "busy_timeout_ms") {
      ok = read_count(value, "busy_timeout_ms", 0, 600'000, &out->busy_timeout_ms, error);
    } else if (key == "knowledge_bases") {
      ok = read_knowledge_bases(value, &out->knowledge_bases, error);
    } else {
      *error = std::string(key) +
               ": unknown key (db, embedding_model, channel_items, agent_items, kb_items, "
               "max_content_bytes, queue, busy_timeout_ms, knowledge_bases)";
      ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

std::string resolve_db_path(const std::string& db, std::string_view config_dir) {
  if (db.empty() || db.front() == '/' || config_dir.empty() || db == ":memory:") return db;
  std::string path(config_dir);
  if (path.back() != '/') path.push_back('/');
  return path + db;
}

}  // namespace memory
