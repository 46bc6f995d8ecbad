// What memory.store and memory.query answer (JSON, so MCP clients get structuredContent):
//
//   memory.store  {"stored":true,"id":42,"scope":"channel:general","evicted":1}
//   memory.query  {"scope":"agent","results":[{"content":"...","score":0.87,"tags":["pets"],
//                  "stored_by":"alice","stored_at":"2026-12-06T14:03:07Z"}, ...]}   best first
#pragma once

#include <string>
#include <vector>

#include "memory/memory_store.h"
#include "memory/scope.h"

namespace memory {

std::string store_result_json(const Scope& scope, const StoreResult& result);
std::string query_result_json(const Scope& scope, const std::vector<FoundItem>& items);

}  // namespace memory
