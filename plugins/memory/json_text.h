// The little JSON the memory plugin writes: string literals, and the vectors and results it
// builds by hand. (Reading is simdjson's.)
#pragma once

#include <string>
#include <string_view>

namespace memory {

// `text` as a JSON string literal, quotes included, appended to `out`. Control characters, '"'
// and '\' are escaped; other bytes are copied (the texts come from simdjson, which validated
// their UTF-8).
void append_json_string(std::string& out, std::string_view text);

// A double as JSON (no NaN or infinity: those become 0), at most 6 significant digits.
void append_json_number(std::string& out, double value);

}  // namespace memory
