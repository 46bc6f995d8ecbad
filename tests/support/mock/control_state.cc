#include "tests/support/mock/control_state.h"

namespace sluice::mock {

std::optional<Behavior> ControlState::choose(std::string_view path, std::string_view header_spec,
                                             std::string* error) {
  if (!header_spec.empty()) return parse_behavior(header_spec, defaults_, error);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (path.substr(0, it->path_prefix.size()) != it->path_prefix) continue;
    Behavior b = it->behavior;
    if (it->remaining > 0 && --it->remaining == 0) rules_.erase(it);
    return b;
  }
  return defaults_;
}

bool ControlState::add_rule(std::string_view json_body, std::string* error) {
  auto body = test::Json::parse(json_body);
  if (!body || !body->is_object() || !(*body)["behavior"].is_string()) {
    *error = "expected {\"behavior\": \"<spec>\", \"count\": N, \"path\": \"/prefix\"}";
    return false;
  }
  auto behavior = parse_behavior((*body)["behavior"].str(), defaults_, error);
  if (!behavior) return false;
  int64_t count = (*body)["count"].is_number() ? (*body)["count"].as_int() : 1;
  if (count == 0) return true;  // "for the next 0 requests": nothing to do
  if (rules_.size() >= kMaxRules) {
    *error = "too many queued rules";
    return false;
  }
  rules_.push_back({std::move(*behavior), count, (*body)["path"].str()});
  return true;
}

void ControlState::reset() {
  rules_.clear();
  recorded_.clear();
}

void ControlState::record(test::Json request) {
  if (recorded_.size() == kMaxRecorded) recorded_.pop_front();
  recorded_.push_back(std::move(request));
}

test::Json ControlState::recorded() const {
  test::Json all = test::Json::array();
  for (const test::Json& r : recorded_) all.push_back(r);
  return all;
}

}  // namespace sluice::mock
