// What tests steer and inspect in the mock provider, independent of sockets: the queue of
// behaviour rules set through POST /__control, the ring of recently received requests served
// by GET /__requests, and a few counters served by GET /__stats.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "tests/support/json.h"
#include "tests/support/mock/behavior.h"

namespace sluice::mock {

class ControlState {
 public:
  static constexpr size_t kMaxRecorded = 100;           // ring bound of /__requests
  static constexpr size_t kMaxRecordedBody = 64 << 10;  // a recorded body is cut here
  static constexpr size_t kMaxRules = 1000;

  explicit ControlState(Behavior defaults) : defaults_(std::move(defaults)) {}

  // The behaviour for one API request. An `x-mock-behavior` header value (non-empty
  // `header_spec`) wins and leaves the rules untouched; otherwise the first queued rule whose
  // path prefix matches is used and its count decremented. nullopt only for a bad header spec
  // (`error` says why).
  std::optional<Behavior> choose(std::string_view path, std::string_view header_spec,
                                 std::string* error);

  // POST /__control: {"behavior": "<spec>", "count": N (default 1; negative = forever),
  // "path": "/v1/chat/completions" (optional prefix)}. Rules queue up in arrival order.
  bool add_rule(std::string_view json_body, std::string* error);

  // POST /__reset: forget rules and recorded requests (counters stay).
  void reset();

  // Keeps {seq, method, path, headers{lowercase name: value}, body, behavior, reply_status,
  // reply_body} (oldest dropped). reply_body is the body the reply carries — the SSE events
  // joined for a stream — before any cut the behaviour makes; bodies cut at kMaxRecordedBody.
  void record(test::Json request);
  test::Json recorded() const;

  uint64_t next_sequence() { return ++requests_total_; }
  uint64_t requests_total() const { return requests_total_; }

 private:
  struct Rule {
    Behavior behavior;
    int64_t remaining;  // < 0: forever
    std::string path_prefix;
  };

  Behavior defaults_;
  std::deque<Rule> rules_;
  std::deque<test::Json> recorded_;
  uint64_t requests_total_ = 0;
};

}  // namespace sluice::mock
