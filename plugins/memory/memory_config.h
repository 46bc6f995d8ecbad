// The memory plugin's settings: `plugins: {memory: {config: {...}}}` (README.md), checked when
// the config loads, with errors that name the key. Absent (no plugins: entry, or no config:),
// every setting has its default. Pure logic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "memory/scope.h"

namespace memory {

struct MemoryConfig {
  // The SQLite file; a relative path is relative to the config file's directory.
  std::string db = "memory.db";
  // The logical model (models:) that embeds texts, through sluice's POST /v1/embeddings.
  std::string embedding_model = "embed";
  uint32_t channel_items = 20;         // short-term: items kept per (agent, channel)
  uint32_t agent_items = 1000;         // mid-term: items kept per agent
  uint32_t kb_items = 10000;           // long-term: items kept per knowledge base
  uint32_t max_content_bytes = 16384;  // one stored text
  uint32_t queue = 256;                // calls waiting for the database thread, at most
  uint32_t busy_timeout_ms = 5000;     // how long SQLite waits for another writer of the file
  KnowledgeBases knowledge_bases;
};

// Reads `json` ("null" or an object) into *out. false with *error naming the key when a key is
// unknown or a value is of the wrong type or out of range.
bool parse_memory_config(std::string_view json, MemoryConfig* out, std::string* error);

// `db` made absolute against `config_dir` (unchanged when already absolute or dir is empty).
std::string resolve_db_path(const std::string& db, std::string_view config_dir);

}  // namespace memory
