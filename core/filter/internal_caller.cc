#include "core/filter/internal_caller.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <mutex>
#include <random>

#include "core/filter/request_context.h"
#include "core/http/request.h"

namespace sluice::filter {
namespace {

constexpr size_t kSecretBytes = 32;

// 64 hex digits, made once per process.
const std::string& secret() {
  static const std::string value = [] {
    unsigned char bytes[kSecretBytes];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
      // OpenSSL's generator failed (no entropy source): fall back to the OS's.
      std::random_device rd;
      for (auto& b : bytes) b = static_cast<unsigned char>(rd());
    }
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
      out.push_back(digits[b >> 4]);
      out.push_back(digits[b & 15]);
    }
    return out;
  }();
  return value;
}

struct Origin {
  std::mutex mutex;
  std::string listen;  // configured address
  std::string url;     // http://host:port
};

Origin& origin() {
  static Origin* o = new Origin();  // never destroyed: workers may read it during exit
  return *o;
}

}  // namespace

std::string internal_caller_credential(std::string_view agent) {
  std::string value = secret();
  value.push_back(' ');
  value.append(agent);
  return value;
}

std::string internal_caller_origin() {
  Origin& o = origin();
  std::lock_guard<std::mutex> lock(o.mutex);
  return o.url;
}

std::string internal_caller_listen() {
  Origin& o = origin();
  std::lock_guard<std::mutex> lock(o.mutex);
  return o.listen;
}

void set_internal_caller_origin(std::string_view listen, std::string_view host, uint16_t port) {
  std::string reachable(host);
  if (reachable.empty() || reachable == "0.0.0.0") reachable = "127.0.0.1";
  if (reachable == "::") reachable = "::1";
  if (reachable.find(':') != std::string::npos && reachable.front() != '[') {
    reachable = "[" + reachable + "]";  // IPv6
  }
  Origin& o = origin();
  std::lock_guard<std::mutex> lock(o.mutex);
  o.listen.assign(listen);
  o.url = "http://" + reachable + ":" + std::to_string(port);
}

void take_internal_caller(http::HttpRequest& request, RequestContext& ctx) {
  auto value = request.header(kInternalCallerHeader);
  if (!value) return;
  const std::string& ours = secret();
  std::string_view v = *value;
  if (v.size() > ours.size() && v[ours.size()] == ' ' &&
      CRYPTO_memcmp(v.data(), ours.data(), ours.size()) == 0) {
    ctx.internal_call = true;
    ctx.internal_agent.assign(v.substr(ours.size() + 1));
  }
  request.remove_header(kInternalCallerHeader);  // also every other copy
}

}  // namespace sluice::filter
