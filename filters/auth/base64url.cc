#include "filters/auth/base64url.h"

#include <array>
#include <cstdint>

namespace sluice::filters::auth {

namespace {

constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < kAlphabet.size(); ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint8_t>(i);
  return table;
}

constexpr std::array<uint8_t, 256> kTable = make_table();

}  // namespace

ptrdiff_t base64url_decode(std::string_view in, unsigned char* out) {
  if (in.size() % 4 == 1) return -1;
  size_t written = 0;
  uint32_t bits = 0;  // accumulated 6-bit groups, oldest highest
  int count = 0;      // bits held in `bits`
  for (char c : in) {
    uint8_t v = kTable[static_cast<unsigned char>(c)];
    if (v == kInvalid) return -1;
    bits = (bits << 6) | v;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[written++] = static_cast<unsigned char>(bits >> count);
      bits &= (1u << count) - 1;
    }
  }
  // 2 or 4 bits may be left over at the end of a partial group; they must be zero.
  if (bits != 0) return -1;
  return static_cast<ptrdiff_t>(written);
}

}  // namespace sluice::filters::auth
