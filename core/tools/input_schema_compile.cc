// InputSchema::compile: the JSON text of a schema → SchemaNodes (schema_node.h). Runs at config
// load and when an upstream MCP server's tool list arrives, never per call, so it favours clear
// errors over speed. A malformed schema is refused with the path of the keyword at fault; a
// keyword sluice does not check is recorded (unchecked_keywords) and otherwise skipped.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "core/tools/input_schema.h"
#include "core/tools/json_literal.h"

namespace sluice::tools {
namespace detail {
namespace {

// JSON nesting a schema document may have: kMaxSchemaDepth schemas take at most two levels each
// (properties → name → schema), plus room for enum/const values.
constexpr size_t kMaxSchemaJsonDepth = 4 * InputSchema::kMaxSchemaDepth;

// A key as it appears in an error's path: long ones are cut (the path stays readable).
constexpr size_t kPathKeyCodePoints = 64;

// An enum's message shows its first values only.
constexpr size_t kShownEnumValues = 10;

// Keywords that say something about a schema but nothing a value must satisfy. `$defs` and
// `definitions` hold schemas for `$ref`, which is itself recorded as unchecked.
// clang-format off
constexpr std::string_view kAnnotations[] = {
    "description", "title", "default", "examples", "example",
    "$schema", "$id", "id", "$comment", "$anchor",
    "$vocabulary", "$defs", "definitions", "format", "deprecated",
    "readOnly", "writeOnly", "contentEncoding", "contentMediaType", "contentSchema",
};
// clang-format on

struct TypeName {
  std::string_view name;
  uint8_t bits;
};
constexpr TypeName kTypeNames[] = {
    {"object", kObject},   {"array", kArray},     {"string", kString}, {"number", kNumber},
    {"integer", kInteger}, {"boolean", kBoolean}, {"null", kNull}};

double number_of(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::INT64:
      return static_cast<double>(e.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return static_cast<double>(e.get_uint64().value_unsafe());
    default:
      return e.get_double().value_unsafe();
  }
}

// A non-negative integer (3, or 3.0), as the count bounds take.
bool count_of(simdjson::dom::element e, uint64_t* out) {
  if (!e.is_number()) return false;
  if (e.type() == simdjson::dom::element_type::UINT64) {
    *out = e.get_uint64().value_unsafe();
    return true;
  }
  const double d = number_of(e);
  if (!(d >= 0) || d != std::floor(d) || d >= 18446744073709551616.0) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

}  // namespace

class SchemaCompiler {
 public:
  explicit SchemaCompiler(InputSchema& schema) : schema_(schema) {}

  bool compile_root(simdjson::dom::element root) {
    path_ = "input_schema";
    if (!root.is_object()) {
      return fail("expected a JSON Schema object, e.g. {\"type\": \"object\", \"properties\": {}}");
    }
    if (compile(root, 1) == kNoNode) return false;
    const SchemaNode& top = schema_.nodes_[0];
    if ((top.types & kObject) == 0) {
      path_ = "input_schema.type";
      return fail("a tool's arguments are a JSON object: the type must be (or include) \"object\"");
    }
    return true;
  }

  std::string error;

 private:
  // Compiles the schema `value` at path_ into a new node; kNoNode (and `error`) when malformed.
  NodeIndex compile(simdjson::dom::element value, int depth) {
    if (depth > InputSchema::kMaxSchemaDepth) {
      fail("nested deeper than " + std::to_string(InputSchema::kMaxSchemaDepth) + " schemas");
      return kNoNode;
    }
    if (schema_.nodes_.size() == InputSchema::kMaxSchemaNodes) {
      fail("more than " + std::to_string(InputSchema::kMaxSchemaNodes) + " schemas in all");
      return kNoNode;
    }
    // Children are compiled into the vector while this node is built: fill a local, store last.
    const auto index = static_cast<NodeIndex>(schema_.nodes_.size());
    schema_.nodes_.emplace_back();
    SchemaNode node;
    if (value.type() == simdjson::dom::element_type::BOOL) {
      node.accepts_nothing = !value.get_bool().value_unsafe();
      schema_.nodes_[index] = std::move(node);
      return index;
    }
    if (!value.is_object()) {
      fail("expected a schema (an object, or true/false)");
      return kNoNode;
    }
    bool nullable = false, draft4_exclusive_minimum = false, draft4_exclusive_maximum = false;
    for (auto [key, v] : as_object(value)) {
      const size_t path_size = path_.size();
      append_key(key);
      bool ok = true;
      if (key == "type") {
        ok = read_type(v, &node.types);
      } else if (key == "properties") {
        ok = read_properties(v, depth, &node);
      } else if (key == "required") {
        ok = read_required(v, &node);
      } else if (key == "additionalProperties") {
        if (v.type() == simdjson::dom::element_type::BOOL) {
          node.additional =
              v.get_bool().value_unsafe() ? Additional::Allowed : Additional::Forbidden;
        } else {
          node.additional = Additional::Checked;
          node.additional_schema = compile(v, depth + 1);
          ok = node.additional_schema != kNoNode;
        }
      } else if (key == "items") {
        if (v.is_array()) {
          unchecked("items (a list)");  // the draft-4 tuple form
        } else {
          node.items = compile(v, depth + 1);
          ok = node.items != kNoNode;
        }
      } else if (key == "enum") {
        ok = read_enum(v, &node);
      } else if (key == "const") {
        std::string text;
        append_canonical(v, text);
        bool was_cut = false;
        node.const_shown = cut(text, kPathKeyCodePoints, &was_cut);
        if (was_cut) node.const_shown += "…";
        node.const_value = std::move(text);
      } else if (key == "minimum") {
        ok = read_bound(v, &node.minimum);
      } else if (key == "maximum") {
        ok = read_bound(v, &node.maximum);
      } else if (key == "exclusiveMinimum") {
        ok = read_exclusive(v, &node.exclusive_minimum, &draft4_exclusive_minimum);
      } else if (key == "exclusiveMaximum") {
        ok = read_exclusive(v, &node.exclusive_maximum, &draft4_exclusive_maximum);
      } else if (key == "minLength") {
        ok = read_count(v, &node.min_length);
      } else if (key == "maxLength") {
        ok = read_count(v, &node.max_length);
      } else if (key == "minItems") {
        ok = read_count(v, &node.min_items);
      } else if (key == "maxItems") {
        ok = read_count(v, &node.max_items);
      } else if (key == "minProperties") {
        ok = read_count(v, &node.min_properties);
      } else if (key == "maxProperties") {
        ok = read_count(v, &node.max_properties);
      } else if (key == "allOf") {
        ok = read_schema_list(v, depth, &node.all_of);
      } else if (key == "anyOf") {
        ok = read_schema_list(v, depth, &node.any_of);
      } else if (key == "oneOf") {
        ok = read_schema_list(v, depth, &node.one_of);
      } else if (key == "nullable") {
        if (v.type() == simdjson::dom::element_type::BOOL) {
          nullable = v.get_bool().value_unsafe();
        } else {
          ok = fail("expected true or false");
        }
      } else if (std::find(std::begin(kAnnotations), std::end(kAnnotations), key) ==
                 std::end(kAnnotations)) {
        unchecked(key);
      }
      if (!ok) return kNoNode;
      path_.resize(path_size);
    }
    // The draft-4 forms: {"maximum": 10, "exclusiveMaximum": true} means "below 10".
    if (draft4_exclusive_minimum && node.minimum) {
      node.exclusive_minimum = node.minimum;
      node.minimum.reset();
    }
    if (draft4_exclusive_maximum && node.maximum) {
      node.exclusive_maximum = node.maximum;
      node.maximum.reset();
    }
    if (nullable) node.types |= kNull;
    schema_.nodes_[index] = std::move(node);
    return index;
  }

  bool read_type(simdjson::dom::element v, uint8_t* types) {
    auto bits_of = [&](simdjson::dom::element name, uint8_t* bits) {
      std::string_view text;
      if (name.get_string().get(text) == simdjson::SUCCESS) {
        for (const TypeName& t : kTypeNames) {
          if (t.name == text) {
            *bits = t.bits;
            return true;
          }
        }
        std::string shown;
        bool was_cut = false;
        shown.append("\"").append(cut(text, kPathKeyCodePoints, &was_cut)).append("\"");
        return fail(shown +
                    " is not a JSON Schema type (object, array, string, number, integer, "
                    "boolean, null)");
      }
      return fail(
          "expected a type name or a list of them, e.g. \"string\" or [\"string\", \"null\"]");
    };
    if (!v.is_array()) return bits_of(v, types);
    *types = 0;
    for (simdjson::dom::element name : as_array(v)) {
      uint8_t bits = 0;
      if (!bits_of(name, &bits)) return false;
      *types |= bits;
    }
    if (*types == 0) return fail("expected at least one type name");
    return true;
  }

  bool read_properties(simdjson::dom::element v, int depth, SchemaNode* node) {
    if (!v.is_object()) return fail("expected an object of schemas, one per property");
    for (auto [name, property] : as_object(v)) {
      const size_t path_size = path_.size();
      append_key(name);
      NodeIndex child = compile(property, depth + 1);
      if (child == kNoNode) return false;
      path_.resize(path_size);
      node->properties.push_back(PropertyRule{std::string(name), child});
    }
    std::stable_sort(node->properties.begin(), node->properties.end(),
                     [](const PropertyRule& a, const PropertyRule& b) { return a.name < b.name; });
    // A name written twice: JSON parsers keep the last one, so do we.
    auto last =
        std::unique(node->properties.rbegin(), node->properties.rend(),
                    [](const PropertyRule& a, const PropertyRule& b) { return a.name == b.name; });
    node->properties.erase(node->properties.begin(), last.base());
    link_required(node);
    return true;
  }

  bool read_required(simdjson::dom::element v, SchemaNode* node) {
    if (!v.is_array()) return fail("expected a list of property names");
    for (simdjson::dom::element name : as_array(v)) {
      std::string_view text;
      if (name.get_string().get(text) != simdjson::SUCCESS) {
        return fail("expected a list of property names (strings)");
      }
      if (std::find(node->required.begin(), node->required.end(), text) == node->required.end()) {
        node->required.emplace_back(text);
      }
    }
    link_required(node);
    return true;
  }

  // properties and required may come in either order: link them after each.
  static void link_required(SchemaNode* node) {
    node->required_property.clear();
    for (const std::string& name : node->required) {
      auto it =
          std::lower_bound(node->properties.begin(), node->properties.end(), name,
                           [](const PropertyRule& p, const std::string& n) { return p.name < n; });
      const bool found = it != node->properties.end() && it->name == name;
      node->required_property.push_back(found ? static_cast<int32_t>(it - node->properties.begin())
                                              : -1);
    }
  }

  bool read_enum(simdjson::dom::element v, SchemaNode* node) {
    if (!v.is_array()) return fail("expected a list of the allowed values");
    size_t count = 0;
    for (simdjson::dom::element item : as_array(v)) {
      std::string text;
      append_canonical(item, text);
      if (count < kShownEnumValues) {
        if (count > 0) node->enum_shown += ", ";
        bool was_cut = false;
        node->enum_shown += cut(text, kPathKeyCodePoints, &was_cut);
        if (was_cut) node->enum_shown += "…";
      }
      ++count;
      node->enum_values.push_back(std::move(text));
    }
    if (count == 0) return fail("expected at least one allowed value");
    if (count > kShownEnumValues) {
      node->enum_shown += ", … (" + std::to_string(count) + " values)";
    }
    std::sort(node->enum_values.begin(), node->enum_values.end());
    node->has_enum = true;
    return true;
  }

  bool read_bound(simdjson::dom::element v, std::optional<double>* out) {
    if (!v.is_number()) return fail("expected a number");
    *out = number_of(v);
    return true;
  }

  // A number (2019+), or true/false applying to minimum/maximum (draft 4).
  bool read_exclusive(simdjson::dom::element v, std::optional<double>* out, bool* draft4) {
    if (v.type() == simdjson::dom::element_type::BOOL) {
      *draft4 = v.get_bool().value_unsafe();
      return true;
    }
    return read_bound(v, out);
  }

  bool read_count(simdjson::dom::element v, CountBound* out) {
    uint64_t n = 0;
    if (!count_of(v, &n)) return fail("expected a non-negative integer");
    *out = n;
    return true;
  }

  bool read_schema_list(simdjson::dom::element v, int depth, std::vector<NodeIndex>* out) {
    if (!v.is_array()) return fail("expected a list of schemas");
    size_t i = 0;
    for (simdjson::dom::element item : as_array(v)) {
      const size_t path_size = path_.size();
      path_ += "[" + std::to_string(i++) + "]";
      NodeIndex child = compile(item, depth + 1);
      if (child == kNoNode) return false;
      path_.resize(path_size);
      out->push_back(child);
    }
    if (out->empty()) return fail("expected at least one schema");
    return true;
  }

  void append_key(std::string_view key) {
    bool was_cut = false;
    path_.append(".").append(cut(key, kPathKeyCodePoints, &was_cut));
    if (was_cut) path_ += "…";
  }

  void unchecked(std::string_view keyword) {
    auto& list = schema_.unchecked_;
    bool was_cut = false;
    std::string name(cut(keyword, kPathKeyCodePoints, &was_cut));
    if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(std::move(name));
  }

  bool fail(std::string_view message) {
    error = path_ + ": " + std::string(message);
    return false;
  }

  InputSchema& schema_;
  std::string path_;  // keyword path of what is being read: "input_schema.properties.limit"
};

}  // namespace detail

std::shared_ptr<const InputSchema> InputSchema::compile(std::string_view json, std::string* error) {
  if (json.size() > kMaxSchemaBytes) {
    *error = "input_schema: larger than " + std::to_string(kMaxSchemaBytes >> 20) +
             " MiB of JSON; sluice checks smaller schemas only";
    return nullptr;
  }
  simdjson::dom::parser parser;
  if (parser.allocate(json.size(), detail::kMaxSchemaJsonDepth) != simdjson::SUCCESS) {
    *error = "input_schema: out of memory";
    return nullptr;
  }
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  simdjson::error_code parse_error = parser.parse(padded).get(root);
  if (parse_error == simdjson::DEPTH_ERROR) {
    *error = "input_schema: nested deeper than " + std::to_string(detail::kMaxSchemaJsonDepth) +
             " levels of JSON";
    return nullptr;
  }
  if (parse_error != simdjson::SUCCESS) {
    *error =
        std::string("input_schema: not valid JSON (") + simdjson::error_message(parse_error) + ")";
    return nullptr;
  }
  std::shared_ptr<InputSchema> schema(new InputSchema());
  detail::SchemaCompiler compiler(*schema);
  if (!compiler.compile_root(root)) {
    *error = std::move(compiler.error);
    return nullptr;
  }
  return schema;
}

std::shared_ptr<const InputSchema> InputSchema::any_object() {
  static const std::shared_ptr<const InputSchema> schema = [] {
    std::string error;
    return compile(R"({"type":"object"})", &error);
  }();
  return schema;
}

}  // namespace sluice::tools
