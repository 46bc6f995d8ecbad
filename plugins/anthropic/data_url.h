// Base64 data: URLs (RFC 2397), the way OpenAI carries an inline image
// ("data:image/png;base64,iVBOR...") where Anthropic carries {media_type, data}.
#pragma once

#include <string>
#include <string_view>

namespace anthropic {

struct Base64Data {
  std::string_view media_type;  // "image/png"
  std::string_view data;        // the base64 text, not decoded (both APIs want it encoded)
};

// Splits "data:<media type>[;param...];base64,<data>". False for anything else: another
// scheme, no media type, or data that is not declared base64 (Anthropic takes base64 only).
// The views point into `url`.
bool parse_base64_data_url(std::string_view url, Base64Data& out);

// "data:<media type>;base64,<data>".
std::string make_base64_data_url(std::string_view media_type, std::string_view data);

}  // namespace anthropic
