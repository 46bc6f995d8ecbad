// The MCP client's reading of what servers send (core/mcp/mcp_client_*): event streams, JSON-RPC
// answers in JSON or SSE, initialize / tools/list / tools/call results, the session store, and
// how a finished call becomes what an agent sees (core/tools/mcp_tool).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/mcp/mcp_client_call.h"
#include "core/mcp/mcp_client_results.h"
#include "core/mcp/mcp_client_rpc.h"
#include "core/mcp/mcp_client_session.h"
#include "core/mcp/mcp_client_sse.h"
#include "core/tools/mcp_tool.h"

namespace sluice::mcp {
namespace {

struct Seen {
  std::string id, event, data;
};

std::vector<Seen> read_all(SseReader& reader, const std::vector<std::string>& pieces) {
  std::vector<Seen> out;
  for (const std::string& p : pieces) {
    reader.feed(p, [&](const SseEvent& e) {
      out.push_back({std::string(e.id), std::string(e.event), std::string(e.data)});
      return true;
    });
  }
  return out;
}

// ---- SseReader ---------------------------------------------------------------------------------

TEST(McpSse, EventsWithEveryLineEndingAndSplitAnywhere) {
  const std::string stream =
      "event: message\r\ndata: {\"a\":1}\r\n\r\n"
      ": a comment\n"
      "data: line one\ndata: line two\n\n"
      "id: 7\rdata:no space\r\r";
  // Fed whole, and fed one byte at a time: the same events.
  for (bool bytewise : {false, true}) {
    SseReader reader;
    std::vector<std::string> pieces;
    if (bytewise) {
      for (char c : stream) pieces.emplace_back(1, c);
    } else {
      pieces.push_back(stream);
    }
    auto events = read_all(reader, pieces);
    ASSERT_EQ(events.size(), 3u) << (bytewise ? "bytewise" : "whole");
    EXPECT_EQ(events[0].event, "message");
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[1].data, "line one\nline two");
    EXPECT_EQ(events[2].id, "7");
    EXPECT_EQ(events[2].data, "no space");
    EXPECT_EQ(reader.last_event_id(), "7");
  }
}

TEST(McpSse, PrimingEventRetryAndAnEventCutOff) {
  SseReader reader;
  auto events = read_all(reader, {"id: ev-1\ndata:\n\nretry: 250\n\ndata: never dispatched"});
  ASSERT_EQ(events.size(), 1u);  // the priming event: an id and empty data
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[0].id, "ev-1");
  EXPECT_EQ(reader.retry_ms(), 250u);
  EXPECT_EQ(reader.last_event_id(), "ev-1");
}

TEST(McpSse, AnEventLongerThanTheBoundIsAnError) {
  SseReader reader;
  std::string line = "data: " + std::string(SseReader::kMaxEventBytes, 'x');
  bool called = false;
  EXPECT_FALSE(reader.feed(line, [&](const SseEvent&) { return called = true; }));
  EXPECT_TRUE(reader.too_long());
  EXPECT_FALSE(called);
}

// ---- JSON-RPC answers --------------------------------------------------------------------------

TEST(McpRpc, RequestsAreJsonRpcWithEscapedText) {
  EXPECT_EQ(
      rpc_request(3, "tools/call", tools_call_params("say \"hi\"", R"({"x":1})")),
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"say \"hi\"","arguments":{"x":1}}})");
  EXPECT_EQ(rpc_notification("notifications/initialized"),
            R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(tools_list_params(""), "{}");
  EXPECT_EQ(tools_list_params("c2"), R"({"cursor":"c2"})");
  EXPECT_EQ(tools_call_params("t", ""), R"({"name":"t","arguments":{}})");
  EXPECT_NE(initialize_params().find(R"("protocolVersion":"2025-11-25")"), std::string::npos);
}

TEST(McpRpc, JsonAnswerResultAndError) {
  RpcAnswer a = read_rpc_answer("application/json; charset=utf-8",
                                R"({"jsonrpc":"2.0","id":5,"result":{"tools":[]}})", 5, nullptr);
  EXPECT_EQ(a.status, RpcAnswer::Status::Result);
  EXPECT_EQ(a.result_json, R"({"tools":[]})");

  a = read_rpc_answer(
      "application/json",
      R"({"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"Unknown tool: x"}})", 5,
      nullptr);
  EXPECT_EQ(a.status, RpcAnswer::Status::Error);
  EXPECT_EQ(a.code, -32602);
  EXPECT_EQ(a.message, "Unknown tool: x");
}

TEST(McpRpc, MalformedAnswersSayWhatIsWrong) {
  struct Case {
    std::string content_type, body, says;
  };
  const std::vector<Case> cases = {
      {"application/json", "not json", "not JSON"},
      {"application/json", R"([{"jsonrpc":"2.0","id":1,"result":{}}])", "batch"},
      {"application/json", R"({"jsonrpc":"1.0","id":1,"result":{}})", R"("jsonrpc" is not "2.0")"},
      {"application/json", R"({"jsonrpc":"2.0","result":{}})", R"(neither a "method" nor an "id")"},
      {"application/json", R"({"jsonrpc":"2.0","id":2,"result":{}})", "not to request 1"},
      {"application/json", R"({"jsonrpc":"2.0","id":1})", R"(neither "result" nor "error")"},
      {"application/json", R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1}})", "both"},
      {"text/html", "<html></html>", "content type"},
  };
  for (const Case& c : cases) {
    RpcAnswer a = read_rpc_answer(c.content_type, c.body, 1, nullptr);
    EXPECT_EQ(a.status, RpcAnswer::Status::Malformed) << c.body;
    EXPECT_NE(a.message.find(c.says), std::string::npos) << c.body << " → " << a.message;
  }
}

TEST(McpRpc, StreamAnswerTakesTheResponseWithItsIdAndTheNotificationsBefore) {
  const std::string body =
      "id: p1\ndata: \n\n"  // priming
      "event: message\ndata: "
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"ping\"}\n\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":8,\"result\":{\"other\":true}}\n\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"mine\":true}}\n\n";
  ServerTraffic traffic;
  RpcAnswer a = read_rpc_answer("text/event-stream", body, 9, &traffic);
  EXPECT_EQ(a.status, RpcAnswer::Status::Result);
  EXPECT_EQ(a.result_json, R"({"mine":true})");
  EXPECT_TRUE(traffic.tools_list_changed);
  ASSERT_EQ(traffic.requests.size(), 1u);
  EXPECT_EQ(traffic.requests[0].first, R"("srv-1")");
  EXPECT_EQ(traffic.requests[0].second, "ping");
}

TEST(McpRpc, StreamThatEndsWithoutTheResponseIsUnfinishedWithWhereToResume) {
  RpcAnswer a =
      read_rpc_answer("text/event-stream", "id: ev-3\ndata:\n\nretry: 40\n\n", 4, nullptr);
  EXPECT_EQ(a.status, RpcAnswer::Status::Unfinished);
  EXPECT_EQ(a.last_event_id, "ev-3");
  EXPECT_EQ(a.retry_ms, 40u);

  a = read_rpc_answer("text/event-stream", "data: {not json\n\n", 4, nullptr);
  EXPECT_EQ(a.status, RpcAnswer::Status::Malformed);
}

// ---- results ------------------------------------------------------------------------------------

TEST(McpResults, InitializeAcceptsOnlyTheVersionsSluiceSpeaks) {
  InitializeResult init;
  std::string error;
  for (const char* v : {"2025-11-25", "2025-06-18", "2025-03-26"}) {
    EXPECT_TRUE(read_initialize_result(
        std::string(R"({"protocolVersion":")") + v +
            R"(","capabilities":{"tools":{"listChanged":true}},"serverInfo":{"name":"gh"}})",
        &init, &error))
        << v;
    EXPECT_EQ(init.protocol_version, v);
    EXPECT_TRUE(init.tools_list_changed);
    EXPECT_EQ(init.server_name, "gh");
  }
  EXPECT_FALSE(read_initialize_result(R"({"protocolVersion":"2024-11-05"})", &init, &error));
  EXPECT_NE(error.find("2024-11-05"), std::string::npos) << error;
  EXPECT_NE(error.find("2025-03-26"), std::string::npos) << error;
  EXPECT_FALSE(read_initialize_result(R"({"capabilities":{}})", &init, &error));
}

TEST(McpResults, ToolsPageKeepsGoodToolsAndSaysWhichWereSkipped) {
  ToolsPage page;
  std::string error;
  ASSERT_TRUE(read_tools_page(
      R"({"tools":[{"name":"a","description":"A","inputSchema":{"type":"object"}},
                   {"name":"b","title":"Bee","inputSchema":{"type":"object","properties":{}}},
                   {"description":"no name","inputSchema":{}},
                   {"name":"c"},
                   7],
          "nextCursor":"n2"})",
      &page, &error))
      << error;
  ASSERT_EQ(page.tools.size(), 2u);
  EXPECT_EQ(page.tools[0].name, "a");
  EXPECT_EQ(page.tools[0].description, "A");
  EXPECT_EQ(page.tools[0].input_schema_json, R"({"type":"object"})");
  EXPECT_EQ(page.tools[1].description, "Bee");  // the title when there is no description
  EXPECT_EQ(page.next_cursor, "n2");
  EXPECT_EQ(page.skipped.size(), 3u);
  EXPECT_FALSE(read_tools_page(R"({"tools":{}})", &page, &error));
}

TEST(McpResults, CallResultTextStructuredAndOtherContent) {
  CallAnswer answer;
  std::string error;
  ASSERT_TRUE(read_call_result(
      R"({"content":[{"type":"text","text":"one"},{"type":"image","data":"AA==","mimeType":"image/png"},{"type":"text","text":"two"}],"structuredContent":{"n":1}})",
      &answer, &error));
  EXPECT_FALSE(answer.is_error);
  EXPECT_EQ(answer.text, "one\n[image image/png]\ntwo");
  EXPECT_EQ(answer.structured_json, R"({"n":1})");
  EXPECT_NE(answer.content_json.find(R"("mimeType":"image/png")"), std::string::npos);

  ASSERT_TRUE(read_call_result(R"({"content":[{"type":"text","text":"boom"}],"isError":true})",
                               &answer, &error));
  EXPECT_TRUE(answer.is_error);
  EXPECT_FALSE(read_call_result(R"({"content":"text"})", &answer, &error));
}

// ---- the session store -------------------------------------------------------------------------

TEST(McpSession, PublishIsACompareAndSetOnTheGeneration) {
  SessionStore store;
  EXPECT_FALSE(store.current().established());
  SessionTicket a;
  a.id = "s-a";
  a.protocol_version = "2025-11-25";
  SessionTicket first = store.publish(0, a);
  EXPECT_TRUE(first.established());
  // Two callers found it gone: the first renewal wins, the second keeps its own, unpublished.
  SessionTicket b = a, c = a;
  b.id = "s-b";
  c.id = "s-c";
  SessionTicket won = store.publish(first.generation, b);
  SessionTicket lost = store.publish(first.generation, c);
  EXPECT_TRUE(won.established());
  EXPECT_FALSE(lost.established());
  EXPECT_EQ(lost.id, "s-c");
  EXPECT_EQ(store.current().id, "s-b");
}

TEST(McpHttpRequest, SessionHeadersOnlyOnceThereIsASession) {
  McpEndpoint endpoint{"github", "http://127.0.0.1:1/mcp", {{"Authorization", "Bearer t"}}};
  auto has = [](const plugin::HttpCallRequest& r, const std::string& name, const std::string& v) {
    for (const auto& [n, value] : r.headers) {
      if (n == name && (v.empty() || value == v)) return true;
    }
    return false;
  };
  plugin::HttpCallRequest init = mcp_http_request(endpoint, nullptr, "POST", "{}");
  EXPECT_TRUE(has(init, "Authorization", "Bearer t"));
  EXPECT_TRUE(has(init, "Accept", "application/json, text/event-stream"));
  EXPECT_FALSE(has(init, "Mcp-Session-Id", ""));
  EXPECT_FALSE(has(init, "MCP-Protocol-Version", ""));
  SessionTicket ticket;
  ticket.protocol_version = "2025-06-18";
  ticket.id = "abc";
  plugin::HttpCallRequest call = mcp_http_request(endpoint, &ticket, "POST", "{}");
  EXPECT_TRUE(has(call, "Mcp-Session-Id", "abc"));
  EXPECT_TRUE(has(call, "MCP-Protocol-Version", "2025-06-18"));
  plugin::HttpCallRequest stream = mcp_http_request(endpoint, &ticket, "GET", "");
  EXPECT_TRUE(has(stream, "Accept", "text/event-stream"));
}

}  // namespace
}  // namespace sluice::mcp

// ---- what an agent gets ----------------------------------------------------------------------

namespace sluice::tools {
namespace {

mcp::McpOutcome outcome(mcp::McpOutcome::Status status, std::string result_or_message) {
  mcp::McpOutcome o;
  o.status = status;
  if (status == mcp::McpOutcome::Status::Result) {
    o.result_json = std::move(result_or_message);
  } else {
    o.message = std::move(result_or_message);
  }
  return o;
}

TEST(McpToolResult, EveryOutcomeMapsToTheCallStatusRules) {
  using S = mcp::McpOutcome::Status;
  auto o = outcome(S::Result, R"({"content":[{"type":"text","text":"hi"}]})");
  CallResult r = call_result_of(o, "github");
  EXPECT_EQ(r.status, CallStatus::Ok);
  EXPECT_EQ(r.content, "hi");
  EXPECT_FALSE(r.json);
  EXPECT_EQ(r.mcp_content, R"([{"type":"text","text":"hi"}])");

  o = outcome(
      S::Result,
      R"({"content":[{"type":"text","text":"{\"sum\":3}"}],"structuredContent":{"sum":3}})");
  r = call_result_of(o, "github");
  EXPECT_EQ(r.status, CallStatus::Ok);
  EXPECT_TRUE(r.json);
  EXPECT_EQ(r.content, R"({"sum":3})");

  o = outcome(S::Result, R"({"content":[{"type":"text","text":"no such repo"}],"isError":true})");
  r = call_result_of(o, "github");
  EXPECT_EQ(r.status, CallStatus::ToolError);
  EXPECT_EQ(r.content, "no such repo");
  EXPECT_EQ(r.mcp_content, R"([{"type":"text","text":"no such repo"}])");

  o = outcome(S::RpcError, "Unknown tool: x");
  r = call_result_of(o, "github");
  EXPECT_EQ(r.status, CallStatus::ToolError);
  EXPECT_EQ(r.content, "Unknown tool: x");

  o = outcome(S::Timeout, "timeout after 200ms");
  EXPECT_EQ(call_result_of(o, "github").status, CallStatus::Timeout);

  o = outcome(S::Unreachable, "HTTP 503: busy");
  r = call_result_of(o, "github");
  EXPECT_EQ(r.status, CallStatus::Unavailable);
  EXPECT_EQ(r.content, R"(upstream MCP server "github": HTTP 503: busy)");

  o = outcome(S::Malformed, "the answer is not a JSON-RPC 2.0 message: not JSON");
  r = call_result_of(o, "github");
  EXPECT_EQ(r.status, CallStatus::Unavailable);
  EXPECT_NE(r.content.find("malformed answer"), std::string::npos);

  o = outcome(S::Result, R"({"content":{}})");
  EXPECT_EQ(call_result_of(o, "github").status, CallStatus::Unavailable);
}

TEST(McpToolNames, OnlyNamesSluiceCanOfferAsFunctions) {
  EXPECT_EQ(unusable_tool_name("github", "create_issue"), "");
  EXPECT_EQ(unusable_tool_name("github", "repos.get-file"), "");
  EXPECT_NE(unusable_tool_name("github", "create issue"), "");
  EXPECT_NE(unusable_tool_name("github", "émoji"), "");
  EXPECT_NE(unusable_tool_name("github", ""), "");
  EXPECT_EQ(unusable_tool_name("github", std::string(57, 'a')), "");  // 6 + 1 + 57 = 64
  EXPECT_NE(unusable_tool_name("github", std::string(58, 'a')), "");
}

}  // namespace
}  // namespace sluice::tools
