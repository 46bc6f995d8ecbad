// PriceTable: physical model name → Price (USD per 1M tokens), built at config load and
// immutable after; lookup() runs per request and allocates nothing.
//
// lookup(model) tries, in order, and returns the first hit:
//   1. the exact name:                         "gpt-4o"                      → gpt-4o
//   2. the name without a "provider/" prefix   "openai/gpt-4o"               → gpt-4o
//      (everything up to the first '/'):       "models/gemini-2.5-flash"     → gemini-2.5-flash
//   3. the longest key K such that the name (prefix removed as in 2) is K + "-" + anything —
//      dated and versioned names:              "gpt-4o-2024-08-06"           → gpt-4o
//                                              "claude-sonnet-4-5-20250929"  → claude-sonnet-4-5
//                                              "gpt-4o-mini-2024-07-18"      → gpt-4o-mini
//                                                (not gpt-4o: the longest key wins)
// Names are compared case-sensitively ("GPT-4o" is not "gpt-4o"); nothing else is guessed.
// A miss returns null: the caller decides (the cost filter charges 0 and warns once).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/cost/price.h"

namespace sluice::cost {

class PriceTable {
 public:
  // Adds or replaces the price of `model` (an override replaces the whole entry).
  void set(std::string model, const Price& price);
  // Every entry of `other` replaces this table's entry of the same name.
  void override_with(const PriceTable& other);

  // See the rules above; null when no rule matches.
  const Price* lookup(std::string_view model) const;
  // Rule 1 only.
  const Price* exact(std::string_view model) const;

  size_t size() const { return prices_.size(); }
  bool empty() const { return prices_.empty(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Price, Hash, std::equal_to<>> prices_;
};

}  // namespace sluice::cost
