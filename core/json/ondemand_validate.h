// Full validation on top of simdjson on-demand. On-demand checks only what it is asked to
// read: a value it skips is merely bracket-counted, so `[1,,2]`, `tru` or `1x` pass unnoticed.
// These helpers consume a value completely and check every token, which makes the parse of a
// request body a real validation in one pass (stage 1 already checks UTF-8, string quoting and
// control characters for the whole document).
// Internal to core/json: the only file that includes simdjson.h besides its users here.
#pragma once

#include <simdjson.h>

#include <string_view>

namespace sluice::json::detail {

// The raw token with the whitespace simdjson's raw_json_token() keeps after it removed.
std::string_view trim_token(std::string_view raw);

// Exactly the JSON number grammar (RFC 8259 §6): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view token);

// Consumes `value` (depth = its nesting level, 1 for a top-level field's value) and returns
// true if it is well-formed JSON no deeper than kMaxDepth.
bool consume_valid(simdjson::ondemand::value& value, int depth);

}  // namespace sluice::json::detail
