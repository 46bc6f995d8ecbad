// InputSchema::check: a call's arguments against the compiled nodes (schema_node.h), on the
// request path of every tools/call. The arguments are parsed once with simdjson's DOM parser
// (one per thread, reused) and walked along the schema: only values the schema says something
// about are visited, so the recursion is as deep as the schema (at most kMaxSchemaDepth), never
// as deep as the arguments; the parser itself refuses nesting past kMaxArgumentsDepth, which
// bounds the one walk that follows the arguments (canonical text for enum/const).
//
// Arguments that pass cost no allocation beyond the first call on a thread (an enum or const
// value longer than a short string aside). A violation's message is built only when it is the
// one reported: inside anyOf/oneOf the branches are first tried quietly.
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "core/json/request_fields.h"
#include "core/tools/input_schema.h"
#include "core/tools/json_literal.h"

namespace sluice::tools {
namespace detail {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Arguments up to this size are parsed by the thread's reused parser; larger ones by a parser
// of their own, freed afterwards (a DOM parser keeps ~13 bytes per byte of the largest document
// it has seen, which one huge call should not leave pinned in every worker).
constexpr size_t kReusableParserLimit = 256u << 10;

// Keys in a violation's field are cut after this many code points.
constexpr size_t kFieldKeyCodePoints = 64;

// anyOf/oneOf messages show this many branches' reasons, each cut to a sentence's length.
constexpr size_t kShownBranches = 4;
constexpr size_t kBranchReasonCodePoints = 160;

// The TypeBits of a value: one bit, or kNumber | kInteger for a number with no fractional part.
uint8_t type_bits_of(element e) {
  switch (e.type()) {
    case element_type::OBJECT:
      return kObject;
    case element_type::ARRAY:
      return kArray;
    case element_type::STRING:
      return kString;
    case element_type::INT64:
    case element_type::UINT64:
      return kNumber | kInteger;
    case element_type::DOUBLE: {
      const double d = e.get_double().value_unsafe();
      return std::isfinite(d) && d == std::floor(d) ? kNumber | kInteger : kNumber;
    }
    case element_type::BOOL:
      return kBoolean;
    case element_type::NULL_VALUE:
      return kNull;
  }
  return 0;
}

double number_of(element e) {
  switch (e.type()) {
    case element_type::INT64:
      return static_cast<double>(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return static_cast<double>(e.get_uint64().value_unsafe());
    default:
      return e.get_double().value_unsafe();
  }
}

// A number as the argument wrote it (5, 5.5), for messages.
std::string number_shown(element e) {
  switch (e.type()) {
    case element_type::INT64:
      return std::to_string(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return std::to_string(e.get_uint64().value_unsafe());
    default:
      return number_text(e.get_double().value_unsafe());
  }
}

// "string", "string or null", "string, number or null".
std::string type_names(uint8_t types) {
  static constexpr std::pair<uint8_t, const char*> kNames[] = {
      {kObject, "object"},   {kArray, "array"},     {kString, "string"}, {kNumber, "number"},
      {kInteger, "integer"}, {kBoolean, "boolean"}, {kNull, "null"},
  };
  std::vector<const char*> names;
  for (auto [bit, name] : kNames) {
    if (types & bit) names.push_back(name);
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// A member key that can stand in a dotted path as it is.
bool plain_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
    if (!ok) return false;
  }
  return true;
}

// One step from a value to a member or item, for the violation's field.
struct PathStep {
  std::string_view key;  // a member's key (decoded, in the parser's buffer) ...
  size_t index = 0;      // ... or an item's index
  bool is_index = false;
};

class SchemaChecker {
 public:
  explicit SchemaChecker(const std::vector<SchemaNode>& nodes) : nodes_(nodes) {}

  // Checks the root: the arguments are an object, whatever else the schema allows.
  bool check_root(element root) {
    if (!root.is_object()) return fail("expected object, got " + describe(root));
    return check(0, root);
  }

  std::optional<SchemaViolation> violation;

 private:
  // Pushes a step for the lifetime of a scope. Steps never outnumber schema levels: each one
  // goes with a descent into a child node.
  class Step {
   public:
    Step(SchemaChecker& c, PathStep step) : c_(c) {
      assert(c_.depth_ < c_.path_.size());
      c_.path_[c_.depth_++] = step;
    }
    ~Step() { --c_.depth_; }
    Step(const Step&) = delete;
    Step& operator=(const Step&) = delete;

   private:
    SchemaChecker& c_;
  };

  bool check(NodeIndex n, element e) {
    const SchemaNode& node = nodes_[n];
    if (node.accepts_nothing) return fail_here("is not allowed");
    const uint8_t bits = type_bits_of(e);
    if ((bits & node.types) == 0) {
      return fail("expected " + type_names(node.types) + ", got " + describe(e));
    }
    if (node.const_value && !equals(e, *node.const_value)) {
      return fail("must be " + node.const_shown);
    }
    if (node.has_enum && !in_enum(e, node.enum_values)) {
      return fail("must be one of " + node.enum_shown);
    }
    bool ok = true;
    if (bits & kObject) {
      ok = check_object(node, e);
    } else if (bits & kArray) {
      ok = check_array(node, e);
    } else if (bits & kString) {
      ok = check_string(node, e);
    } else if (bits & kNumber) {
      ok = check_number(node, e);
    }
    if (!ok) return false;
    for (NodeIndex branch : node.all_of) {
      if (!check(branch, e)) return false;
    }
    if (!node.any_of.empty() && !check_any_of(node, e)) return false;
    if (!node.one_of.empty() && !check_one_of(node, e)) return false;
    return true;
  }

  bool check_object(const SchemaNode& node, element e) {
    simdjson::dom::object object = as_object(e);
    // Pass 1: which declared properties are present (a bit each; a vector past 64 of them).
    const size_t declared = node.properties.size();
    uint64_t seen_bits = 0;
    std::vector<bool> seen_many;
    if (declared > 64) seen_many.resize(declared);
    uint64_t members = 0;
    for (auto [key, value] : object) {
      (void)value;
      ++members;
      const int32_t i = property_index(node, key);
      if (i < 0) continue;
      if (declared > 64) {
        seen_many[i] = true;
      } else {
        seen_bits |= uint64_t{1} << i;
      }
    }
    for (size_t r = 0; r < node.required.size(); ++r) {
      const int32_t i = node.required_property[r];
      bool present;
      if (i < 0) {
        element ignored;
        present = object.at_key(node.required[r]).get(ignored) == simdjson::SUCCESS;
      } else {
        present = declared > 64 ? bool(seen_many[i]) : ((seen_bits >> i) & 1) != 0;
      }
      if (!present) {
        Step step(*this, PathStep{node.required[r]});
        return fail_here("is required");
      }
    }
    if (node.min_properties && members < *node.min_properties) {
      return fail("must have at least " + count_of(*node.min_properties, "property", "properties") +
                  " (got " + std::to_string(members) + ")");
    }
    if (node.max_properties && members > *node.max_properties) {
      return fail("must have at most " + count_of(*node.max_properties, "property", "properties") +
                  " (got " + std::to_string(members) + ")");
    }
    // Pass 2: each member against its schema, in the order the arguments give them.
    for (auto [key, value] : object) {
      const int32_t i = property_index(node, key);
      NodeIndex child = kNoNode;
      if (i >= 0) {
        child = node.properties[i].schema;
      } else if (node.additional == Additional::Forbidden) {
        Step step(*this, PathStep{key});
        return fail_here("is not allowed (additionalProperties: false)");
      } else if (node.additional == Additional::Checked) {
        child = node.additional_schema;
      }
      if (child == kNoNode) continue;
      Step step(*this, PathStep{key});
      if (!check(child, value)) return false;
    }
    return true;
  }

  bool check_array(const SchemaNode& node, element e) {
    simdjson::dom::array array = as_array(e);
    if (node.min_items || node.max_items) {
      const uint64_t size = array.size();
      if (node.min_items && size < *node.min_items) {
        return fail("must have at least " + count_of(*node.min_items, "item", "items") + " (got " +
                    std::to_string(size) + ")");
      }
      if (node.max_items && size > *node.max_items) {
        return fail("must have at most " + count_of(*node.max_items, "item", "items") + " (got " +
                    std::to_string(size) + ")");
      }
    }
    if (node.items == kNoNode) return true;
    size_t index = 0;
    for (element item : array) {
      Step step(*this, PathStep{{}, index++, true});
      if (!check(node.items, item)) return false;
    }
    return true;
  }

  bool check_string(const SchemaNode& node, element e) {
    if (!node.min_length && !node.max_length) return true;
    const uint64_t length = code_points(e.get_string().value_unsafe());
    if (node.min_length && length < *node.min_length) {
      return fail("must be at least " + count_of(*node.min_length, "character", "characters") +
                  " long (got " + std::to_string(length) + ")");
    }
    if (node.max_length && length > *node.max_length) {
      return fail("must be at most " + count_of(*node.max_length, "character", "characters") +
                  " long (got " + std::to_string(length) + ")");
    }
    return true;
  }

  // Compared as doubles: an integer beyond 2^53 is compared as the nearest double.
  bool check_number(const SchemaNode& node, element e) {
    const double v = number_of(e);
    if (node.minimum && v < *node.minimum) {
      return fail(number_shown(e) + " is below the minimum " + number_text(*node.minimum));
    }
    if (node.maximum && v > *node.maximum) {
      return fail(number_shown(e) + " is above the maximum " + number_text(*node.maximum));
    }
    if (node.exclusive_minimum && !(v > *node.exclusive_minimum)) {
      return fail(number_shown(e) + " is not above the exclusive minimum " +
                  number_text(*node.exclusive_minimum));
    }
    if (node.exclusive_maximum && !(v < *node.exclusive_maximum)) {
      return fail(number_shown(e) + " is not below the exclusive maximum " +
                  number_text(*node.exclusive_maximum));
    }
    return true;
  }

  bool check_any_of(const SchemaNode& node, element e) {
    if (count_matches(node.any_of, e, 1) > 0) return true;
    if (quiet_ > 0) return false;
    return fail("matches none of the anyOf schemas: " + reasons(node.any_of, e));
  }

  bool check_one_of(const SchemaNode& node, element e) {
    const size_t matches = count_matches(node.one_of, e, 2);
    if (matches == 1) return true;
    if (quiet_ > 0) return false;
    if (matches == 0) return fail("matches none of the oneOf schemas: " + reasons(node.one_of, e));
    return fail("matches more than one of the oneOf schemas; exactly one must match");
  }

  // How many branches `e` matches, counting no further than `enough`; no messages built.
  size_t count_matches(const std::vector<NodeIndex>& branches, element e, size_t enough) {
    ++quiet_;
    size_t matches = 0;
    for (NodeIndex branch : branches) {
      if (check(branch, e) && ++matches == enough) break;
    }
    --quiet_;
    return matches;
  }

  // Why each branch refused `e`: "(1) expected string, got null; (2) ...". A reason about the
  // value itself loses its field label (the message names that already).
  std::string reasons(const std::vector<NodeIndex>& branches, element e) {
    const std::string own_label = label() + ": ";
    std::string out;
    for (size_t i = 0; i < branches.size(); ++i) {
      if (i == kShownBranches) {
        out += "; …";
        break;
      }
      check(branches[i], e);
      std::string reason = violation ? std::move(violation->message) : "refused";
      violation.reset();
      if (reason.compare(0, own_label.size(), own_label) == 0) reason.erase(0, own_label.size());
      bool was_cut = false;
      std::string_view shown = cut(reason, kBranchReasonCodePoints, &was_cut);
      if (i > 0) out += "; ";
      out.append("(").append(std::to_string(i + 1)).append(") ").append(shown);
      if (was_cut) out += "…";
    }
    return out;
  }

  bool equals(element e, const std::string& canonical) {
    scratch_.clear();
    append_canonical(e, scratch_);
    return scratch_ == canonical;
  }

  bool in_enum(element e, const std::vector<std::string>& sorted_values) {
    scratch_.clear();
    append_canonical(e, scratch_);
    return std::binary_search(sorted_values.begin(), sorted_values.end(), scratch_);
  }

  static int32_t property_index(const SchemaNode& node, std::string_view key) {
    auto it = std::lower_bound(
        node.properties.begin(), node.properties.end(), key,
        [](const PropertyRule& p, std::string_view k) { return std::string_view(p.name) < k; });
    if (it == node.properties.end() || it->name != key) return -1;
    return static_cast<int32_t>(it - node.properties.begin());
  }

  static std::string count_of(uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  }

  // The field of the value being checked: "", "limit", "filters.tags[1]", `a["b.c"]`.
  std::string field() const {
    std::string out;
    for (size_t i = 0; i < depth_; ++i) {
      const PathStep& step = path_[i];
      if (step.is_index) {
        out.append("[").append(std::to_string(step.index)).append("]");
        continue;
      }
      bool was_cut = false;
      std::string_view key = cut(step.key, kFieldKeyCodePoints, &was_cut);
      if (plain_key(step.key)) {
        if (i > 0) out += '.';
        out += key;
        if (was_cut) out += "…";
      } else {
        out += '[';
        json::append_json_string(out, key);
        if (was_cut) out.insert(out.size() - 1, "…");
        out += ']';
      }
    }
    return out;
  }

  // How a message names the value being checked: `"limit"`, or `arguments` for the root.
  std::string label() const { return depth_ == 0 ? "arguments" : "\"" + field() + "\""; }

  // A violation of the value being checked: `"limit": <what>`.
  bool fail(const std::string& what) {
    if (quiet_ == 0) violation = SchemaViolation{field(), label() + ": " + what};
    return false;
  }
  // A violation phrased about the field itself: `"microdao_id" is required`.
  bool fail_here(const char* what) {
    if (quiet_ == 0) violation = SchemaViolation{field(), label() + " " + what};
    return false;
  }

  const std::vector<SchemaNode>& nodes_;
  std::array<PathStep, InputSchema::kMaxSchemaDepth + 1> path_;
  size_t depth_ = 0;
  int quiet_ = 0;        // > 0 inside anyOf/oneOf trials: violations are not worded
  std::string scratch_;  // canonical text of a value compared with enum/const
};

SchemaViolation at_root(std::string message) {
  return SchemaViolation{"", std::move(message)};
}

SchemaViolation parse_failure(simdjson::error_code error) {
  switch (error) {
    case simdjson::DEPTH_ERROR:
      return at_root("arguments nest deeper than " +
                     std::to_string(InputSchema::kMaxArgumentsDepth) + " levels");
    case simdjson::NUMBER_ERROR:
      return at_root("arguments are not valid JSON: a number is malformed or out of range");
    case simdjson::STRING_ERROR:
    case simdjson::UNESCAPED_CHARS:
      return at_root(
          "arguments are not valid JSON: a string has a bad escape, a lone surrogate or a raw "
          "control character");
    case simdjson::UTF8_ERROR:
      return at_root("arguments are not valid UTF-8");
    case simdjson::EMPTY:
      return at_root("arguments are empty: expected a JSON object ({} for none)");
    default:
      return at_root("arguments are not valid JSON");
  }
}

}  // namespace
}  // namespace detail

std::optional<SchemaViolation> InputSchema::check(std::string_view arguments_json) const {
  if (arguments_json.size() > kMaxArgumentsBytes) {
    return detail::at_root("arguments are larger than " + std::to_string(kMaxArgumentsBytes >> 20) +
                           " MiB");
  }
  auto check_parsed = [this](simdjson::simdjson_result<simdjson::dom::element> parsed)
      -> std::optional<SchemaViolation> {
    simdjson::dom::element root;
    if (simdjson::error_code error = parsed.get(root)) return detail::parse_failure(error);
    detail::SchemaChecker checker(nodes_);
    if (checker.check_root(root)) return std::nullopt;
    return std::move(checker.violation);
  };
  if (arguments_json.size() <= detail::kReusableParserLimit) {
    // One parser and one padded copy per thread, grown to the largest arguments seen (simdjson
    // reads up to SIMDJSON_PADDING bytes past the document, which a string_view does not
    // promise). The parser keeps kMaxArgumentsDepth as it grows.
    thread_local simdjson::dom::parser parser(detail::kReusableParserLimit);
    thread_local const bool allocated = parser.allocate(simdjson::dom::MINIMAL_DOCUMENT_CAPACITY,
                                                        kMaxArgumentsDepth) == simdjson::SUCCESS;
    thread_local std::string padded;
    if (!allocated) return detail::at_root("arguments could not be checked: out of memory");
    if (padded.capacity() < arguments_json.size() + simdjson::SIMDJSON_PADDING) {
      padded.reserve(arguments_json.size() + simdjson::SIMDJSON_PADDING);
    }
    padded.assign(arguments_json);
    return check_parsed(parser.parse(padded.data(), padded.size(), false));
  }
  simdjson::dom::parser parser(arguments_json.size());
  if (parser.allocate(arguments_json.size(), kMaxArgumentsDepth) != simdjson::SUCCESS) {
    return detail::at_root("arguments could not be checked: out of memory");
  }
  return check_parsed(parser.parse(simdjson::padded_string(arguments_json)));
}

}  // namespace sluice::tools
