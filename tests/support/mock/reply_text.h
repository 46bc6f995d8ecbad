// The text the mock provider answers with, whatever API shape carries it: "[<model>] <the last
// user text>" (so a test sees the physical model and the prompt that reached the provider),
// padded on request, counted as one token per word and cut into stream pieces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::mock {

std::vector<std::string> split_words(std::string_view text);

// One "token" per word, at least 1.
int count_tokens(std::string_view text);

// "[<model>] <user_text>" ("hello" when empty), then `pad_bytes` of 64-byte filler words.
std::string reply_text(std::string_view model, std::string_view user_text, uint32_t pad_bytes);

// `text` in stream pieces: one per word (the first without its leading space; "(empty)" when
// it has none), or exactly `chunks` when > 0 (the tail merged into the last piece, or " more"
// pieces added).
std::vector<std::string> stream_pieces(std::string_view text, int chunks);

}  // namespace sluice::mock
