// A quick reader for the usage object as providers write it — a flat object of small
// non-negative integers, with at most one level of nested *_details objects — so that the
// usage of a plain JSON answer does not need a full DOM parse (parse_usage_object's simdjson
// DOM costs about 20 instructions a byte on a 60-byte object).
//
// It only answers when it is sure to read what the DOM would read: keys and string values of
// plain printable ASCII without escapes, integers of at most 15 digits without sign, fraction
// or exponent, null/true/false, objects nested at most one level, nothing but whitespace after
// the closing brace. Anything else (escapes, arrays, negatives, floats, deeper nesting,
// malformed bytes) is Unsure and goes to the DOM, which decides — so the result, for any input,
// is the DOM's.
// Internal to core/usage.
#pragma once

#include <cstddef>

#include "core/usage/reported_usage.h"

namespace sluice::usage::detail {

enum class FlatRead : unsigned char {
  Read,    // *read holds what the object reports (the counts the DOM reading would keep)
  Unsure,  // not of the simple shape: *read is to be ignored; parse with the DOM
};

FlatRead read_flat_usage_object(const char* data, size_t len, ReportedUsage* read);

}  // namespace sluice::usage::detail
