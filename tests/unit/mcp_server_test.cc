// sluice's own /mcp: reading JSON-RPC messages (DESIGN §5 "Tools"), the session table, and the
// reply shapes MCP clients read; plus the tool names and globs agents' allow-lists use.
#include <gtest/gtest.h>

#include "core/config/name_glob.h"
#include "core/mcp/mcp_server_message.h"
#include "core/mcp/mcp_server_replies.h"
#include "core/mcp/mcp_session_table.h"
#include "core/tools/http_tool.h"
#include "core/tools/openai_tools.h"
#include "core/tools/tool_source.h"

namespace sluice::mcp {
namespace {

TEST(McpMessage, ToolsCallKeepsIdNameAndArguments) {
  McpMessage m = read_mcp_message(
      R"({"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"x.y","arguments":{"k":[1,2]}}})");
  ASSERT_EQ(m.kind, MessageKind::Request);
  EXPECT_EQ(m.id, "\"a-1\"");
  EXPECT_EQ(m.tool_name, "x.y");
  EXPECT_EQ(m.arguments, R"({"k":[1,2]})");
}

TEST(McpMessage, ArgumentsDefaultToAnEmptyObject) {
  McpMessage m =
      read_mcp_message(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"t"}})");
  ASSERT_EQ(m.kind, MessageKind::Request);
  EXPECT_EQ(m.id, "3");
  EXPECT_EQ(m.arguments, "{}");
}

TEST(McpMessage, KindsOfMessages) {
  EXPECT_EQ(read_mcp_message(R"({"jsonrpc":"2.0","method":"notifications/initialized"})").kind,
            MessageKind::Notification);
  EXPECT_EQ(read_mcp_message(R"({"jsonrpc":"2.0","id":1,"result":{}})").kind,
            MessageKind::Response);
  McpMessage init = read_mcp_message(
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})");
  EXPECT_EQ(init.protocol_version, "2025-06-18");
}

TEST(McpMessage, MalformedMessagesSayWhy) {
  struct Case {
    const char* body;
    int code;
    const char* id;
  } cases[] = {
      {"not json", rpc_error::kParseError, "null"},
      {R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", rpc_error::kInvalidRequest, "null"},
      {R"("ping")", rpc_error::kInvalidRequest, "null"},
      {R"({"id":1,"method":"ping"})", rpc_error::kInvalidRequest, "1"},
      {R"({"jsonrpc":"1.0","id":1,"method":"ping"})", rpc_error::kInvalidRequest, "1"},
      {R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})", rpc_error::kInvalidRequest, "null"},
      {R"({"jsonrpc":"2.0","id":2,"method":7})", rpc_error::kInvalidRequest, "2"},
      {R"({"jsonrpc":"2.0","id":2})", rpc_error::kInvalidRequest, "2"},
      {R"({"jsonrpc":"2.0","id":2,"method":"tools/call"})", rpc_error::kInvalidParams, "2"},
      {R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":""}})",
       rpc_error::kInvalidParams, "2"},
      {R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","arguments":[1]}})",
       rpc_error::kInvalidParams, "2"},
      {R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":[1]})", rpc_error::kInvalidParams,
       "2"},
  };
  for (const Case& c : cases) {
    McpMessage m = read_mcp_message(c.body);
    EXPECT_EQ(m.kind, MessageKind::Invalid) << c.body;
    EXPECT_EQ(m.error_code, c.code) << c.body;
    EXPECT_EQ(m.id, c.id) << c.body;
    EXPECT_FALSE(m.error_message.empty()) << c.body;
  }
}

TEST(McpSessions, BoundToTheirAgentAndExpire) {
  McpSessionTable table;
  const auto t0 = McpSessionTable::Clock::now();
  const std::string id = table.create("alice", "2025-06-18", t0);
  EXPECT_EQ(id.size(), 32u);
  EXPECT_NE(id, table.create("alice", "2025-06-18", t0));
  EXPECT_EQ(table.touch(id, "alice", t0).value_or(""), "2025-06-18");
  EXPECT_FALSE(table.touch(id, "bob", t0));
  EXPECT_FALSE(table.remove(id, "bob"));
  // Idle past the limit: gone.
  EXPECT_FALSE(
      table.touch(id, "alice", t0 + McpSessionTable::kIdleLimit + std::chrono::seconds(1)));
  const std::string other = table.create("", "2025-03-26", t0);
  EXPECT_TRUE(table.touch(other, "", t0));
  EXPECT_TRUE(table.remove(other, ""));
  EXPECT_FALSE(table.touch(other, "", t0));
}

TEST(McpSessions, BoundedByEvictingTheLeastRecentlyUsed) {
  McpSessionTable table;
  const auto t0 = McpSessionTable::Clock::now();
  const std::string first = table.create("a", "v", t0);
  const std::string second = table.create("a", "v", t0);
  for (size_t i = 2; i < McpSessionTable::kMaxSessions; ++i) table.create("a", "v", t0);
  ASSERT_TRUE(table.touch(first, "a", t0));  // now the most recent
  table.create("a", "v", t0);                // evicts `second`, the least recent
  EXPECT_EQ(table.size(), McpSessionTable::kMaxSessions);
  EXPECT_TRUE(table.touch(first, "a", t0));
  EXPECT_FALSE(table.touch(second, "a", t0));
}

TEST(McpReplies, ToolResultShapes) {
  tools::CallResult ok{tools::CallStatus::Ok, R"({"a":1})", true, ""};
  EXPECT_EQ(
      tool_result_reply("1", "t", ok),
      R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\"a\":1}"}],"structuredContent":{"a":1},"isError":false}})");
  tools::CallResult array{tools::CallStatus::Ok, "[1]", true, ""};
  EXPECT_EQ(tool_result_reply("1", "t", array).find("structuredContent"), std::string::npos)
      << "structuredContent must be an object";
  tools::CallResult timeout{tools::CallStatus::Timeout, "after 5s", false, ""};
  EXPECT_EQ(
      tool_result_reply("\"x\"", "slow", timeout),
      R"({"jsonrpc":"2.0","id":"x","result":{"content":[{"type":"text","text":"tool slow timed out after 5s"}],"isError":true}})");
  tools::CallResult upstream{tools::CallStatus::Ok, "hi", false,
                             R"([{"type":"image","data":"AA==","mimeType":"image/png"}])"};
  EXPECT_NE(tool_result_reply("1", "t", upstream).find(R"("content":[{"type":"image")"),
            std::string::npos);
}

TEST(McpReplies, ErrorAndInitialize) {
  EXPECT_EQ(rpc_error_reply("null", -32700, "Parse error"),
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})");
  const std::string init = initialize_reply("0", "2025-11-25");
  EXPECT_NE(init.find(R"("protocolVersion":"2025-11-25")"), std::string::npos);
  EXPECT_NE(init.find(R"("serverInfo":{"name":"sluice")"), std::string::npos);
}

}  // namespace
}  // namespace sluice::mcp

namespace sluice::tools {
namespace {

TEST(ToolNames, GlobsAndFunctionNames) {
  EXPECT_TRUE(config::glob_match("memory.*", "memory.store"));
  EXPECT_TRUE(config::glob_match("*", "x"));
  EXPECT_TRUE(config::glob_match("git*.create_?ssue", "github.create_issue"));
  EXPECT_FALSE(config::glob_match("memory.*", "memoryx"));
  EXPECT_FALSE(config::glob_match("memory.store", "memory.query"));
  EXPECT_EQ(function_name_of("github.create_issue"), "github_create_issue");
}

TEST(HttpTool, QueryStringOfArguments) {
  EXPECT_EQ(
      HttpToolExecutor::query_of(R"({"q":"a b&c","n":2,"ok":true,"t":["x","y"],"o":{"k":1}})"),
      "q=a%20b%26c&n=2&ok=true&t=x&t=y&o=%7B%22k%22%3A1%7D");
  EXPECT_EQ(HttpToolExecutor::query_of("{}"), "");
}

TEST(OpenAiTools, RestBodies) {
  CallResult text{CallStatus::Ok, "he said \"hi\"", false, ""};
  EXPECT_EQ(rest_result_body(text), R"({"result":"he said \"hi\""})");
  CallResult json{CallStatus::Ok, R"({"n":1})", true, ""};
  EXPECT_EQ(rest_result_body(json), R"({"result":{"n":1}})");
  ToolList list(1);
  list[0].name = "a.b";
  list[0].function_name = "a_b";
  list[0].description = "d";
  list[0].input_schema_json = R"({"type":"object"})";
  VisibleTools visible;
  visible.entries.push_back(&list[0]);
  EXPECT_EQ(
      openai_tools_body(visible),
      R"({"object":"list","data":[{"type":"function","function":{"name":"a_b","description":"d","parameters":{"type":"object"}}}]})");
}

}  // namespace
}  // namespace sluice::tools
