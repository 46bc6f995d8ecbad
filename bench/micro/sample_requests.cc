#include "bench/micro/sample_requests.h"

namespace sluice::bench {
namespace {

std::string message(const char* role, const std::string& content) {
  return std::string(R"({"role":")") + role + R"(","content":")" + content + R"("})";
}

std::string filler(size_t bytes) {
  static const std::string kWords =
      "The agent read the project file, listed the open issues and drafted a plan. ";
  std::string out;
  while (out.size() < bytes) out += kWords;
  out.resize(bytes);
  return out;
}

}  // namespace

std::string sdk_request_head(size_t content_length) {
  return "POST /v1/chat/completions HTTP/1.1\r\n"
         "Host: 127.0.0.1:8080\r\n"
         "Accept: application/json\r\n"
         "Content-Type: application/json\r\n"
         "User-Agent: OpenAI/JS 6.49.0\r\n"
         "X-Stainless-Lang: js\r\n"
         "X-Stainless-Package-Version: 6.49.0\r\n"
         "X-Stainless-OS: Linux\r\n"
         "X-Stainless-Arch: x64\r\n"
         "X-Stainless-Runtime: node\r\n"
         "X-Stainless-Runtime-Version: v20.19.2\r\n"
         "Authorization: Bearer " +
         std::string(kAgentKey) +
         "\r\n"
         "X-Stainless-Retry-Count: 0\r\n"
         "X-Stainless-Timeout: 600\r\n"
         "Content-Length: " +
         std::to_string(content_length) +
         "\r\n"
         "Accept-Encoding: gzip,deflate\r\n"
         "Connection: keep-alive\r\n"
         "\r\n";
}

std::string small_body() {
  return R"({"model":"fast","messages":[)" + message("user", "Say hello in one word.") +
         R"(],"max_tokens":16})";
}

std::string agent_body() {
  std::string tools =
      R"([{"type":"function","function":{"name":"projects_list","description":"List the projects)"
      R"( of a microdao","parameters":{"type":"object","properties":{"microdao_id":{"type":)"
      R"("string"}},"required":["microdao_id"]}}},{"type":"function","function":{"name":)"
      R"("issue_create","description":"Open an issue","parameters":{"type":"object",)"
      R"("properties":{"title":{"type":"string"},"body":{"type":"string"}},"required":["title"]}}}])";
  return R"({"model":"fast","messages":[)" + message("system", filler(1800)) + "," +
         message("user", filler(600)) + "," + message("assistant", filler(700)) + "," +
         message("user", filler(400)) + R"(],"tools":)" + tools +
         R"(,"temperature":0.2,"stream":true,"stream_options":{"include_usage":true}})";
}

std::string large_body() {
  std::string body = R"({"messages":[)";
  for (int i = 0; i < 64; ++i) {
    if (i > 0) body += ",";
    body += message(i % 2 ? "assistant" : "user", filler(1000));
  }
  return body + R"(],"max_tokens":1024,"model":"fast"})";
}

}  // namespace sluice::bench
