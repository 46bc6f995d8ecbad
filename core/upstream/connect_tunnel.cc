#include "core/upstream/connect_tunnel.h"

#include <algorithm>
#include <cctype>

namespace sluice::upstream {

std::string connect_request(const std::string& host, uint16_t port,
                            const std::string& authorization) {
  const bool v6 = host.find(':') != std::string::npos;
  const std::string authority =
      (v6 ? "[" + host + "]" : host) + ":" + std::to_string(static_cast<unsigned>(port));
  std::string out = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!authorization.empty()) out += "Proxy-Authorization: " + authorization + "\r\n";
  out += "\r\n";
  return out;
}

TunnelReply::Result TunnelReply::feed(const char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  const size_t before = head_.size();
  const size_t take = std::min(len, kMaxHeadBytes - before);
  head_.append(data, take);
  // The blank line may straddle two reads: search from a little before the new bytes.
  const size_t from = before >= 3 ? before - 3 : 0;
  const size_t end = head_.find("\r\n\r\n", from);
  if (end == std::string::npos) {
    return head_.size() >= kMaxHeadBytes ? Result::TooLarge : Result::NeedMore;
  }
  const size_t head_len = end + 4;
  *consumed = head_len - before;
  if (!parse_status_line()) return Result::Malformed;
  return status_ >= 200 && status_ < 300 ? Result::Established : Result::Refused;
}

// "HTTP/1.1 407 Proxy Authentication Required"
bool TunnelReply::parse_status_line() {
  const size_t eol = head_.find("\r\n");
  const std::string line = head_.substr(0, eol);
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(line[9])) ||
      !std::isdigit(static_cast<unsigned char>(line[10])) ||
      !std::isdigit(static_cast<unsigned char>(line[11])) ||
      (line.size() > 12 && line[12] != ' ')) {
    return false;
  }
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  reason_ = line.size() > 13 ? line.substr(13, 128) : std::string();
  // The reason goes into an error message: keep it printable.
  for (char& c : reason_) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return true;
}

}  // namespace sluice::upstream
