// Rewriting a request body without re-serializing or copying it (DESIGN §11). The router
// changes `model` per attempt (logical → physical name) and, for OpenAI-type streams, asks the
// provider for usage (stream_options.include_usage, DESIGN §8). Each change is a BodyEdit
// computed from the offsets parse_request_fields recorded; a SplicedBody then lists the bytes
// to send as pieces — views into the untouched body and into the edits' text — ready for one
// writev:  [body before model]["gpt-4o-mini"][body after model].
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "core/json/request_fields.h"

namespace sluice::json {

// body[begin, end) becomes `text`; begin == end inserts `text` at begin.
struct BodyEdit {
  uint32_t begin = 0, end = 0;
  std::string text;  // the set_* functions clear and refill it, so a reused edit keeps capacity
};

// Makes `edit` replace the model value token (a string, or null) with `model` as a JSON string.
// If the body had no "model" key, the edit inserts a "model" member at the top instead.
void set_model_edit(BodyEdit& edit, std::string_view body, const RequestFields& fields,
                    std::string_view model);

// Makes `edit` turn on stream_options.include_usage, whatever the client sent: no
// stream_options (a member is inserted), "stream_options": null (replaced), an object without
// include_usage (the key is inserted, the client's other options kept), include_usage false or
// null (the value replaced). Never creates a duplicate key. Returns false, leaving `edit`
// alone, when the client already sent include_usage: true (nothing to change).
bool set_include_usage_edit(BodyEdit& edit, std::string_view body, const RequestFields& fields);

// A body with edits applied, as pieces. Views only: `body` and the edits must outlive it.
class SplicedBody {
 public:
  static constexpr size_t kMaxEdits = 4;

  // Applies `edits` (any order; null pointers skipped). Returns false — and leaves an empty
  // result — if there are more than kMaxEdits, one reaches past the body, or two overlap
  // (two inserts at the same offset count as overlapping: their order would be ambiguous).
  bool assign(std::string_view body, std::initializer_list<const BodyEdit*> edits);

  std::span<const std::string_view> pieces() const { return {pieces_.data(), count_}; }
  size_t size() const { return size_; }  // bytes in all pieces: the new Content-Length
  std::string to_string() const;         // the pieces joined (tests, small bodies)

 private:
  std::array<std::string_view, 2 * kMaxEdits + 1> pieces_{};
  size_t count_ = 0;
  size_t size_ = 0;
};

}  // namespace sluice::json
