#include "filters/not_active/not_active.h"

#include <string_view>

#include "core/log/log.h"

namespace sluice::filters::not_active {

namespace {

class PassThroughFilter final : public filter::Filter {};  // every phase: the default no-op

class PassThroughFactory final : public filter::FilterFactory {
 public:
  explicit PassThroughFactory(const char* type) : type_(type) {}
  std::string_view name() const override { return type_; }
  filter::Filter* create(filter::RequestContext&) const override { return filter_.get(); }

 private:
  const char* type_;
  std::unique_ptr<PassThroughFilter> filter_ = std::make_unique<PassThroughFilter>();
};

}  // namespace

std::unique_ptr<filter::FilterFactory> accept_inactive(const config::NodeReader& reader,
                                                       const char* type) {
  std::string message;
  config::SourceMark mark = reader.mark();
  if (!mark.file.empty()) {
    message += mark.file;
    if (mark.line > 0)
      message += ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
    message += ": ";
  }
  if (!reader.path().empty()) message += reader.path() + ": ";
  message += std::string("filter \"") + type +
             "\" is not active yet in this version; it is accepted and ignored";
  log::warn(message);
  return std::make_unique<PassThroughFactory>(type);
}

void check_each_one_of(config::NodeReader& reader, const char* key,
                       const std::vector<std::string>& values,
                       const std::vector<std::string>& allowed) {
  for (const std::string& value : values) {
    bool ok = false;
    for (const std::string& a : allowed) ok = ok || a == value;
    if (ok) continue;
    std::string message = "unknown value \"" + value + "\"";
    if (auto guess = config::did_you_mean(value, allowed)) {
      message += " (did you mean \"" + *guess + "\"?)";
    }
    message += "; expected one of:";
    for (size_t i = 0; i < allowed.size(); ++i) message += (i ? ", " : " ") + allowed[i];
    reader.fail(key, message);
  }
}

}  // namespace sluice::filters::not_active
