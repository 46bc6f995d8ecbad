#include "memory/results.h"

#include <ctime>

#include "memory/json_text.h"

namespace memory {
namespace {

std::string utc_text(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string store_result_json(const Scope& scope, const StoreResult& result) {
  std::string out = "{\"stored\":true,\"id\":" + std::to_string(result.id) + ",\"scope\":";
  append_json_string(out, scope.label());
  out.append(",\"evicted\":").append(std::to_string(result.evicted)).push_back('}');
  return out;
}

std::string query_result_json(const Scope& scope, const std::vector<FoundItem>& items) {
  std::string out = "{\"scope\":";
  append_json_string(out, scope.label());
  out.append(",\"results\":[");
  for (size_t i = 0; i < items.size(); ++i) {
    const FoundItem& item = items[i];
    if (i > 0) out.push_back(',');
    out.append("{\"content\":");
    append_json_string(out, item.content);
    out.append(",\"score\":");
    append_json_number(out, item.score);
    out.append(",\"tags\":").append(item.tags_json.empty() ? "[]" : item.tags_json);
    out.append(",\"stored_by\":");
    append_json_string(out, item.stored_by);
    out.append(",\"stored_at\":");
    append_json_string(out, utc_text(item.stored_at_ms));
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

}  // namespace memory
