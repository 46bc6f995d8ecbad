// For integration test files only: where the binaries under test are (macros set per test by
// tests/CMakeLists.txt) and one-line starters for the usual mock + sluice pair.
#pragma once

#ifndef SLUICE_BINARY
#error "integration tests get SLUICE_BINARY from tests/CMakeLists.txt"
#endif
#ifndef SLUICE_MOCK_PROVIDER
#error "integration tests get SLUICE_MOCK_PROVIDER from tests/CMakeLists.txt"
#endif

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <cstdlib>
#include "tests/support/agent_key.h"
#include "tests/support/gateway_config.h"
#include "tests/support/http_client.h"
#include "tests/support/json.h"
#include "tests/support/mock_provider.h"
#include "tests/support/process.h"

#include "tests/support/sluice_server.h"
#include "tests/support/temp_dir.h"

namespace sluice::test {

// The sluice under test: the one built next to the tests, unless SLUICE_TEST_SLUICE_BINARY
// names another (scripts/test.sh runs the integration tests against the ASan + UBSan build).
inline std::string sluice_binary() {
  const char* other = std::getenv("SLUICE_TEST_SLUICE_BINARY");
  return other != nullptr && other[0] != '\0' ? other : SLUICE_BINARY;
}
inline std::string mock_provider_binary() {
  return SLUICE_MOCK_PROVIDER;
}
#ifdef SLUICE_MOCK_MCP
// The mock MCP server (tests/support/mock_mcp_server.h).
inline std::string mock_mcp_binary() {
  return SLUICE_MOCK_MCP;
}
#endif

inline Headers bearer(const std::string& key) {
  return {{"Authorization", "Bearer " + key}};
}

// {"model": <model>, "messages": [{"role": "user", "content": <text>}]} (+ stream flags).
inline std::string chat_body(const std::string& model, const std::string& text,
                             bool stream = false) {
  Json message = Json::object();
  message.set("role", "user");
  message.set("content", text);
  Json body = Json::object();
  body.set("model", model);
  body.set("messages", Json::array().push_back(message));
  if (stream) body.set("stream", true);
  return body.dump();
}

// An Anthropic Messages request: {"model", "max_tokens": 256, "messages": [{"role": "user",
// "content": text}]} (+ "stream": true).
inline std::string messages_body(const std::string& model, const std::string& text,
                                 bool stream = false) {
  Json body = Json::parse(chat_body(model, text, stream)).value();
  body.set("max_tokens", 256);
  return body.dump();
}

// The response is an OpenAI-shaped error (DESIGN §5): `status`, a JSON body
// {"error": {"message": non-empty, "type", "code", ...}} whose type or code is
// `type_or_code` (the §5 table names one of the two per row; "" = any).
inline ::testing::AssertionResult is_openai_error(const std::optional<HttpResponse>& r, int status,
                                                  const std::string& type_or_code = "") {
  if (!r) return ::testing::AssertionFailure() << "no response";
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure() << why << "\ngot: " << r->describe();
  };
  if (r->status != status) return fail("expected status " + std::to_string(status));
  auto body = r->json();
  if (!body) return fail("body is not JSON");
  const Json& error = (*body)["error"];
  if (!error.is_object()) return fail("body has no \"error\" object");
  if (error["message"].str().empty()) return fail("error.message is empty");
  if (!type_or_code.empty() && error["type"].str() != type_or_code &&
      error["code"].str() != type_or_code)
    return fail("expected error.type or error.code \"" + type_or_code + "\"");
  if (r->header("content-type").find("application/json") == std::string::npos)
    return fail("content-type is not application/json");
  return ::testing::AssertionSuccess();
}

// True when some string anywhere in `j` (keys excluded) equals `value`.
inline bool contains_string_value(const Json& j, const std::string& value) {
  if (j.is_string()) return j.str() == value;
  for (const Json& item : j.items())
    if (contains_string_value(item, value)) return true;
  for (const auto& [k, v] : j.members())
    if (contains_string_value(v, value)) return true;
  return false;
}

// True when some object anywhere in `j` has a key containing `fragment`.
inline bool contains_key(const Json& j, const std::string& fragment) {
  for (const Json& item : j.items())
    if (contains_key(item, fragment)) return true;
  for (const auto& [k, v] : j.members())
    if (k.find(fragment) != std::string::npos || contains_key(v, fragment)) return true;
  return false;
}

// The last API request the mock received (null when none).
inline Json last_upstream_request(MockProvider& mock) {
  auto all = mock.requests();
  if (!all || all->size() == 0) return Json();
  return (*all)[all->size() - 1];
}

// A loopback port nothing listens on (bound once to learn a free number, then released): a
// provider that is down.
inline uint16_t unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A non-loopback IPv4 address of this machine ("" when it has none): for a provider sluice
// must not take for a local one (the cost filter prices loopback providers' models at 0).
inline std::string non_loopback_ipv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr) found = text;
  }
  freeifaddrs(list);
  return found;
}

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns its last value.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace sluice::test
