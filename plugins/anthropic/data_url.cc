#include "anthropic/data_url.h"

namespace anthropic {

bool parse_base64_data_url(std::string_view url, Base64Data& out) {
  constexpr std::string_view kScheme = "data:", kBase64 = ";base64";
  if (!url.starts_with(kScheme)) return false;
  url.remove_prefix(kScheme.size());
  const size_t comma = url.find(',');
  if (comma == std::string_view::npos) return false;
  std::string_view header = url.substr(0, comma);
  if (!header.ends_with(kBase64)) return false;
  header.remove_suffix(kBase64.size());
  out.media_type = header.substr(0, header.find(';'));  // parameters (charset=...) dropped
  out.data = url.substr(comma + 1);
  return !out.media_type.empty();
}

std::string make_base64_data_url(std::string_view media_type, std::string_view data) {
  std::string url;
  url.reserve(5 + media_type.size() + 8 + data.size());
  url.append("data:").append(media_type).append(";base64,").append(data);
  return url;
}

}  // namespace anthropic
