// TEMPORARY (plugin-tools branch): single_tool_source until the tool-schema branch lands with
// the real one (and InputSchema). Dropped at rebase.
#include "core/tools/tool_source.h"

namespace sluice::tools {
namespace {
class StaticSource final : public ToolSource {
 public:
  StaticSource(ToolEntry entry, std::unique_ptr<ToolExecutor> executor)
      : executor_(std::move(executor)) {
    entry.executor = executor_.get();
    list_ = std::make_shared<ToolList>(ToolList{std::move(entry)});
  }
  std::shared_ptr<const ToolList> tools() const override { return list_; }

 private:
  std::unique_ptr<ToolExecutor> executor_;
  std::shared_ptr<const ToolList> list_;
};
}  // namespace

std::shared_ptr<ToolSource> single_tool_source(const config::ToolSpec& spec,
                                               std::string description,
                                               std::string input_schema_json,
                                               std::unique_ptr<ToolExecutor> executor) {
  ToolEntry entry;
  entry.name = spec.name;
  entry.function_name = function_name_of(spec.name);
  entry.description = std::move(description);
  entry.input_schema_json = std::move(input_schema_json);
  entry.target = spec.name;
  entry.timeout = spec.timeout;
  return std::make_shared<StaticSource>(std::move(entry), std::move(executor));
}

}  // namespace sluice::tools
