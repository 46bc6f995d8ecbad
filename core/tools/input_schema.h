// InputSchema: a tool's `input_schema` (DESIGN §5 "Tools"), compiled once — at config load, or
// when an upstream MCP server's tool list arrives — and checked against every call's arguments
// before the tool is called. A call that fails the check gets a clear error naming the field,
// and the tool is not called.
//
// The subset of JSON Schema that is checked:
//   type                  a name or a list of: object, array, string, number, integer, boolean,
//                         null. integer = a number with no fractional part (5 and 5.0 both are,
//                         as JSON Schema says); number = any number.
//   properties, required, additionalProperties (true, false or a schema),
//   minProperties, maxProperties
//   items (a schema), minItems, maxItems
//   minLength, maxLength  counted in Unicode code points, not bytes ("é" is 1)
//   minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers; the draft-4 boolean form of
//                         exclusiveMinimum/Maximum is understood too)
//   enum, const           compared as JSON values (1 equals 1.0; object keys in any order)
//   anyOf, oneOf, allOf   lists of schemas
//   nullable: true        (OpenAPI's spelling of "or null", which schemas made from OpenAPI send)
// `true` and `false` are schemas too where a schema is expected (not at the root).
//
// Annotations are ignored (description, title, default, examples, $schema, $id, format, ...).
// Every other keyword — pattern, $ref, $defs, not, if/then/else, patternProperties,
// uniqueItems, multipleOf, a list-valued items, and unknown or misspelled ones — is NOT
// enforced: the schema is still accepted (upstream MCP servers send them) and the keyword is
// listed in unchecked_keywords(), for the caller to log once. A call is then checked against
// the rest of the schema only, so it may pass what a full validator would refuse; never the
// other way round.
//
// Whatever the schema, the arguments themselves must be a JSON object (MCP and OpenAI function
// calling both send an object), so a root `type` must include "object".
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tools/schema_node.h"

namespace sluice::tools {

// The first thing wrong with a call's arguments.
struct SchemaViolation {
  // Where: a path into the arguments — "" (the arguments themselves), "microdao_id",
  // "filters.tags[1]", a key that is not a plain name as `filters["a.b"]`.
  std::string field;
  // The sentence for the caller, naming the field: `"limit": expected integer, got string "5"`,
  // `"microdao_id" is required`, `arguments are not valid JSON`.
  std::string message;
};

class InputSchema {
 public:
  // Limits on what compile() accepts. A schema past them is refused as malformed.
  static constexpr size_t kMaxSchemaBytes = size_t{1} << 20;
  static constexpr int kMaxSchemaDepth = 32;  // schemas within schemas
  // Schemas in all (a node is a few hundred bytes: a 1 MiB list of `{}` must not cost 100s of MB).
  static constexpr size_t kMaxSchemaNodes = 10'000;
  // Limits on what check() reads: past them, the arguments are refused at the root. The size
  // is the default limits.max_request_body, so it binds only where an operator raised that.
  static constexpr size_t kMaxArgumentsBytes = size_t{32} << 20;
  static constexpr size_t kMaxArgumentsDepth = 128;  // nested objects/arrays

  // Compiles the JSON text of a schema object. Returns nullptr and sets *error when the schema
  // is malformed (not an object, an unknown type name, `required` not a list of strings, a bound
  // that is not a number, nesting or size past the limits above). The error names the keyword:
  //   input_schema.properties.limit.minimum: expected a number
  static std::shared_ptr<const InputSchema> compile(std::string_view json, std::string* error);

  // The schema of a tool that declares none: {"type":"object"}.
  static std::shared_ptr<const InputSchema> any_object();

  // Checks a call's arguments (JSON text). nullopt when they pass; otherwise the first
  // violation found. Fast and allocation-free for arguments that pass (a tools/call is on the
  // request path); safe on several threads at once.
  std::optional<SchemaViolation> check(std::string_view arguments_json) const;

  // Keywords present in the schema that are not enforced (see above), each once, in the order
  // first met: "pattern", "$ref", ... Empty when everything in the schema is checked.
  const std::vector<std::string>& unchecked_keywords() const { return unchecked_; }

 private:
  InputSchema() = default;  // made by compile() only: a schema always has its root node
  friend class detail::SchemaCompiler;
  std::vector<detail::SchemaNode> nodes_;  // nodes_[0] is the root
  std::vector<std::string> unchecked_;
};

}  // namespace sluice::tools
