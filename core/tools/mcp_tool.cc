#include "core/tools/mcp_tool.h"

#include <mutex>
#include <set>
#include <vector>

#include "core/filter/worker_context.h"
#include "core/log/log.h"
#include "core/mcp/mcp_client_results.h"
#include "core/mcp/upstream.h"
#include "core/mcp/upstream_registry.h"
#include "core/tools/input_schema.h"
#include "core/tools/tool_source.h"

namespace sluice::tools {
namespace {

// An OpenAI function name is at most 64 characters (tool_set.cc checks static tools alike).
constexpr size_t kMaxFunctionName = 64;

// A warning said once per process: a config reloaded hundreds of times, or a list refreshed
// every few minutes, does not repeat it. Bounded: past kMaxRemembered, it forgets.
void warn_once(const std::string& message) {
  constexpr size_t kMaxRemembered = 4096;
  static std::mutex mutex;
  static std::set<std::string> warned;
  {
    std::lock_guard lock(mutex);
    if (warned.size() >= kMaxRemembered) warned.clear();
    if (!warned.insert(message).second) return;
  }
  log::warn(message);
}

// A published list and the executor its entries point to, in one allocation: whoever holds the
// list (a call in flight while a reload drops the snapshot) keeps the executor alive too.
struct ListAndExecutor {
  std::shared_ptr<const McpToolExecutor> executor;
  ToolList list;
};

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

class McpPendingCall final : public PendingCall {
 public:
  McpPendingCall(CallSink& sink, std::shared_ptr<mcp::Upstream> upstream)
      : sink_(sink), upstream_(std::move(upstream)) {}
  ~McpPendingCall() override { cancel(); }

  void cancel() override {
    if (call_ != nullptr) call_->cancel();
    call_ = nullptr;
  }

  static void on_done(void* arg, mcp::McpOutcome& outcome) {
    auto* self = static_cast<McpPendingCall*>(arg);
    self->call_ = nullptr;
    if (outcome.traffic.tools_list_changed) self->upstream_->request_refresh();
    if (outcome.renewed) {
      log::info("mcp upstream \"" + self->upstream_->endpoint().name +
                "\": the server ended the session; renewed by a call");
    }
    self->sink_.on_tool_done(call_result_of(outcome, self->upstream_->endpoint().name));
  }

  mcp::McpClientCall* call_ = nullptr;

 private:
  CallSink& sink_;
  // Keeps the endpoint and session alive for the call, even if a reload drops the entry.
  std::shared_ptr<mcp::Upstream> upstream_;
};

class McpToolSource final : public ToolSource, private mcp::UpstreamListener {
 public:
  McpToolSource(const config::ToolSpec& spec, const config::Config& config,
                std::shared_ptr<mcp::UpstreamLease> lease)
      : entry_(spec.name),
        timeout_(spec.timeout),
        lease_(std::move(lease)),
        executor_(std::make_shared<const McpToolExecutor>(lease_->upstream(), spec.max_response)),
        list_(std::make_shared<const ToolList>()) {
    // What the config's other tools already take (their names and OpenAI function names): an
    // upstream tool may not shadow them.
    const std::string own_prefix = function_name_of(spec.name) + "_";
    for (const auto& [name, other] : config.tools) {
      if (name == spec.name) continue;
      taken_.insert(name);
      taken_.insert(function_name_of(name));
      // Two mcp entries whose function names nest ("a" and "a_b") could both offer "a_b_c":
      // the one with the longer name keeps it, so the snapshot never holds two tools with one
      // function name, whatever the servers list.
      const std::string prefix = function_name_of(name) + "_";
      if (other.type == "mcp" && prefix.size() > own_prefix.size() &&
          prefix.compare(0, own_prefix.size(), own_prefix) == 0) {
        nested_prefixes_.push_back(prefix);
      }
    }
    lease_->upstream()->subscribe(this);  // the current list, if one was fetched, right away
  }

  ~McpToolSource() override { lease_->upstream()->unsubscribe(this); }

  std::shared_ptr<const ToolList> tools() const override {
    std::lock_guard lock(mutex_);
    return list_;
  }

  uint64_t version() const override {
    std::lock_guard lock(mutex_);
    return version_;
  }

 private:
  void on_upstream_tools(const std::shared_ptr<const mcp::UpstreamToolList>& list) override {
    auto held = std::make_shared<ListAndExecutor>();
    held->executor = executor_;
    ToolList& next = held->list;
    next.reserve(list->tools.size());
    std::set<std::string> functions;
    for (const mcp::UpstreamTool& tool : list->tools) {
      ToolEntry entry;
      entry.name = entry_ + "." + tool.name;
      entry.function_name = function_name_of(entry.name);
      std::string why = unusable_tool_name(entry_, tool.name);
      if (why.empty() &&
          (taken_.count(entry.name) != 0 || taken_.count(entry.function_name) != 0)) {
        why = "another tool of the config is named \"" + entry.name + "\" or \"" +
              entry.function_name + "\"";
      }
      for (const std::string& prefix : nested_prefixes_) {
        if (why.empty() && entry.function_name.compare(0, prefix.size(), prefix) == 0) {
          why = "its OpenAI function \"" + entry.function_name + "\" is the tools: entry \"" +
                prefix.substr(0, prefix.size() - 1) + "\"'s to offer";
        }
      }
      if (why.empty() && !functions.insert(entry.function_name).second) {
        why = "another of its tools is also the OpenAI function \"" + entry.function_name + "\"";
      }
      std::string error;
      if (why.empty()) {
        entry.schema = InputSchema::compile(tool.input_schema_json, &error);
        if (!entry.schema) why = "its inputSchema cannot be checked: " + error;
      }
      if (!why.empty()) {
        warn_once("tools." + entry_ + ": skipped the upstream tool \"" + tool.name.substr(0, 128) +
                  "\": " + why);
        continue;
      }
      if (!entry.schema->unchecked_keywords().empty()) {
        std::string keywords;
        for (const std::string& k : entry.schema->unchecked_keywords()) {
          keywords.append(keywords.empty() ? "" : ", ").append(k);
        }
        warn_once("tool " + entry.name +
                  ": input_schema keywords sluice does not check (calls are checked against the "
                  "rest of the schema only): " +
                  keywords);
      }
      entry.description = tool.description;
      entry.input_schema_json = tool.input_schema_json;
      entry.target = tool.name;
      entry.timeout = timeout_;
      entry.executor = executor_.get();
      next.push_back(std::move(entry));
    }
    std::shared_ptr<const ToolList> published(held, &held->list);
    std::lock_guard lock(mutex_);
    list_ = std::move(published);
    ++version_;
  }

  const std::string entry_;  // the tools: entry's name: the prefix
  const std::chrono::milliseconds timeout_;
  const std::shared_ptr<mcp::UpstreamLease> lease_;
  const std::shared_ptr<const McpToolExecutor> executor_;
  std::set<std::string> taken_;
  std::vector<std::string> nested_prefixes_;  // other mcp entries' "<function name>_" in ours

  mutable std::mutex mutex_;  // guards list_ and version_ (written on the upstream thread)
  std::shared_ptr<const ToolList> list_;
  uint64_t version_ = 0;
};

}  // namespace

std::string unusable_tool_name(std::string_view prefix, std::string_view name) {
  if (name.empty()) return "it has no name";
  for (char c : name) {
    if (!name_char(c)) return "it has characters other than letters, digits, '_', '-' and '.'";
  }
  const size_t function_length = prefix.size() + 1 + name.size();
  if (function_length > kMaxFunctionName) {
    return "\"" + std::string(prefix) + "." + std::string(name.substr(0, 128)) + "\" is " +
           std::to_string(function_length) +
           " characters, longer than an OpenAI function name may be (64)";
  }
  return {};
}

CallResult call_result_of(mcp::McpOutcome& outcome, std::string_view upstream) {
  CallResult out;
  const std::string who = "upstream MCP server \"" + std::string(upstream) + "\": ";
  switch (outcome.status) {
    case mcp::McpOutcome::Status::Result: {
      mcp::CallAnswer answer;
      std::string error;
      if (!mcp::read_call_result(outcome.result_json, &answer, &error)) {
        out.status = CallStatus::Unavailable;
        out.content = who + error;
        return out;
      }
      out.mcp_content = std::move(answer.content_json);
      if (answer.is_error) {
        out.status = CallStatus::ToolError;
        out.content = answer.text.empty() ? "the tool reported an error" : std::move(answer.text);
      } else if (!answer.structured_json.empty()) {
        out.content = std::move(answer.structured_json);
        out.json = true;
      } else {
        out.content = std::move(answer.text);
      }
      return out;
    }
    case mcp::McpOutcome::Status::RpcError:
      out.status = CallStatus::ToolError;
      out.content = std::move(outcome.message);
      return out;
    case mcp::McpOutcome::Status::Timeout:
      out.status = CallStatus::Timeout;
      out.content = std::move(outcome.message);
      return out;
    case mcp::McpOutcome::Status::Unreachable:
      out.status = CallStatus::Unavailable;
      out.content = who + outcome.message;
      return out;
    case mcp::McpOutcome::Status::Malformed:
      out.status = CallStatus::Unavailable;
      out.content = who + "malformed answer: " + outcome.message;
      return out;
  }
  out.status = CallStatus::Unavailable;
  out.content = who + "unknown outcome";
  return out;
}

McpToolExecutor::McpToolExecutor(std::shared_ptr<mcp::Upstream> upstream, uint64_t max_response)
    : upstream_(std::move(upstream)), max_response_(max_response) {}

std::unique_ptr<PendingCall> McpToolExecutor::start(const CallContext& ctx, CallSink& sink,
                                                    CallResult& failed) const {
  failed.status = CallStatus::Unavailable;
  if (ctx.worker == nullptr || ctx.worker->http == nullptr || ctx.worker->loop == nullptr) {
    failed.content = "no HTTP client on this worker";
    return nullptr;
  }
  if (ctx.deadline <= std::chrono::steady_clock::now()) {
    failed.status = CallStatus::Timeout;
    failed.content = "no time left before the deadline";
    return nullptr;
  }
  mcp::McpRequest request;
  request.method = "tools/call";
  request.params_json = mcp::tools_call_params(ctx.target, ctx.arguments);
  request.deadline = ctx.deadline;
  request.max_response_bytes = static_cast<size_t>(max_response_);
  auto pending = std::make_unique<McpPendingCall>(sink, upstream_);
  pending->call_ = mcp::McpClientCall::start(
      ctx.worker->loop, ctx.worker->http, upstream_->endpoint_ptr(), upstream_->sessions(),
      std::move(request), &McpPendingCall::on_done, pending.get());
  return pending;
}

std::shared_ptr<ToolSource> build_mcp_tool(const ToolBuildInputs& in) {
  mcp::McpEndpoint endpoint;
  endpoint.name = in.spec.name;
  endpoint.url = in.spec.url;
  endpoint.headers = in.spec.headers;
  return mcp_tool_source(in.spec, in.config, mcp::UpstreamRegistry::process().acquire(endpoint));
}

std::shared_ptr<ToolSource> mcp_tool_source(const config::ToolSpec& spec,
                                            const config::Config& config,
                                            std::shared_ptr<mcp::UpstreamLease> lease) {
  return std::make_shared<McpToolSource>(spec, config, std::move(lease));
}

}  // namespace sluice::tools
