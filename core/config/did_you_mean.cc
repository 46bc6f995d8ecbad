// did_you_mean: the suggestion in `unknown key "conect" (did you mean "connect"?)`.
// Optimal-string-alignment distance (insert, delete, substitute, swap two neighbours), case
// ignored; a suggestion is only made when the distance is small for the word's length, so a
// key that is simply wrong gets the list of valid keys instead of a silly guess.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "core/config/node_reader.h"

namespace sluice::config {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  // Three rows are enough for the transposition rule (row i-2 is consulted).
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    before.swap(previous);
    previous.swap(current);
  }
  return previous[b.size()];
}

// How many edits still look like a typo: one for short words, up to three for long ones.
size_t plausible_edits(size_t length) {
  if (length <= 4) return 1;
  if (length <= 8) return 2;
  return 3;
}

}  // namespace

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  const std::string needle = lower(word);
  std::optional<std::string> best;
  size_t best_distance = plausible_edits(needle.size()) + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = edit_distance(needle, lower(candidate));
    if (distance < best_distance && distance < std::max(needle.size(), candidate.size())) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace sluice::config
