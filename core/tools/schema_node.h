// The compiled form of an InputSchema (input_schema.h): one SchemaNode per schema and
// subschema, all in one vector, a child named by its index. input_schema_compile.cc builds
// them once; input_schema_check.cc walks them for every call. Internal to core/tools.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::tools::detail {

class SchemaCompiler;

// JSON types as bits of one word. A value has exactly one of them, except that a number with
// no fractional part is both kNumber and kInteger; a schema's `type` allows a set of them.
enum TypeBits : uint8_t {
  kNull = 1 << 0,
  kBoolean = 1 << 1,
  kObject = 1 << 2,
  kArray = 1 << 3,
  kNumber = 1 << 4,
  kInteger = 1 << 5,
  kString = 1 << 6,
};
inline constexpr uint8_t kAnyType = 0x7f;

using NodeIndex = uint32_t;
inline constexpr NodeIndex kNoNode = UINT32_MAX;

struct PropertyRule {
  std::string name;  // decoded key
  NodeIndex schema = kNoNode;
};

// What additionalProperties says about members that `properties` does not name.
enum class Additional : uint8_t {
  Allowed,    // absent or true: anything
  Forbidden,  // false: such a member is a violation
  Checked,    // a schema: such a member must match SchemaNode::additional_schema
};

// An unsigned count bound (minLength, maxItems, ...).
using CountBound = std::optional<uint64_t>;

struct SchemaNode {
  bool accepts_nothing = false;  // the boolean schema `false`
  uint8_t types = kAnyType;      // TypeBits allowed (kNumber includes integers)

  // Objects.
  std::vector<PropertyRule> properties;  // sorted by name (binary search per member)
  std::vector<std::string> required;
  std::vector<int32_t> required_property;  // per `required` name: its index in properties, or -1
  Additional additional = Additional::Allowed;
  NodeIndex additional_schema = kNoNode;
  CountBound min_properties, max_properties;

  // Arrays.
  NodeIndex items = kNoNode;
  CountBound min_items, max_items;

  // Strings, in code points.
  CountBound min_length, max_length;

  // Numbers. An exclusive bound from the draft-4 boolean form lands here too.
  std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum;

  // enum / const: the allowed values as canonical JSON text (json_literal.h), and how the
  // message shows them ("red", "green").
  bool has_enum = false;
  std::vector<std::string> enum_values;  // sorted, for binary search
  std::string enum_shown;
  std::optional<std::string> const_value;
  std::string const_shown;  // const_value, cut if long

  std::vector<NodeIndex> all_of, any_of, one_of;
};

}  // namespace sluice::tools::detail
