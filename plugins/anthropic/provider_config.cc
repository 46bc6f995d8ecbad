#include "anthropic/provider_config.h"

#include "anthropic/json_reader.h"

namespace anthropic {

namespace {

// A header value must not let a config smuggle in another header line.
bool valid_header_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

Outcome read_header_string(element value, std::string_view key, std::string& out) {
  std::string_view text;
  if (value.get(text) != simdjson::SUCCESS || text.empty()) {
    return Outcome::error("config." + std::string(key) + ": must be a non-empty string");
  }
  if (!valid_header_value(text)) {
    return Outcome::error("config." + std::string(key) + ": must not contain CR, LF or NUL");
  }
  out.assign(text);
  return Outcome::ok();
}

// beta: "a" or ["a", "b"] → "a" / "a,b" (Anthropic reads a comma-separated list).
Outcome read_beta(element value, std::string& out) {
  array list;
  if (value.get(list) != simdjson::SUCCESS) return read_header_string(value, "beta", out);
  out.clear();
  for (element item : list) {
    std::string one;
    if (auto r = read_header_string(item, "beta", one); !r.is_ok()) {
      return Outcome::error("config.beta: must be a string or a list of non-empty strings");
    }
    if (!out.empty()) out.push_back(',');
    out.append(one);
  }
  return Outcome::ok();
}

Outcome read_config(object config, ProviderConfig& out) {
  for (const auto field : config) {
    const std::string_view key = field.key;
    if (key == "version") {
      if (auto r = read_header_string(field.value, key, out.version); !r.is_ok()) return r;
    } else if (key == "beta") {
      if (auto r = read_beta(field.value, out.beta); !r.is_ok()) return r;
    } else if (key == "max_tokens") {
      uint64_t n = 0;
      if (field.value.get(n) != simdjson::SUCCESS || n == 0 || n > UINT32_MAX) {
        return Outcome::error("config.max_tokens: must be a positive integer");
      }
      out.default_max_tokens = n;
    } else {
      return Outcome::error("config." + std::string(key) +
                            ": unknown key (the anthropic provider knows version, max_tokens, "
                            "beta)");
    }
  }
  return Outcome::ok();
}

}  // namespace

Outcome parse_provider_config(std::string_view provider_json, ProviderConfig& out) {
  simdjson::dom::parser parser;
  object entry;
  if (!parse_object(parser, provider_json, entry)) {
    return Outcome::error("the provider entry is not a JSON object");
  }
  out = ProviderConfig{};
  if (const auto key = string_member(entry, "api_key")) {
    if (!valid_header_value(*key)) return Outcome::error("api_key: must not contain CR, LF or NUL");
    out.api_key.assign(*key);
  }
  const auto config = member(entry, "config");
  if (!config) return Outcome::ok();  // absent or null: every default
  object fields;
  if (config->get(fields) != simdjson::SUCCESS) {
    return Outcome::error("config: must be a mapping of version, max_tokens, beta");
  }
  return read_config(fields, out);
}

}  // namespace anthropic
