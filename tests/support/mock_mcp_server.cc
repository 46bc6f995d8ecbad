#include "tests/support/mock_mcp_server.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "tests/support/http_client.h"

namespace sluice::test {

using namespace std::chrono_literals;

MockMcpServer::MockMcpServer(const std::string& binary, std::vector<std::string> extra_args,
                             uint16_t port) {
  std::vector<std::string> argv = {binary, "--port", std::to_string(port)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = Process::start(argv, dir_.file("mock_mcp"));
  if (!process_) {
    ADD_FAILURE() << "cannot start the mock MCP server " << binary;
    return;
  }
  auto line = process_->wait_for_line(Process::Stream::Stdout,
                                      std::regex(R"(listening on [0-9.]+:(\d+))"), 10s);
  if (!line) {
    ADD_FAILURE() << "the mock MCP server did not report its port: " << process_->describe();
    return;
  }
  port_ = static_cast<uint16_t>(std::stoi((*line)[1]));
}

MockMcpServer::~MockMcpServer() = default;

std::string MockMcpServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/mcp";
}

bool MockMcpServer::control(const std::string& control) {
  HttpClient client(port_);
  auto r = client.post_json("/__control", control);
  return r && r->status == 200;
}

bool MockMcpServer::fault(const std::string& spec, const std::string& method, int count) {
  Json c = Json::object();
  c.set("fault", spec);
  c.set("count", count);
  if (!method.empty()) c.set("method", method);
  return control(c.dump());
}

bool MockMcpServer::drop_sessions() {
  return control(R"({"drop_sessions":true})");
}

bool MockMcpServer::add_tool(const std::string& name, const std::string& via) {
  Json tool = Json::object();
  tool.set("name", name);
  tool.set("description", "added at run time");
  Json c = Json::object();
  c.set("add_tool", tool);
  c.set("notify", via);
  return control(c.dump());
}

bool MockMcpServer::remove_tool(const std::string& name, const std::string& via) {
  Json c = Json::object();
  c.set("remove_tool", name);
  c.set("notify", via);
  return control(c.dump());
}

bool MockMcpServer::go_down(uint32_t ms) {
  Json c = Json::object();
  c.set("down_ms", static_cast<int64_t>(ms));
  return control(c.dump());
}

bool MockMcpServer::reset() {
  HttpClient client(port_);
  auto r = client.post_json("/__reset", "");
  return r && r->status == 200;
}

std::optional<Json> MockMcpServer::stats() {
  HttpClient client(port_);
  client.set_timeout(5s);
  auto r = client.get("/__stats");
  if (!r || r->status != 200) return std::nullopt;
  return r->json();
}

int64_t MockMcpServer::count(const std::string& key) {
  auto s = stats();
  return s ? (*s)["counts"][key].as_int() : 0;
}

std::optional<Json> MockMcpServer::requests() {
  HttpClient client(port_);
  auto r = client.get("/__requests");
  if (!r || r->status != 200) return std::nullopt;
  return r->json();
}

bool MockMcpServer::stop() {
  if (!process_) return true;
  process_->signal(SIGTERM);
  return process_->wait_exit(10s).has_value();
}

}  // namespace sluice::test
