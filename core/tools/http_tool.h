// The `http` tool executor (DESIGN §4 tools.*: url, method, headers, timeout, max_response):
// one HTTP request per call, from the calling worker's HttpCaller (keep-alive pools, TLS,
// a deadline of its own). POST/PUT/PATCH send the arguments as the JSON body; GET and DELETE
// as a query string (each top-level argument key=value, URL-encoded; an array repeats its key,
// an object travels as JSON text). The tool also gets x-request-id and x-sluice-agent, so it
// can tell who calls; the entry's headers (secrets) are sent to it and never shown to agents.
//
// What the answer becomes (CallStatus rules in tool_call.h):
//   2xx                    → Ok: the body (json = true when it is JSON: a JSON content type,
//                            or a body that parses as JSON)
//   any other status       → ToolError "HTTP 503: <start of the body>"
//   no answer in time      → Timeout; a body over max_response, connect/reset → Unavailable
#pragma once

#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/tools/tool_call.h"

namespace sluice::tools {

class HttpToolExecutor final : public ToolExecutor {
 public:
  explicit HttpToolExecutor(const config::ToolSpec& spec);
  std::unique_ptr<PendingCall> start(const CallContext& ctx, CallSink& sink,
                                     CallResult& failed) const override;

  // The query string GET/DELETE send: "a=1&b=x%20y" (no leading '?'); exposed for tests.
  static std::string query_of(std::string_view arguments_json);

 private:
  std::string name_;
  std::string url_;
  std::string method_;
  std::vector<std::pair<std::string, std::string>> headers_;
  uint64_t max_response_;
  bool args_in_query_;
};

struct ToolBuildInputs;
class ToolSource;
// The "http" type's builder (registered by core_tool_types.cc).
std::shared_ptr<ToolSource> build_http_tool(const ToolBuildInputs& in);

}  // namespace sluice::tools
