// RequestContext: everything the filters of one request see and share, owned by the proxy
// session on the worker loop. Lives from the parsed request to on_complete; reused (cleared)
// for the next request of the connection so steady state allocates nothing new.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/config/config.h"
#include "core/filter/worker_context.h"
#include "core/http/request.h"
#include "core/json/request_fields.h"
#include "core/usage/usage.h"

namespace sluice::state {
class ProviderState;
}

namespace sluice::filter {

class ConfigSnapshot;

// What was asked for, from the path. Decides the error shape and which fields matter.
enum class Endpoint : uint8_t {
  ChatCompletions,  // POST /v1/chat/completions
  Completions,      // POST /v1/completions
  Embeddings,       // POST /v1/embeddings
  Responses,        // POST /v1/responses
  Models,           // GET  /v1/models (answered locally)
  Messages,         // POST /v1/messages (Anthropic shape)
  Mcp,              // POST/GET/DELETE /mcp: MCP over Streamable HTTP, but not a tools/call
  ToolList,         // GET  /v1/tools (answered locally)
  ToolCall,         // POST /v1/tools/{name}, or a tools/call on /mcp: counts against rpm
  Unknown,
};
const char* to_string(Endpoint e);
// Path + method → endpoint; Unknown for anything else.
Endpoint endpoint_of(std::string_view method, std::string_view path);
// Endpoints whose request names a model and goes to a provider.
bool goes_to_provider(Endpoint e);
// Endpoints of tools (DESIGN §5 "Tools"): /mcp, /v1/tools, /v1/tools/{name}.
bool is_tool_endpoint(Endpoint e);

// One place the router may send the request: a target of a model group on a provider.
struct Candidate {
  const config::ModelGroup* group = nullptr;  // null when routed to default_provider
  const config::Target* target = nullptr;     // null when routed to default_provider
  const config::Provider* provider = nullptr;
  std::string_view physical_model;  // target->model, or the requested model unchanged
  // The provider's process-wide state (load, circuit, health): never null for a candidate the
  // router offers; outlives every snapshot.
  state::ProviderState* state = nullptr;
};

// How one upstream attempt ended, for on_attempt_done.
enum class AttemptResult : uint8_t {
  Success,         // a complete response with status < 500 and != 429
  HttpError,       // upstream answered 5xx or 429 (see status)
  ConnectFailure,  // could not connect (DNS, refused, TLS)
  Reset,           // connection lost mid-exchange
  Timeout,         // connect/first_byte/idle/total timeout
  Protocol,        // unparseable response
  Overloaded,      // the pool had no connection to give in time
};
const char* to_string(AttemptResult r);

struct AttemptOutcome {
  AttemptResult result = AttemptResult::Success;
  int status = 0;        // upstream HTTP status, 0 if none arrived
  uint32_t attempt = 1;  // 1-based
  const Candidate* candidate = nullptr;
  std::optional<std::chrono::milliseconds> retry_after;  // from an upstream retry-after
  bool downstream_started = false;  // true: bytes already went to the client, no retry possible
  // The route plan still has candidates not tried yet (other targets, fallback groups), so a
  // Fallback decision has somewhere to go.
  bool more_candidates = false;
};

// A reply sluice makes itself (errors, /v1/models, policy refusals).
struct LocalReply {
  int status = 0;
  std::string type;     // "invalid_request_error", ...
  std::string code;     // "model_not_found", ... (may be empty)
  std::string message;  // human-readable, precise
  std::string body;     // if non-empty: sent as is (JSON) instead of the error shape
};

// Bump allocator for per-request objects (filters' state). Released as a whole at the end of
// the request; objects made with make<T> get their destructors run then.
class RequestArena {
 public:
  RequestArena();
  ~RequestArena();
  template <typename T, typename... Args>
  T* make(Args&&... args) {
    void* p = resource_.allocate(sizeof(T), alignof(T));
    T* obj = new (p) T(std::forward<Args>(args)...);
    if constexpr (!std::is_trivially_destructible_v<T>) {
      destructors_.push_back({[](void* o) { static_cast<T*>(o)->~T(); }, obj});
    }
    return obj;
  }
  void release();  // runs destructors (reverse order) and rewinds

 private:
  alignas(16) unsigned char inline_[2048];
  std::pmr::monotonic_buffer_resource resource_;
  std::vector<std::pair<void (*)(void*), void*>> destructors_;
};

// Implemented by the session: continues a chain that a filter stopped.
class ChainResumer {
 public:
  virtual ~ChainResumer() = default;
  virtual void resume_chain() = 0;
};

class RequestContext {
 public:
  RequestContext() = default;
  RequestContext(const RequestContext&) = delete;
  RequestContext& operator=(const RequestContext&) = delete;

  // --- set by the session before the chain runs -------------------------------------------
  const ConfigSnapshot* snapshot = nullptr;  // pinned by the session for the whole request
  WorkerContext* worker = nullptr;           // the worker serving it (see worker_context.h)
  const config::Config* config = nullptr;    // snapshot's config
  http::HttpRequest* request = nullptr;      // head + body (body may be rewritten by filters)
  Endpoint endpoint = Endpoint::Unknown;
  std::string request_id;      // client's x-request-id or a new one
  json::RequestFields fields;  // parsed for JSON endpoints
  std::chrono::steady_clock::time_point started_at;
  // The prompt's size in tokens, estimated from the body (usage::estimate_tokens_from_bytes):
  // what limits and budgets reserve at admission before the provider says the real number.
  uint64_t prompt_tokens_estimate = 0;
  // A plugin's model call made for an agent (internal_caller.h): the session verified its
  // internal credential and removed it; the auth filter accepts internal_agent as the agent.
  bool internal_call = false;
  std::string internal_agent;  // "" for an anonymous caller

  // --- set by filters ----------------------------------------------------------------------
  const config::Agent* agent = nullptr;             // set by auth; null = anonymous
  const config::ModelGroup* model_group = nullptr;  // set by model_alias; null = default_provider

  // Ends the chain with a local reply (return RequestStatus::Respond afterwards, or call
  // resume_chain() after an async Stop).
  void respond(int status, std::string_view type, std::string_view code, std::string message);
  void respond_json(int status, std::string body);
  bool has_local_reply() const { return local_reply_.status != 0; }
  const LocalReply& local_reply() const { return local_reply_; }

  // Headers added to whatever response goes downstream (local or proxied).
  void add_response_header(std::string_view name, std::string_view value);
  std::string_view extra_response_headers() const { return extra_headers_; }  // "N: v\r\n"...

  // --- what plugin hosts may change (filters/lua, filters/plugin) ---------------------------
  // Replaces the request body (in on_request). For an endpoint that goes to a provider the
  // new body must be a JSON object with a non-empty string "model": `fields` and
  // prompt_tokens_estimate are read again from it. false (body unchanged) with *error saying
  // why otherwise.
  bool replace_request_body(std::string body, std::string* error);

  // The upstream response's headers, readable during on_response_headers only (empty
  // otherwise): views into the upstream parser's buffer.
  std::span<const http::HeaderView> upstream_response_headers;
  std::optional<std::string_view> upstream_response_header(std::string_view name) const;
  // Changes to the response head that goes downstream (proxied or local): set replaces every
  // header of that name (the upstream's included) with one line; remove drops them. Names and
  // values must already be checked (http::valid_header_name/value). Kept until reset().
  void set_response_header(std::string_view name, std::string_view value);
  void remove_response_header(std::string_view name);
  struct HeaderEdit {
    std::string name;
    std::optional<std::string> value;  // nullopt: remove
  };
  const std::vector<HeaderEdit>& response_header_edits() const { return header_edits_; }
  // True if the upstream header `name` must be left out because an edit names it.
  bool response_header_edited(std::string_view name) const;

  // Response-body rewriting (streaming). A filter that may rewrite chunks calls
  // rewrite_response_body() in on_response_headers: the response then goes out chunked (its
  // upstream Content-Length no longer holds). In on_response_chunk it may then call
  // replace_response_chunk(s): later filters and the client see `s` instead of the chunk.
  void rewrite_response_body() { rewrites_body_ = true; }
  bool rewrites_response_body() const { return rewrites_body_; }
  void replace_response_chunk(std::string chunk) {
    chunk_replacement_ = std::move(chunk);
    has_chunk_replacement_ = true;
  }
  // For the session: takes the replacement set during the last on_response_chunk, if any.
  bool take_chunk_replacement(std::string& out) {
    if (!has_chunk_replacement_) return false;
    has_chunk_replacement_ = false;
    out.swap(chunk_replacement_);
    return true;
  }

  // After a Stop: continue the chain (must be called on the request's worker loop).
  void resume_chain();
  void set_resumer(ChainResumer* r) { resumer_ = r; }

  template <typename T, typename... Args>
  T* arena_make(Args&&... args) {
    return arena_.make<T>(std::forward<Args>(args)...);
  }

  // --- filled in by the session as the request proceeds (read in on_complete) -------------
  int response_status = 0;   // what went downstream
  uint32_t attempts = 0;     // upstream attempts made
  Candidate last_candidate;  // provider/model of the last attempt
  uint64_t bytes_in = 0;     // request bytes received
  uint64_t bytes_out = 0;    // response body bytes sent downstream
  bool client_gone = false;  // client disconnected before the end
  // Tokens of the attempt that answered, read from the response as it passed (JSON or SSE);
  // source None when no upstream answered. Final from on_complete on.
  usage::Usage usage;
  // What this request cost in USD: set by the cost filter at on_complete (from `usage` and the
  // physical model's price); 0 when unpriced, refused or no cost filter. The ledger records it.
  double cost_usd = 0;
  // Set with cost_usd when the physical model has no price (so cost_usd is 0 for that reason):
  // counted in sluice_unpriced_requests_total{model}.
  bool unpriced = false;
  // Set by a filter that returns Retry or Fallback from on_attempt_done: how long the session
  // waits before the next attempt (backoff, retry-after). Reset to 0 before each decision.
  std::chrono::milliseconds retry_delay{0};
  std::optional<std::chrono::steady_clock::time_point> upstream_sent_at, first_byte_at;

  // Clears everything for the next request (keeps capacity).
  void reset();

 private:
  LocalReply local_reply_;
  std::string extra_headers_;
  std::vector<HeaderEdit> header_edits_;
  bool rewrites_body_ = false;
  bool has_chunk_replacement_ = false;
  std::string chunk_replacement_;
  ChainResumer* resumer_ = nullptr;
  RequestArena arena_;
};

}  // namespace sluice::filter
