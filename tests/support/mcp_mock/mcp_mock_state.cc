#include "tests/support/mcp_mock/mcp_mock_state.h"

#include <algorithm>
#include <cstdlib>

namespace sluice::mcp_mock {

using test::Json;

namespace {

constexpr size_t kMaxRecorded = 100;
constexpr size_t kMaxRecordedBody = 64 << 10;
constexpr const char* kVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};

bool supported(std::string_view v) {
  return std::any_of(std::begin(kVersions), std::end(kVersions),
                     [&](const char* s) { return v == s; });
}

Json schema(std::initializer_list<std::pair<const char*, const char*>> props,
            std::initializer_list<const char*> required) {
  Json properties = Json::object();
  for (const auto& [name, type] : props) {
    Json p = Json::object();
    p.set("type", type);
    properties.set(name, p);
  }
  Json req = Json::array();
  for (const char* r : required) req.push_back(r);
  Json s = Json::object();
  s.set("type", "object");
  s.set("properties", properties);
  if (required.size() > 0) s.set("required", req);
  return s;
}

Json tool(const char* name, const char* description, Json input_schema) {
  Json t = Json::object();
  t.set("name", name);
  t.set("description", description);
  t.set("inputSchema", std::move(input_schema));
  return t;
}

Json text_content(std::string text) {
  Json item = Json::object();
  item.set("type", "text");
  item.set("text", std::move(text));
  return Json::array().push_back(item);
}

std::string sse_event(const std::string& data, const std::string& id = "") {
  std::string e;
  if (!id.empty()) e += "id: " + id + "\n";
  e += "event: message\ndata: " + data + "\n\n";
  return e;
}

std::string list_changed() {
  return R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})";
}

}  // namespace

const std::string* Request::header(std::string_view lowercase_name) const {
  for (const auto& [n, v] : headers) {
    if (n == lowercase_name) return &v;
  }
  return nullptr;
}

McpMockState::McpMockState(Options options)
    : options_(std::move(options)), sse_(options_.sse), get_stream_(options_.get_stream) {
  tools_ = default_tools();
}

std::vector<Json> McpMockState::default_tools() const {
  std::vector<Json> t;
  t.push_back(tool("echo", "Echoes its text", schema({{"text", "string"}}, {"text"})));
  t.push_back(
      tool("add", "Adds two numbers", schema({{"a", "number"}, {"b", "number"}}, {"a", "b"})));
  t.push_back(tool("fail", "Always fails", schema({}, {})));
  t.push_back(tool("sleep", "Answers after ms milliseconds", schema({{"ms", "integer"}}, {"ms"})));
  t.push_back(
      tool("big", "Answers a text of `bytes` bytes", schema({{"bytes", "integer"}}, {"bytes"})));
  t.push_back(tool("image", "Answers an image and a text", schema({}, {})));
  for (size_t i = 0; i < options_.extra_tools; ++i) {
    const std::string name = "extra_" + std::to_string(i);
    t.push_back(tool(name.c_str(), "An extra tool", schema({{"text", "string"}}, {})));
  }
  return t;
}

void McpMockState::reset() {
  sse_ = options_.sse;
  get_stream_ = options_.get_stream;
  tools_ = default_tools();
  sessions_.clear();
  faults_.clear();
  post_notifications_.clear();
  stream_events_.clear();
  cut_answers_.clear();
  recorded_.clear();
  counts_.clear();
  last_protocol_header_.clear();
  last_session_header_.clear();
  last_offered_version_.clear();
}

void McpMockState::record(const Request& request) {
  Json headers = Json::object();
  for (const auto& [n, v] : request.headers) headers.set(n, v);
  Json r = Json::object();
  r.set("method", request.method);
  r.set("path", request.path);
  r.set("headers", headers);
  r.set("body", request.body.substr(0, kMaxRecordedBody));
  recorded_.push_back(std::move(r));
  while (recorded_.size() > kMaxRecorded) recorded_.pop_front();
}

Json McpMockState::recorded() const {
  Json all = Json::array();
  for (const Json& r : recorded_) all.push_back(r);
  return all;
}

Json McpMockState::stats() const {
  Json counts = Json::object();
  for (const auto& [k, v] : counts_) counts.set(k, v);
  Json names = Json::array();
  for (const Json& t : tools_) names.push_back(t["name"].str());
  Json s = Json::object();
  s.set("counts", counts);
  s.set("sessions", static_cast<uint64_t>(sessions_.size()));
  s.set("tools", names);
  s.set("get_streams_open", get_streams_open_);
  s.set("get_streams_total", get_streams_total_);
  s.set("last_protocol_header", last_protocol_header_);
  s.set("last_session_header", last_session_header_);
  s.set("last_offered_version", last_offered_version_);
  return s;
}

std::string McpMockState::take_fault(std::string_view method) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    std::string spec = it->spec;
    if (it->remaining > 0 && --it->remaining == 0) faults_.erase(it);
    return spec;
  }
  return {};
}

Answer McpMockState::text_reply(int status, std::string text) const {
  Answer a;
  a.status = status;
  a.content_type = "text/plain";
  a.body = std::move(text);
  return a;
}

Answer McpMockState::handle(const Request& request) {
  record(request);
  ++counts_[request.method];
  if (request.method == "POST") return post(request);
  if (request.method == "GET") return get(request);
  if (request.method == "DELETE") return del(request);
  Answer a = text_reply(405, "method not allowed");
  a.headers.emplace_back("Allow", "GET, POST, DELETE");
  return a;
}

Answer McpMockState::del(const Request& request) {
  const std::string* id = request.header("mcp-session-id");
  if (id == nullptr) return text_reply(400, "Bad Request: Mcp-Session-Id header is required");
  if (sessions_.erase(*id) == 0) {
    ++counts_["404"];
    return text_reply(404, "Session not found");
  }
  return text_reply(200, "");
}

Answer McpMockState::get(const Request& request) {
  if (!get_stream_) {
    Answer a = text_reply(405, "Method Not Allowed: no SSE stream at this endpoint");
    a.headers.emplace_back("Allow", "POST, DELETE");
    return a;
  }
  const std::string* accept = request.header("accept");
  if (accept == nullptr || accept->find("text/event-stream") == std::string::npos) {
    return text_reply(406, "Not Acceptable: Client must accept text/event-stream");
  }
  if (options_.sessions) {
    const std::string* id = request.header("mcp-session-id");
    if (id == nullptr) return text_reply(400, "Bad Request: Mcp-Session-Id header is required");
    if (sessions_.find(*id) == sessions_.end()) {
      ++counts_["404"];
      return text_reply(404, "Session not found");
    }
  }
  if (const std::string* last = request.header("last-event-id")) {
    ++counts_["resume"];
    auto it = cut_answers_.find(*last);
    if (it != cut_answers_.end()) {
      Answer a;
      a.sse = true;
      a.content_type = "text/event-stream";
      a.events.push_back(it->second);
      cut_answers_.erase(it);
      return a;
    }
  }
  Answer a;
  a.kind = Answer::Kind::Stream;
  a.content_type = "text/event-stream";
  return a;
}

Answer McpMockState::post(const Request& request) {
  const std::string* accept = request.header("accept");
  if (accept == nullptr || accept->find("application/json") == std::string::npos ||
      accept->find("text/event-stream") == std::string::npos) {
    return text_reply(406,
                      "Not Acceptable: Client must accept both application/json and "
                      "text/event-stream");
  }
  auto message = Json::parse(request.body);
  if (!message || !message->is_object()) {
    return text_reply(
        400, R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})");
  }
  const std::string method = (*message)["method"].str();
  if (method.empty() && !message->contains("id")) return text_reply(400, "not JSON-RPC");
  ++counts_[method.empty() ? "response" : method];

  const std::string* session_id = request.header("mcp-session-id");
  if (session_id != nullptr) last_session_header_ = *session_id;
  if (const std::string* v = request.header("mcp-protocol-version")) last_protocol_header_ = *v;
  Session* session = nullptr;
  if (method != "initialize" && options_.sessions) {
    if (session_id == nullptr)
      return text_reply(400, "Bad Request: Mcp-Session-Id header is required");
    auto it = sessions_.find(*session_id);
    if (it == sessions_.end()) {
      ++counts_["404"];
      return text_reply(
          404,
          R"({"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}})");
    }
    session = &it->second;
    const std::string* version = request.header("mcp-protocol-version");
    if (version == nullptr || *version != session->protocol) {
      return text_reply(400, "Bad Request: Unsupported protocol version");
    }
  }
  std::string fault = take_fault(method);
  if (fault == "hang") {
    Answer a;
    a.kind = Answer::Kind::Hang;
    return a;
  }
  if (fault == "close") {
    Answer a;
    a.kind = Answer::Kind::Close;
    return a;
  }
  if (fault.rfind("status:", 0) == 0) {
    return text_reply(std::atoi(fault.c_str() + 7), "failing on purpose: " + fault);
  }
  uint32_t delay = 0;
  if (fault.rfind("slow:", 0) == 0) {
    delay = static_cast<uint32_t>(std::atoi(fault.c_str() + 5));
    fault.clear();
  }
  Answer a = rpc(*message, session_id, session, &fault);
  a.delay_ms += delay;
  return a;
}

Answer McpMockState::reply(const Json& id, Json result) const {
  Json message = Json::object();
  message.set("jsonrpc", "2.0");
  message.set("id", id);
  message.set("result", std::move(result));
  Answer a;
  a.body = message.dump();
  return a;
}

Answer McpMockState::rpc(const Json& message, const std::string* session_id, Session* session,
                         std::string* fault) {
  const std::string method = message["method"].str();
  const Json& id = message["id"];
  if (!message.contains("id")) {  // a notification (or a response to our request)
    if (method == "notifications/initialized" && session != nullptr) session->initialized = true;
    Answer a;
    a.status = 202;
    a.content_type.clear();
    return a;
  }
  auto error = [&](int code, const std::string& text) {
    Json e = Json::object();
    e.set("code", code);
    e.set("message", text);
    Json m = Json::object();
    m.set("jsonrpc", "2.0");
    m.set("id", id);
    m.set("error", e);
    Answer a;
    a.body = m.dump();
    return a;
  };
  Answer a;
  if (*fault == "rpc_error") {
    a = error(-32603, "internal error on purpose");
  } else if (method == "initialize") {
    const std::string offered = message["params"]["protocolVersion"].str();
    last_offered_version_ = offered;
    std::string version = supported(offered) ? offered : kVersions[0];
    if (!options_.force_protocol.empty()) version = options_.force_protocol;
    Json caps = Json::object();
    Json tools = Json::object();
    tools.set("listChanged", true);
    caps.set("tools", tools);
    Json info = Json::object();
    info.set("name", "sluice-mock-mcp");
    info.set("version", "1.0.0");
    Json result = Json::object();
    result.set("protocolVersion", version);
    result.set("capabilities", caps);
    result.set("serverInfo", info);
    a = reply(id, result);
    if (options_.sessions) {
      const std::string sid = "mock-session-" + std::to_string(++next_session_);
      sessions_[sid] = Session{version, false};
      a.headers.emplace_back("Mcp-Session-Id", sid);
    }
  } else if (method == "ping") {
    a = reply(id, Json::object());
  } else if (options_.sessions && session != nullptr && !session->initialized &&
             method.rfind("tools/", 0) == 0) {
    a = error(-32002, "the session is not initialized: send notifications/initialized first");
  } else if (method == "tools/list") {
    a = tools_list(id, message["params"]);
  } else if (method == "tools/call") {
    a = call_tool(id, message["params"], *fault);
  } else {
    a = error(-32601, "Method not found: " + method);
  }

  // Malformed answers replace the body.
  if (fault->rfind("malformed:", 0) == 0) {
    const std::string kind = fault->substr(10);
    if (kind == "not_json") a.body = "this is not json";
    if (kind == "no_id") a.body = R"({"jsonrpc":"2.0","result":{"content":[]}})";
    if (kind == "wrong_version")
      a.body = R"({"jsonrpc":"1.0","id":)" + id.dump() + R"(,"result":{}})";
    if (kind == "batch") a.body = "[" + a.body + "]";
    if (kind == "wrong_id") a.body = R"({"jsonrpc":"2.0","id":987654321,"result":{"content":[]}})";
    if (kind == "no_result") a.body = R"({"jsonrpc":"2.0","id":)" + id.dump() + "}";
  }
  const bool cut = *fault == "sse_cut";
  if (sse_ || cut || !post_notifications_.empty()) {
    a.sse = true;
    a.content_type = "text/event-stream";
    const std::string primed = "ev-" + std::to_string(++next_event_id_);
    a.events.push_back("id: " + primed + "\ndata: \n\n");  // the 2025-11-25 priming event
    for (const std::string& n : post_notifications_) a.events.push_back(sse_event(n));
    post_notifications_.clear();
    if (cut) {
      cut_answers_[primed] = sse_event(a.body, "ev-" + std::to_string(++next_event_id_));
      a.events.push_back("retry: 20\n\n");
    } else {
      a.events.push_back(sse_event(a.body));
    }
    a.body.clear();
  }
  (void)session_id;
  return a;
}

Answer McpMockState::tools_list(const Json& id, const Json& params) {
  size_t offset = 0;
  const std::string cursor = params["cursor"].str();
  if (cursor.rfind("page:", 0) == 0) offset = std::strtoul(cursor.c_str() + 5, nullptr, 10);
  const size_t size = options_.page_size == 0 ? tools_.size() : options_.page_size;
  Json list = Json::array();
  for (size_t i = offset; i < tools_.size() && i < offset + size; ++i) list.push_back(tools_[i]);
  Json result = Json::object();
  result.set("tools", list);
  if (offset + size < tools_.size())
    result.set("nextCursor", "page:" + std::to_string(offset + size));
  return reply(id, result);
}

Answer McpMockState::call_tool(const Json& id, const Json& params, const std::string& fault) {
  const std::string name = params["name"].str();
  const Json& args = params["arguments"];
  const bool known = std::any_of(tools_.begin(), tools_.end(),
                                 [&](const Json& t) { return t["name"].str() == name; });
  Json result = Json::object();
  if (!known) {
    Json e = Json::object();
    e.set("code", -32602);
    e.set("message", "Unknown tool: " + name);
    Json m = Json::object();
    m.set("jsonrpc", "2.0");
    m.set("id", id);
    m.set("error", e);
    Answer a;
    a.body = m.dump();
    return a;
  }
  uint32_t delay = 0;
  if (fault == "is_error" || name == "fail") {
    result.set("content", text_content("the tool failed on purpose"));
    result.set("isError", true);
  } else if (fault.rfind("too_large:", 0) == 0) {
    result.set("content",
               text_content(std::string(std::strtoul(fault.c_str() + 10, nullptr, 10), 'x')));
  } else if (name == "add") {
    const double sum = args["a"].as_number() + args["b"].as_number();
    Json structured = Json::object();
    structured.set("sum", sum);
    result.set("content", text_content(structured.dump()));
    result.set("structuredContent", structured);
  } else if (name == "sleep") {
    delay = static_cast<uint32_t>(args["ms"].as_int());
    result.set("content", text_content("slept " + std::to_string(delay) + "ms"));
  } else if (name == "big") {
    result.set("content",
               text_content(std::string(static_cast<size_t>(args["bytes"].as_int()), 'b')));
  } else if (name == "image") {
    Json image = Json::object();
    image.set("type", "image");
    image.set("data", "iVBORw0KGgo=");
    image.set("mimeType", "image/png");
    Json content = Json::array().push_back(image);
    Json text = Json::object();
    text.set("type", "text");
    text.set("text", "a picture");
    content.push_back(text);
    result.set("content", content);
  } else {  // echo and the extra tools
    result.set("content", text_content(args["text"].str()));
  }
  Answer a = reply(id, result);
  a.delay_ms = delay;
  return a;
}

void McpMockState::announce_list_changed(const std::string& how) {
  if (how == "get" || how == "both") stream_events_.push_back(sse_event(list_changed()));
  if (how == "post" || how == "both") post_notifications_.push_back(list_changed());
}

std::vector<std::string> McpMockState::take_stream_events() {
  std::vector<std::string> out;
  out.swap(stream_events_);
  return out;
}

bool McpMockState::control(std::string_view body, std::string* error, uint32_t* down_ms) {
  auto c = Json::parse(body);
  if (!c || !c->is_object()) {
    *error = "the control body is not a JSON object";
    return false;
  }
  if (c->contains("fault")) {
    Fault f;
    f.spec = (*c)["fault"].str();
    f.method = (*c)["method"].str();
    f.remaining = c->contains("count") ? (*c)["count"].as_int() : 1;
    faults_.push_back(std::move(f));
  }
  if (c->contains("answer")) sse_ = (*c)["answer"].str() == "sse";
  if ((*c)["drop_sessions"].as_bool()) sessions_.clear();
  if (c->contains("get_stream")) get_stream_ = (*c)["get_stream"].as_bool(true);
  bool changed = false;
  if (c->contains("add_tool")) {
    const Json& t = (*c)["add_tool"];
    tools_.push_back(tool(t["name"].str().c_str(), t["description"].str().c_str(),
                          schema({{"text", "string"}}, {})));
    changed = true;
  }
  if (c->contains("remove_tool")) {
    const std::string name = (*c)["remove_tool"].str();
    std::erase_if(tools_, [&](const Json& t) { return t["name"].str() == name; });
    changed = true;
  }
  if (changed) announce_list_changed(c->contains("notify") ? (*c)["notify"].str() : "get");
  if (c->contains("down_ms")) *down_ms = static_cast<uint32_t>((*c)["down_ms"].as_int());
  return true;
}

}  // namespace sluice::mcp_mock
