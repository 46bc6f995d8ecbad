#include "memory/tool_arguments.h"

#include <simdjson.h>

#include "memory/json_text.h"

namespace memory {

const char* const kStoreInputSchema =
    R"({"type":"object","properties":{)"
    R"("content":{"type":"string","description":"The text to remember."},)"
    R"("scope":{"type":"string","description":"Where to keep it: \"agent\" (your own memory, )"
    R"(the default), \"channel:<id>\" (a channel's recent context: only the last items are )"
    R"(kept) or \"kb:<name>\" (a shared knowledge base you may write)."},)"
    R"("tags":{"type":"array","items":{"type":"string"},"description":"Labels kept with it."}},)"
    R"("required":["content"]})";

const char* const kQueryInputSchema =
    R"({"type":"object","properties":{)"
    R"("query":{"type":"string","description":"What to look for, in words."},)"
    R"("limit":{"type":"integer","minimum":1,"maximum":50,"description":"At most this many )"
    R"(results (default 5)."},)"
    R"("scope":{"type":"string","description":"Where to look: \"agent\" (default), )"
    R"(\"channel:<id>\" or \"kb:<name>\"."}},)"
    R"("required":["query"]})";

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

bool as_object(simdjson::dom::parser& parser, std::string_view json, object* out,
               std::string* error) {
  element doc;
  if (parser.parse(json.data(), json.size()).get(doc) || doc.get_object().get(*out)) {
    *error = "the arguments must be a JSON object";
    return false;
  }
  return true;
}

bool read_scope(element value, std::string* out, std::string* error) {
  std::string_view s;
  if (value.get_string().get(s)) {
    *error = "scope: expected a string: \"agent\", \"channel:<id>\" or \"kb:<name>\"";
    return false;
  }
  out->assign(s);
  return true;
}

}  // namespace

bool parse_store_arguments(std::string_view json, size_t max_content_bytes, StoreArguments* out,
                           std::string* error) {
  simdjson::dom::parser parser;
  object fields;
  if (!as_object(parser, json, &fields, error)) return false;
  bool has_content = false;
  for (auto [key, value] : fields) {
    if (key == "content") {
      std::string_view s;
      if (value.get_string().get(s)) {
        *error = "content: expected a string";
        return false;
      }
      out->content.assign(s);
      has_content = true;
    } else if (key == "scope") {
      if (!read_scope(value, &out->scope, error)) return false;
    } else if (key == "tags") {
      simdjson::dom::array tags;
      if (value.get_array().get(tags)) {
        *error = "tags: expected a list of strings";
        return false;
      }
      for (element tag : tags) {
        std::string_view t;
        if (tag.get_string().get(t) || t.empty() || t.size() > kMaxTagBytes) {
          *error = "tags: each tag is a string of 1 to " + std::to_string(kMaxTagBytes) + " bytes";
          return false;
        }
        if (out->tags.size() == kMaxTags) {
          *error = "tags: at most " + std::to_string(kMaxTags);
          return false;
        }
        out->tags.emplace_back(t);
      }
    } else {
      *error = std::string(key) + ": unknown argument (content, scope, tags)";
      return false;
    }
  }
  if (!has_content || out->content.empty()) {
    *error = "content: required, a non-empty string";
    return false;
  }
  if (out->content.size() > max_content_bytes) {
    *error = "content: " + std::to_string(out->content.size()) + " bytes, more than the " +
             std::to_string(max_content_bytes) + " this memory keeps per item";
    return false;
  }
  return true;
}

bool parse_query_arguments(std::string_view json, QueryArguments* out, std::string* error) {
  simdjson::dom::parser parser;
  object fields;
  if (!as_object(parser, json, &fields, error)) return false;
  bool has_query = false;
  for (auto [key, value] : fields) {
    if (key == "query") {
      std::string_view s;
      if (value.get_string().get(s)) {
        *error = "query: expected a string";
        return false;
      }
      out->query.assign(s);
      has_query = true;
    } else if (key == "limit") {
      int64_t n = 0;
      if (value.get_int64().get(n) || n < 1 || n > static_cast<int64_t>(kMaxLimit)) {
        *error = "limit: expected an integer from 1 to " + std::to_string(kMaxLimit);
        return false;
      }
      out->limit = static_cast<size_t>(n);
    } else if (key == "scope") {
      if (!read_scope(value, &out->scope, error)) return false;
    } else {
      *error = std::string(key) + ": unknown argument (query, limit, scope)";
      return false;
    }
  }
  if (!has_query || out->query.empty()) {
    *error = "query: required, a non-empty string";
    return false;
  }
  if (out->query.size() > kMaxQueryBytes) {
    *error = "query: at most " + std::to_string(kMaxQueryBytes) + " bytes";
    return false;
  }
  return true;
}

std::string tags_json(const std::vector<std::string>& tags) {
  std::string out = "[";
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_json_string(out, tags[i]);
  }
  out.push_back(']');
  return out;
}

}  // namespace memory
