#include "tests/support/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sluice::test {

namespace {
const Json& null_json() {
  static const Json kNull;
  return kNull;
}
const std::string& empty_string() {
  static const std::string kEmpty;
  return kEmpty;
}
constexpr int kMaxDepth = 256;  // deeper documents are refused rather than recursed into
}  // namespace

// Recursive-descent parser over a string_view; `pos_` is the next unread byte.
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  std::optional<Json> parse_document(std::string* error) {
    Json value;
    if (!parse_value(value, 0)) return fail(error);
    skip_space();
    if (pos_ != text_.size()) {
      why_ = "trailing characters";
      return fail(error);
    }
    return value;
  }

 private:
  std::optional<Json> fail(std::string* error) {
    if (error) *error = why_ + " at offset " + std::to_string(pos_);
    return std::nullopt;
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) {
      why_ = "invalid literal";
      return false;
    }
    pos_ += word.size();
    return true;
  }

  bool parse_value(Json& out, int depth) {
    if (depth > kMaxDepth) {
      why_ = "nesting too deep";
      return false;
    }
    skip_space();
    if (pos_ >= text_.size()) {
      why_ = "unexpected end";
      return false;
    }
    char c = text_[pos_];
    switch (c) {
      case 'n':
        out = Json();
        return literal("null");
      case 't':
        out = Json(true);
        return literal("true");
      case 'f':
        out = Json(false);
        return literal("false");
      case '"': {
        std::string s;
        if (!parse_string(s)) return false;
        out = Json(std::move(s));
        return true;
      }
      case '[':
        return parse_array(out, depth);
      case '{':
        return parse_object(out, depth);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
        why_ = "unexpected character";
        return false;
    }
  }

  bool parse_number(Json& out) {
    size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t d = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ > d;
    };
    if (!digits()) {
      why_ = "bad number";
      return false;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) {
        why_ = "bad number";
        return false;
      }
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) {
        why_ = "bad number";
        return false;
      }
    }
    std::string copy(text_.substr(start, pos_ - start));
    out = Json(std::strtod(copy.c_str(), nullptr));
    return true;
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool parse_hex4(unsigned& cp) {
    if (pos_ + 4 > text_.size()) {
      why_ = "short \\u escape";
      return false;
    }
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      int v = hex_value(text_[pos_++]);
      if (v < 0) {
        why_ = "bad \\u escape";
        return false;
      }
      cp = cp * 16 + static_cast<unsigned>(v);
    }
    return true;
  }

  static void append_utf8(std::string& s, unsigned cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool parse_string(std::string& s) {
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) {
        why_ = "control character in string";
        return false;
      }
      if (c != '\\') {
        s += c;
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case '"':
          s += '"';
          break;
        case '\\':
          s += '\\';
          break;
        case '/':
          s += '/';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 't':
          s += '\t';
          break;
        case 'u': {
          unsigned cp;
          if (!parse_hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            unsigned low;
            if (!parse_hex4(low)) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(s, cp);
          break;
        }
        default:
          why_ = "bad escape";
          return false;
      }
    }
    why_ = "unterminated string";
    return false;
  }

  bool parse_array(Json& out, int depth) {
    ++pos_;
    out = Json::array();
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      Json item;
      if (!parse_value(item, depth + 1)) return false;
      out.array_.push_back(std::move(item));
      skip_space();
      if (pos_ >= text_.size()) break;
      char c = text_[pos_++];
      if (c == ']') return true;
      if (c != ',') {
        why_ = "expected , or ]";
        return false;
      }
    }
    why_ = "unterminated array";
    return false;
  }

  bool parse_object(Json& out, int depth) {
    ++pos_;
    out = Json::object();
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        why_ = "expected key";
        return false;
      }
      std::string key;
      if (!parse_string(key)) return false;
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') {
        why_ = "expected :";
        return false;
      }
      ++pos_;
      Json value;
      if (!parse_value(value, depth + 1)) return false;
      out.object_.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (pos_ >= text_.size()) break;
      char c = text_[pos_++];
      if (c == '}') return true;
      if (c != ',') {
        why_ = "expected , or }";
        return false;
      }
    }
    why_ = "unterminated object";
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string why_;
};

std::optional<Json> Json::parse(std::string_view text, std::string* error) {
  return JsonParser(text).parse_document(error);
}

const std::string& Json::str() const {
  return is_string() ? string_ : empty_string();
}

const Json& Json::operator[](std::string_view key) const {
  if (!is_object()) return null_json();
  // Last occurrence wins, as most parsers do.
  for (auto it = object_.rbegin(); it != object_.rend(); ++it)
    if (it->first == key) return it->second;
  return null_json();
}

const Json& Json::operator[](size_t index) const {
  if (!is_array() || index >= array_.size()) return null_json();
  return array_[index];
}

bool Json::contains(std::string_view key) const {
  if (!is_object()) return false;
  for (const auto& [k, v] : object_)
    if (k == key) return true;
  return false;
}

size_t Json::size() const {
  if (is_array()) return array_.size();
  if (is_object()) return object_.size();
  return 0;
}

Json& Json::push_back(Json value) {
  if (!is_array()) *this = Json::array();
  array_.push_back(std::move(value));
  return *this;
}

Json& Json::set(std::string key, Json value) {
  if (!is_object()) *this = Json::object();
  for (auto& [k, v] : object_) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  object_.emplace_back(std::move(key), std::move(value));
  return *this;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

void Json::dump_to(std::string& out) const {
  switch (kind_) {
    case Kind::Null:
      out += "null";
      break;
    case Kind::Bool:
      out += bool_ ? "true" : "false";
      break;
    case Kind::Number: {
      char buf[32];
      if (std::isfinite(number_) && std::floor(number_) == number_ && std::fabs(number_) < 1e15)
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(number_));
      else
        std::snprintf(buf, sizeof buf, "%.15g", number_);
      out += buf;
      break;
    }
    case Kind::String:
      append_json_string(out, string_);
      break;
    case Kind::Array:
      out += '[';
      for (size_t i = 0; i < array_.size(); ++i) {
        if (i) out += ',';
        array_[i].dump_to(out);
      }
      out += ']';
      break;
    case Kind::Object:
      out += '{';
      for (size_t i = 0; i < object_.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, object_[i].first);
        out += ':';
        object_[i].second.dump_to(out);
      }
      out += '}';
      break;
  }
}

std::string Json::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

}  // namespace sluice::test
