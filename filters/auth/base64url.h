// base64url without padding (RFC 4648 §5), the encoding of every part of a JWT (RFC 7515 §2).
#pragma once

#include <cstddef>
#include <string_view>

namespace sluice::filters::auth {

// The decoded size of `encoded` bytes of unpadded base64url (an upper bound when the input is
// invalid).
constexpr size_t base64url_decoded_size(size_t encoded) {
  return encoded / 4 * 3 + (encoded % 4 == 0 ? 0 : encoded % 4 - 1);
}

// Decodes `in` into `out` (room for base64url_decoded_size(in.size()) bytes) and returns the
// decoded length, or -1 when `in` is not canonical unpadded base64url: a character outside
// A-Z a-z 0-9 - _ (so also '=' padding and standard base64's + and /), a length of 4n+1, or
// non-zero bits left over in the last character. Refusing the non-canonical forms means one
// token has exactly one spelling.
ptrdiff_t base64url_decode(std::string_view in, unsigned char* out);

}  // namespace sluice::filters::auth
