#include "core/http/response_builder.h"
#include "core/json/request_fields.h"

namespace sluice::json {

// The project's one JSON escaper lives in core/http (json_escape.cc); this adds the quotes.
void append_json_string(std::string& out, std::string_view value) {
  out.push_back('"');
  http::append_json_escaped(out, value);
  out.push_back('"');
}

}  // namespace sluice::json
