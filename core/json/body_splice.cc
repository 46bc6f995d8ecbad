#include "core/json/body_splice.h"

#include <utility>

namespace sluice::json {

namespace {

// True if the object whose '{' ends just before `after_brace` has no members.
bool object_is_empty(std::string_view body, size_t after_brace) {
  size_t i = after_brace;
  while (i < body.size() &&
         (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')) {
    ++i;
  }
  return i < body.size() && body[i] == '}';
}

void set_insert(BodyEdit& edit, uint32_t at) {
  edit.begin = edit.end = at;
  edit.text.clear();
}

void set_replace(BodyEdit& edit, uint32_t begin, uint32_t end) {
  edit.begin = begin;
  edit.end = end;
  edit.text.clear();
}

}  // namespace

void set_model_edit(BodyEdit& edit, std::string_view body, const RequestFields& fields,
                    std::string_view model) {
  if (fields.model_end != 0) {  // a string, or null
    set_replace(edit, fields.model_begin, fields.model_end);
    append_json_string(edit.text, model);
    return;
  }
  set_insert(edit, fields.object_begin);
  edit.text.append("\"model\":");
  append_json_string(edit.text, model);
  if (!object_is_empty(body, fields.object_begin)) edit.text.push_back(',');
}

bool set_include_usage_edit(BodyEdit& edit, std::string_view body, const RequestFields& fields) {
  if (fields.include_usage) return false;
  if (fields.include_usage_end != 0) {  // include_usage: false | null
    set_replace(edit, fields.include_usage_begin, fields.include_usage_end);
    edit.text.append("true");
    return true;
  }
  if (fields.has_stream_options) {  // an object without include_usage
    uint32_t after_brace = fields.stream_options_begin + 1;
    set_insert(edit, after_brace);
    edit.text.append("\"include_usage\":true");
    if (!object_is_empty(body, after_brace)) edit.text.push_back(',');
    return true;
  }
  if (fields.stream_options_end != 0) {  // "stream_options": null
    set_replace(edit, fields.stream_options_begin, fields.stream_options_end);
    edit.text.append("{\"include_usage\":true}");
    return true;
  }
  set_insert(edit, fields.object_begin);
  edit.text.append("\"stream_options\":{\"include_usage\":true}");
  if (!object_is_empty(body, fields.object_begin)) edit.text.push_back(',');
  return true;
}

bool SplicedBody::assign(std::string_view body, std::initializer_list<const BodyEdit*> edits) {
  count_ = 0;
  size_ = 0;
  std::array<const BodyEdit*, kMaxEdits> sorted{};
  size_t n = 0;
  for (const BodyEdit* e : edits) {
    if (!e) continue;
    if (n == kMaxEdits || e->begin > e->end || e->end > body.size()) return false;
    sorted[n++] = e;
  }
  // Insertion sort: at most kMaxEdits elements.
  for (size_t i = 1; i < n; ++i) {
    for (size_t k = i; k > 0 && sorted[k]->begin < sorted[k - 1]->begin; --k) {
      std::swap(sorted[k], sorted[k - 1]);
    }
  }
  for (size_t i = 1; i < n; ++i) {
    const BodyEdit& prev = *sorted[i - 1];
    const BodyEdit& next = *sorted[i];
    if (next.begin < prev.end || next.begin == prev.begin) return false;
  }
  auto add = [this](std::string_view piece) {
    if (piece.empty()) return;
    pieces_[count_++] = piece;
    size_ += piece.size();
  };
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    add(body.substr(pos, sorted[i]->begin - pos));
    add(sorted[i]->text);
    pos = sorted[i]->end;
  }
  add(body.substr(pos));
  return true;
}

std::string SplicedBody::to_string() const {
  std::string out;
  out.reserve(size_);
  for (std::string_view piece : pieces()) out.append(piece);
  return out;
}

}  // namespace sluice::json
