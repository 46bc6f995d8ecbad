// JSON values as enum/const compare them and as schema messages show them. Internal to
// core/tools (input_schema_compile.cc and input_schema_check.cc).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::tools::detail {

// An element known to be an object / array, as one. (Not `for (x : e.get_object().value_unsafe())`:
// that iterates a reference into a temporary that is gone by the loop's first step.)
inline simdjson::dom::object as_object(simdjson::dom::element e) {
  return e.get_object().value_unsafe();
}
inline simdjson::dom::array as_array(simdjson::dom::element e) {
  return e.get_array().value_unsafe();
}

// Appends `value` as canonical JSON: no whitespace, object members sorted by key, strings
// escaped one way, numbers written so that equal numbers are equal text (5, 5.0 and 5e0 are all
// "5"). Two values are equal as JSON Schema's enum and const mean it exactly when their
// canonical texts are equal. Recurses once per nesting level: callers bound the depth (the
// parser's max_depth).
void append_canonical(simdjson::dom::element value, std::string& out);

// How a message shows a value it got: `string "5"`, `number 5.5`, `boolean true`, `null`,
// `object`, `array`. A long string is cut (with "…") after kShownCodePoints code points.
inline constexpr size_t kShownCodePoints = 40;
std::string describe(simdjson::dom::element value);

// A number as messages show it: the shortest text that reads back as the same double
// (100, 0.5, 1e+300).
std::string number_text(double value);

// The number of Unicode code points in valid UTF-8 (what minLength/maxLength count).
uint64_t code_points(std::string_view utf8);

// The first `max` code points of valid UTF-8; *was_cut says whether anything was left out.
std::string_view cut(std::string_view utf8, size_t max, bool* was_cut);

}  // namespace sluice::tools::detail
