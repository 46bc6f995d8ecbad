// single_tool_source (tool_source.h): the ToolSource of a `tools:` entry that is one tool
// (http, lua, plugin). Its list never changes; its schema is compiled here, once per snapshot.
#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "core/config/node_reader.h"
#include "core/log/log.h"
#include "core/tools/input_schema.h"
#include "core/tools/tool_source.h"

namespace sluice::tools {
namespace {

// The list and the executor its entry points to, in one allocation: whoever holds the list (a
// call in flight while a reload drops the snapshot) keeps the executor alive too.
struct ListAndExecutor {
  std::unique_ptr<ToolExecutor> executor;
  ToolList list;
};

class SingleToolSource final : public ToolSource {
 public:
  SingleToolSource(ToolEntry entry, std::unique_ptr<ToolExecutor> executor) {
    auto held = std::make_shared<ListAndExecutor>();
    held->executor = std::move(executor);
    entry.executor = held->executor.get();
    held->list.push_back(std::move(entry));
    list_ = std::shared_ptr<const ToolList>(held, &held->list);
  }
  std::shared_ptr<const ToolList> tools() const override { return list_; }
  bool fixed() const override { return true; }

 private:
  std::shared_ptr<const ToolList> list_;
};

// The compile error as a ConfigError: "input_schema.properties.limit.minimum: expected a
// number" becomes key path tools.NAME.input_schema.properties.limit.minimum and the message.
[[noreturn]] void throw_schema_error(const config::ToolSpec& spec, const std::string& error) {
  const std::string prefix = "tools." + spec.name;
  const size_t colon = error.find(": ");
  if (error.rfind("input_schema", 0) == 0 && colon != std::string::npos) {
    throw config::ConfigError(spec.input_schema_mark, prefix + "." + error.substr(0, colon),
                              error.substr(colon + 2));
  }
  throw config::ConfigError(spec.input_schema_mark, prefix + ".input_schema", error);
}

// Keywords not enforced, said once per tool and list per process: a config reloaded hundreds
// of times does not repeat the warning each time. Bounded: past kMaxRemembered, it forgets.
void warn_unchecked_once(const std::string& tool, const std::vector<std::string>& keywords) {
  constexpr size_t kMaxRemembered = 4096;
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::string list;
  for (const std::string& k : keywords) list.append(list.empty() ? "" : ", ").append(k);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (warned.size() >= kMaxRemembered) warned.clear();
    if (!warned.insert(tool + '\n' + list).second) return;
  }
  log::warn("tool " + tool +
            ": input_schema keywords sluice does not check (calls are checked "
            "against the rest of the schema only): " +
            list);
}

}  // namespace

std::shared_ptr<ToolSource> single_tool_source(const config::ToolSpec& spec,
                                               std::string description,
                                               std::string input_schema_json,
                                               std::unique_ptr<ToolExecutor> executor) {
  ToolEntry entry;
  entry.name = spec.name;
  entry.function_name = function_name_of(spec.name);
  // What the operator wrote wins over what the tool says of itself.
  entry.description = spec.description.empty() ? std::move(description) : spec.description;
  if (!spec.input_schema_json.empty()) input_schema_json = spec.input_schema_json;
  if (input_schema_json.empty()) {
    entry.input_schema_json = R"({"type":"object"})";
    entry.schema = InputSchema::any_object();
  } else {
    std::string error;
    entry.schema = InputSchema::compile(input_schema_json, &error);
    if (!entry.schema) throw_schema_error(spec, error);
    if (!entry.schema->unchecked_keywords().empty()) {
      warn_unchecked_once(spec.name, entry.schema->unchecked_keywords());
    }
    entry.input_schema_json = std::move(input_schema_json);
  }
  entry.target = spec.name;
  entry.timeout = spec.timeout;
  return std::make_shared<SingleToolSource>(std::move(entry), std::move(executor));
}

}  // namespace sluice::tools
