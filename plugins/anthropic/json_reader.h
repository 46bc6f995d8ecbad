// Small helpers over simdjson's DOM for reading request and response documents: the lookups
// every translator does (an optional member of a given type, a field path for messages), in
// simdjson's error-code style — nothing here throws.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anthropic {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Parses `text` as a JSON object into `out` (valid until the parser's next parse). False for
// empty text, invalid JSON, or a document that is not an object.
bool parse_object(simdjson::dom::parser& parser, std::string_view text, object& out);

// `name` of `obj`, or nullopt when absent. A member whose value is null counts as absent:
// both APIs document null as "not given" for every optional field.
std::optional<element> member(object obj, std::string_view name);

// String member; nullopt when absent, null or not a string.
std::optional<std::string_view> string_member(object obj, std::string_view name);
// The same, or "" when absent, null or not a string.
std::string_view string_or_empty(object obj, std::string_view name);
// Object member; nullopt when absent, null or not an object.
std::optional<object> object_member(object obj, std::string_view name);
// Unsigned integer member; nullopt when absent, null or not a non-negative integer.
std::optional<uint64_t> count_member(object obj, std::string_view name);

// A value's minified JSON text (as simdjson re-encodes it).
std::string minified(element value);
std::string minified(object value);

// `text` in double quotes for a message, cut to 64 bytes ("..." after it when cut): the text
// comes from the client or the provider and only has to identify the value.
std::string quote(std::string_view text);

// How a value is named in messages: `"input_audio"` for a string, else its JSON type.
std::string describe(element value);

// "messages[3]" and friends, for field paths in messages.
std::string indexed(std::string_view path, size_t index);

}  // namespace anthropic
