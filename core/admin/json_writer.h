// JsonWriter: builds the admin API's JSON bodies in one string, inserting commas itself so
// callers write values in order without bookkeeping. Not for the request path (allocates).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::admin {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // The next value belongs to this key (inside an object).
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view s);
  JsonWriter& boolean(bool b);
  JsonWriter& integer(int64_t n);
  JsonWriter& unsigned_integer(uint64_t n);
  JsonWriter& number(double d);  // non-finite → null (JSON has no NaN/Inf)
  JsonWriter& null();
  // A point in time as every admin document writes it: "2025-01-02T03:04:05.678Z" (UTC).
  JsonWriter& time(std::chrono::system_clock::time_point t);
  // A value that is already valid JSON text.
  JsonWriter& raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();

  std::string out_;
  std::vector<bool> has_items_;  // per open container: a value was written (comma needed)
  bool after_key_ = false;
};

}  // namespace sluice::admin
