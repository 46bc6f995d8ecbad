#include "tests/support/mock/reply_text.h"

namespace sluice::mock {

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  auto blank = [](char c) { return c == ' ' || c == '\n' || c == '\t'; };
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && blank(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !blank(text[i])) ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

int count_tokens(std::string_view text) {
  const size_t n = split_words(text).size();
  return n > 0 ? static_cast<int>(n) : 1;
}

std::string reply_text(std::string_view model, std::string_view user_text, uint32_t pad_bytes) {
  std::string text = "[" + std::string(model) + "] ";
  text += user_text.empty() ? std::string_view("hello") : user_text;
  static const std::string kWord = " " + std::string(63, 'p');
  for (uint32_t added = 0; added < pad_bytes; added += kWord.size()) text += kWord;
  return text;
}

std::vector<std::string> stream_pieces(std::string_view text, int chunks) {
  std::vector<std::string> pieces;
  for (const std::string& word : split_words(text)) {
    pieces.push_back(pieces.empty() ? word : " " + word);
  }
  if (pieces.empty()) pieces.emplace_back("(empty)");
  if (chunks <= 0) return pieces;
  const size_t want = static_cast<size_t>(chunks);
  while (pieces.size() > want) {
    pieces[pieces.size() - 2] += pieces.back();
    pieces.pop_back();
  }
  while (pieces.size() < want) pieces.push_back(" more");
  return pieces;
}

}  // namespace sluice::mock
