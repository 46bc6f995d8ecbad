#include "tests/support/mock/tool_endpoint.h"

#include "tests/support/json.h"

namespace sluice::mock {

using sluice::test::Json;

bool is_tool_path(std::string_view path) {
  return path.starts_with("/tools/") && path.size() > 7;
}

Reply tool_endpoint_reply(std::string_view method, std::string_view path, std::string_view body) {
  const std::string_view name = path.substr(7);
  Reply r;
  if (name == "text") {
    r.content_type = "text/plain; charset=utf-8";
    r.body = "echo: " + std::string(body);
    return r;
  }
  if (name == "big") {
    r.body = "{\"data\":\"" + std::string(size_t{2} << 20, 'x') + "\"}";
    return r;
  }
  Json out = Json::object();
  out.set("tool", std::string(name));
  out.set("method", std::string(method));
  auto arguments = body.empty() ? std::nullopt : Json::parse(body);
  out.set("arguments", arguments ? *arguments : Json());
  r.body = out.dump();
  return r;
}

}  // namespace sluice::mock
