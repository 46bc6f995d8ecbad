// simdjson's DOM parser refuses some valid JSON it cannot represent: numbers outside double or
// 64-bit integer range (1e400, 2^70) and lone surrogate escapes ("\ud800", grammatical per
// RFC 8259 §8.2). To validate such a document exactly, sluice parses a copy in which each of
// those is replaced by a stand-in of the same length that it can represent:
//   a number token that follows the JSON grammar  →  "0" and spaces
//   a \uD800–\uDFFF escape                        →  "\u0041"
// Nothing else changes, so the copy is valid JSON exactly when the original is: a malformed
// number ("01", "1.", "-") or escape ("\q", "\u12") is left as it is, for the parser to refuse.
// Internal to core/json.
#pragma once

#include <string_view>

#include <simdjson.h>

namespace sluice::json::detail {

simdjson::padded_string with_dom_stand_ins(std::string_view body);

}  // namespace sluice::json::detail
