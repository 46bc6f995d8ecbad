// The mock MCP server's logic, independent of sockets: sessions, the tool list, the tools'
// behaviour, and the faults tests queue. McpMockServer (mcp_mock_server.h) feeds it one HTTP
// request at a time and writes back the Answer it returns.
//
// It speaks MCP Streamable HTTP (2025-11-25, 2025-06-18, 2025-03-26) strictly enough to catch a
// client's mistakes: POST needs Accept with application/json and text/event-stream (406), a
// request other than initialize needs a live Mcp-Session-Id (400 without, 404 for an unknown
// or dropped one) and the negotiated MCP-Protocol-Version (400), and tools/* need
// notifications/initialized first (JSON-RPC error -32002).
//
// Tools (inputSchema with types and required fields):
//   echo  {text}        → the text
//   add   {a, b}        → structuredContent {"sum": a+b} and the same as text
//   fail  {}            → isError: true, "the tool failed on purpose"
//   sleep {ms}          → answers after ms milliseconds ("slept 50ms")
//   big   {bytes}       → a text of that many bytes
//   image {}            → an image item and a text item
//   extra_<i>           → `--extra-tools N` more, for paging
//
// Control (POST /__control, a JSON object; several keys may go together):
//   {"fault": SPEC, "count": N (default 1, -1 = forever), "method": "tools/call" (optional)}
//       the next N requests of that method (any, when absent) fail as SPEC says:
//       status:<code>   that HTTP status, a text body
//       hang            never answered
//       close           the connection is closed without an answer
//       slow:<ms>       answered after ms milliseconds
//       is_error        tools/call answers isError: true
//       rpc_error       a JSON-RPC error (-32603 "internal error on purpose")
//       malformed:not_json | no_id | wrong_version | batch | wrong_id | no_result
//       too_large:<bytes>  a result whose text is that long
//       sse_cut         an SSE answer that ends after a primed event id and `retry: 20`,
//                       without the response; GET with Last-Event-ID gets the response
//   {"answer": "json" | "sse"}        how POSTs are answered from now on
//   {"drop_sessions": true}           every session is forgotten (their requests get 404)
//   {"add_tool": {"name", "description"}} / {"remove_tool": NAME}  change the list, then
//   {"notify": "get" | "post" | "both" | "none"} (default get) announce it with
//       notifications/tools/list_changed on every open GET stream and/or inside the next POST
//       answer (which is then an SSE answer, whatever the mode)
//   {"get_stream": false}             GET answers 405 from now on
// GET /__stats: counters (see stats()); GET /__requests: the last 100 requests; POST /__reset:
// faults, counters, sessions and the tool list back to the start.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/json.h"

namespace sluice::mcp_mock {

struct Request {
  std::string method;  // HTTP method
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  const std::string* header(std::string_view lowercase_name) const;
};

// What the connection does with a request. Rules:
//   Reply  — after delay_ms: status, headers, then `body` (Content-Length), or — with sse —
//            an event stream (chunked) of `events` that ends after the last one.
//   Stream — a GET stream: the SSE head now; events pushed later (push_events); stays open.
//   Hang   — nothing, ever (the connection waits for the client to leave).
//   Close  — the connection is closed without a byte.
struct Answer {
  enum class Kind : uint8_t { Reply, Stream, Hang, Close };
  Kind kind = Kind::Reply;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json";
  std::string body;
  bool sse = false;
  std::vector<std::string> events;  // SSE: whole events ("id: 1\ndata: {...}\n\n")
  uint32_t delay_ms = 0;
};

struct Options {
  bool sse = false;            // --sse: answer POSTs with event streams
  bool sessions = true;        // --no-sessions: a stateless server (no Mcp-Session-Id)
  bool get_stream = true;      // --no-get-stream: GET answers 405
  std::string force_protocol;  // --protocol V: initialize answers V whatever was offered
  size_t page_size = 0;        // --page-size N: tools/list pages of N (0: one page)
  size_t extra_tools = 0;      // --extra-tools N
};

class McpMockState {
 public:
  explicit McpMockState(Options options);

  // One request to the MCP endpoint (/mcp).
  Answer handle(const Request& request);
  // POST /__control. False with *error for a body it cannot read. *down_ms > 0: the server
  // should stop listening (and drop every connection) for that long.
  bool control(std::string_view body, std::string* error, uint32_t* down_ms);
  void reset();

  // Events for every open GET stream (list_changed notifications), taken.
  std::vector<std::string> take_stream_events();
  void stream_opened() { ++get_streams_open_, ++get_streams_total_; }
  void stream_closed() { --get_streams_open_; }

  test::Json stats() const;
  test::Json recorded() const;

 private:
  struct Session {
    std::string protocol;
    bool initialized = false;
  };
  struct Fault {
    std::string spec;
    std::string method;  // "" = any
    int64_t remaining;   // < 0: forever
  };

  Answer post(const Request& request);
  Answer get(const Request& request);
  Answer del(const Request& request);
  Answer rpc(const test::Json& message, const std::string* session_id, Session* session,
             std::string* fault);
  Answer call_tool(const test::Json& id, const test::Json& params, const std::string& fault);
  Answer tools_list(const test::Json& id, const test::Json& params);
  Answer reply(const test::Json& id, test::Json result) const;
  Answer text_reply(int status, std::string text) const;
  std::string take_fault(std::string_view method);
  void record(const Request& request);
  void announce_list_changed(const std::string& how);
  std::vector<test::Json> default_tools() const;

  Options options_;
  bool sse_;
  bool get_stream_;
  std::vector<test::Json> tools_;  // {name, description, inputSchema}
  std::map<std::string, Session> sessions_;
  uint64_t next_session_ = 0;
  std::deque<Fault> faults_;
  std::vector<std::string> post_notifications_;     // to ride on the next POST answer
  std::vector<std::string> stream_events_;          // to push to the GET streams
  std::map<std::string, std::string> cut_answers_;  // event id → the response's event
  uint64_t next_event_id_ = 0;
  std::deque<test::Json> recorded_;
  std::map<std::string, uint64_t> counts_;  // "initialize", "tools/call", "DELETE", "404", ...
  std::string last_protocol_header_;
  std::string last_session_header_;
  std::string last_offered_version_;
  int64_t get_streams_open_ = 0;
  uint64_t get_streams_total_ = 0;
};

}  // namespace sluice::mcp_mock
