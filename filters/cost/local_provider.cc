#include "filters/cost/local_provider.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

namespace sluice::filters::cost {

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  // Only a dotted-quad IPv4 literal is an address here; a name like "127.example.com" is not.
  const std::string text(host);  // config load only (the filter caches the answer per provider)
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

bool is_local_provider(const config::Provider& provider) {
  if (provider.type == "mock") return true;
  return provider.type == "openai" && is_loopback_host(provider.url.host);
}

}  // namespace sluice::filters::cost
