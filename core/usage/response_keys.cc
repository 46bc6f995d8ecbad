#include "core/usage/response_keys.h"

namespace sluice::usage::detail {

ResponseKey classify_key(std::string_view k) {
  switch (k.size()) {
    case 4:
      if (k == "type") return ResponseKey::Type;
      if (k == "text") return ResponseKey::Content;
      break;
    case 5:
      if (k == "usage") return ResponseKey::Usage;
      if (k == "delta") return ResponseKey::Content;
      break;
    case 7:
      if (k == "choices") return ResponseKey::Choices;
      if (k == "message") return ResponseKey::Message;
      if (k == "content" || k == "refusal") return ResponseKey::Content;
      break;
    case 8:
      if (k == "response") return ResponseKey::Response;
      if (k == "thinking") return ResponseKey::Content;
      break;
    case 9:
      if (k == "arguments" || k == "reasoning") return ResponseKey::Content;
      break;
    case 12:
      if (k == "partial_json") return ResponseKey::Content;
      break;
    case 17:
      if (k == "reasoning_content") return ResponseKey::Content;
      break;
  }
  return ResponseKey::Other;
}

bool repeats_streamed_text(std::string_view type) {
  return type.ends_with(".done") || type == "response.completed" || type == "response.incomplete" ||
         type == "response.failed";
}

}  // namespace sluice::usage::detail
