// `type: mcp` tools against a real MCP server over real sockets: the upstream thread
// (UpstreamRegistry) keeps the list of sluice_mock_mcp fresh, and calls run from a worker loop
// of the test's own — as sluice's workers run them — through the tool source a snapshot holds.
// Every fault an upstream MCP server can commit (issue 13) is here: down at start-up and back,
// a dropped session, list_changed while calls are in flight, a hanging call, 5xx, isError, a
// body over max_response, malformed JSON-RPC.
#include <uv.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "core/config/config.h"
#include "core/filter/worker_context.h"
#include "core/mcp/upstream_registry.h"
#include "core/plugin/http_caller.h"
#include "core/tools/mcp_tool.h"
#include "core/tools/tool_source.h"
#include "tests/support/integration_env.h"
#include "tests/support/mock_mcp_server.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;
using tools::CallResult;
using tools::CallStatus;

// A worker of the test's own: a thread running a libuv loop with an HttpCaller, as each of
// sluice's workers has. Tool calls start and end on it.
class TestWorker {
 public:
  TestWorker() {
    uv_loop_init(&loop_);
    uv_async_init(&loop_, &async_, &TestWorker::on_async);
    async_.data = this;
    http_ = std::make_unique<plugin::HttpCaller>(&loop_);
    context_.loop = &loop_;
    context_.http = http_.get();
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }

  ~TestWorker() {
    run([this] {
      for (auto& job : jobs_) job->stop_timer();
      jobs_.clear();
      http_->shutdown(
          [](void* arg) {
            auto* self = static_cast<TestWorker*>(arg);
            uv_close(reinterpret_cast<uv_handle_t*>(&self->async_), nullptr);
          },
          this);
    });
    thread_.join();
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "the worker loop closed with handles still open";
  }

  // Runs `fn` on the worker's loop.
  void run(std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(fn));
    uv_async_send(&async_);
  }

  // Calls `entry` with `arguments` (deadline: `timeout` from now) and waits for the result —
  // at most `timeout` + 5s, so a call that never ends fails the test instead of hanging it.
  // Like sluice's tool exchange, a timer of its own cancels the call at the deadline (the
  // executor's own deadline and this one may fire in the same loop turn).
  std::optional<CallResult> call(const tools::ToolEntry& entry, std::string arguments,
                                 std::chrono::milliseconds timeout) {
    auto job = std::make_shared<Job>();
    job->tool = entry.name;
    job->target = entry.target;
    job->arguments = std::move(arguments);
    std::future<CallResult> result = job->promise.get_future();
    run([this, job, &entry, timeout] {
      jobs_.push_back(job);
      tools::CallContext ctx;
      ctx.tool = job->tool;
      ctx.target = job->target;
      ctx.request_id = "test-call";
      ctx.arguments = job->arguments;
      ctx.deadline = std::chrono::steady_clock::now() + timeout;
      ctx.worker = &context_;
      CallResult failed;
      job->pending = entry.executor->start(ctx, *job, failed);
      if (!job->pending) {
        job->promise.set_value(std::move(failed));
        return;
      }
      job->timer = new uv_timer_t;
      uv_timer_init(&loop_, job->timer);
      job->timer->data = job.get();
      uv_timer_start(
          job->timer,
          [](uv_timer_t* t) {
            auto* j = static_cast<Job*>(t->data);
            j->pending->cancel();
            j->stop_timer();
            CallResult r;
            r.status = CallStatus::Timeout;
            r.content = "cancelled at the deadline";
            j->promise.set_value(std::move(r));
          },
          static_cast<uint64_t>(timeout.count()), 0);
    });
    if (result.wait_for(timeout + 5s) != std::future_status::ready) return std::nullopt;
    return result.get();
  }

  // HTTP calls in flight on this worker (0 once every call has ended).
  size_t http_calls_in_flight() {
    std::promise<size_t> n;
    run([&] { n.set_value(http_->calls_in_flight()); });
    return n.get_future().get();
  }

 private:
  struct Job final : tools::CallSink {
    std::string tool, target, arguments;
    std::unique_ptr<tools::PendingCall> pending;
    std::promise<CallResult> promise;
    uv_timer_t* timer = nullptr;  // the deadline; freed in its close callback
    void on_tool_done(CallResult&& result) override {
      stop_timer();
      promise.set_value(std::move(result));
    }
    void stop_timer() {
      if (timer == nullptr) return;
      uv_close(reinterpret_cast<uv_handle_t*>(timer),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
      timer = nullptr;
    }
  };

  static void on_async(uv_async_t* handle) {
    auto* self = static_cast<TestWorker*>(handle->data);
    std::deque<std::function<void()>> todo;
    {
      std::lock_guard lock(self->mutex_);
      todo.swap(self->queue_);
    }
    for (auto& fn : todo) fn();
  }

  uv_loop_t loop_{};
  uv_async_t async_{};
  std::unique_ptr<plugin::HttpCaller> http_;
  filter::WorkerContext context_;
  std::thread thread_;
  std::mutex mutex_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::shared_ptr<Job>> jobs_;  // the loop's; their PendingCalls die on it
};

// Fast retries, so that a server coming back is seen within a test's patience.
mcp::KeeperOptions fast_options() {
  mcp::KeeperOptions o;
  o.retry_min = 50ms;
  o.retry_max = 300ms;
  o.stream_retry_min = 50ms;
  o.stream_retry_max = 300ms;
  o.page_timeout = 3s;
  return o;
}

config::ToolSpec mcp_spec(const std::string& url) {
  config::ToolSpec spec;
  spec.name = "github";
  spec.type = "mcp";
  spec.url = url;
  spec.headers = {{"Authorization", "Bearer upstream-token"}};
  spec.timeout = config::Duration{3'000};
  spec.max_response = 64 << 10;
  return spec;
}

class McpUpstream : public ::testing::Test {
 protected:
  // Starts the mock with `args` and a source for it on a registry of the test's own.
  void start(std::vector<std::string> args = {}) {
    mock_ = std::make_unique<MockMcpServer>(mock_mcp_binary(), std::move(args));
    ASSERT_TRUE(mock_->ok());
    make_source(mock_->url());
  }
  void make_source(const std::string& url) {
    spec_ = mcp_spec(url);
    mcp::McpEndpoint endpoint{spec_.name, spec_.url, spec_.headers};
    source_ = tools::mcp_tool_source(spec_, config_, registry_.acquire(endpoint));
  }

  // Waits until the source offers `count` tools.
  bool tools_become(size_t count, std::chrono::milliseconds within = 5s) {
    return eventually([&] { return source_->tools()->size() == count; }, within);
  }

  // The current entry named `name` ("github.echo"), with the list that holds it.
  std::pair<std::shared_ptr<const tools::ToolList>, const tools::ToolEntry*> find(
      const std::string& name) {
    auto list = source_->tools();
    for (const tools::ToolEntry& e : *list) {
      if (e.name == name) return {list, &e};
    }
    return {list, nullptr};
  }

  std::optional<CallResult> call(const std::string& name, const std::string& args,
                                 std::chrono::milliseconds timeout = 3s) {
    auto [list, entry] = find(name);
    if (entry == nullptr) {
      ADD_FAILURE() << name << " is not offered";
      return std::nullopt;
    }
    return worker_.call(*entry, args, timeout);
  }

  void TearDown() override {
    source_.reset();  // the last lease: the keeper retires
    registry_.stop();
  }

  mcp::UpstreamRegistry registry_{fast_options()};
  TestWorker worker_;
  config::Config config_;
  config::ToolSpec spec_;
  std::unique_ptr<MockMcpServer> mock_;
  std::shared_ptr<tools::ToolSource> source_;
};

constexpr size_t kMockTools = 6;  // echo add fail sleep big image

TEST_F(McpUpstream, ListsTheServersToolsUnderThePrefixAndCallsOne) {
  start();
  ASSERT_TRUE(tools_become(kMockTools)) << source_->tools()->size();
  auto [list, echo] = find("github.echo");
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->function_name, "github_echo");
  EXPECT_EQ(echo->description, "Echoes its text");
  EXPECT_NE(echo->input_schema_json.find(R"("required":["text"])"), std::string::npos);
  EXPECT_EQ(echo->target, "echo");

  auto r = call("github.echo", R"({"text":"hello upstream"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
  EXPECT_EQ(r->content, "hello upstream");
  EXPECT_EQ(r->mcp_content, R"([{"type":"text","text":"hello upstream"}])");

  r = call("github.add", R"({"a":2,"b":40})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok);
  EXPECT_TRUE(r->json);
  EXPECT_EQ(r->content, R"({"sum":42})");

  // One session for the keeper and the worker; every request after initialize carried it,
  // the negotiated version and the entry's headers.
  EXPECT_EQ(mock_->count("initialize"), 1);
  EXPECT_EQ(mock_->count("notifications/initialized"), 1);
  auto requests = mock_->requests();
  ASSERT_TRUE(requests);
  for (const Json& req : requests->items()) {
    if (req["method"].str() != "POST") continue;
    EXPECT_EQ(req["headers"]["authorization"].str(), "Bearer upstream-token");
    if (req["body"].str().find("\"initialize\"") != std::string::npos) continue;
    EXPECT_EQ(req["headers"]["mcp-session-id"].str(), "mock-session-1") << req.dump();
    EXPECT_EQ(req["headers"]["mcp-protocol-version"].str(), "2025-11-25") << req.dump();
  }
  EXPECT_EQ(worker_.http_calls_in_flight(), 0u);
}

TEST_F(McpUpstream, SseAnswersAndPagedListsWork) {
  start({"--sse", "--page-size", "4", "--extra-tools", "9"});
  ASSERT_TRUE(tools_become(kMockTools + 9)) << source_->tools()->size();
  EXPECT_GE(mock_->count("tools/list"), 4);  // 15 tools, 4 a page
  auto r = call("github.extra_8", R"({"text":"paged"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
  EXPECT_EQ(r->content, "paged");
}

TEST_F(McpUpstream, DownAtStartUpThenBackTheToolsAppear) {
  const uint16_t port = unused_port();
  make_source("http://127.0.0.1:" + std::to_string(port) + "/mcp");
  std::this_thread::sleep_for(300ms);  // several failed attempts
  EXPECT_EQ(source_->tools()->size(), 0u);

  mock_ = std::make_unique<MockMcpServer>(mock_mcp_binary(), std::vector<std::string>{}, port);
  ASSERT_TRUE(mock_->ok());
  ASSERT_TRUE(tools_become(kMockTools));
  auto r = call("github.echo", R"({"text":"back"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
}

TEST_F(McpUpstream, ADroppedSessionIsRenewedAndTheCallSucceeds) {
  start();
  ASSERT_TRUE(tools_become(kMockTools));
  ASSERT_TRUE(mock_->drop_sessions());
  auto r = call("github.echo", R"({"text":"after the drop"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
  EXPECT_EQ(r->content, "after the drop");
  EXPECT_EQ(mock_->count("initialize"), 2);
  EXPECT_GE(mock_->count("404"), 1);
  // The renewed session is everyone's: the next call needs no new one.
  r = call("github.echo", R"({"text":"again"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok);
  EXPECT_EQ(mock_->count("initialize"), 2);
}

TEST_F(McpUpstream, ListChangedOnTheGetStreamWhileCallsAreInFlight) {
  start();
  ASSERT_TRUE(tools_become(kMockTools));
  ASSERT_TRUE(eventually(
      [&] { return mock_->stats().value_or(Json())["get_streams_open"].as_int() == 1; }, 5s));
  auto [list, sleep] = find("github.sleep");
  ASSERT_NE(sleep, nullptr);
  // Three slow calls in flight, then the list changes under them.
  std::vector<std::future<std::optional<CallResult>>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(std::async(std::launch::async, [&, entry = sleep] {
      return worker_.call(*entry, R"({"ms":400})", 3s);
    }));
  }
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(mock_->add_tool("triage", "get"));
  ASSERT_TRUE(mock_->remove_tool("big", "get"));
  ASSERT_TRUE(eventually(
      [&] {
        return find("github.triage").second != nullptr && find("github.big").second == nullptr;
      },
      5s));
  for (auto& c : calls) {
    auto r = c.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
    EXPECT_EQ(r->content, "slept 400ms");
  }
  auto r = call("github.triage", R"({"text":"new tool"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
}

TEST_F(McpUpstream, AServerRestartBringsBackTheSessionAndTheNotificationStream) {
  start();
  ASSERT_TRUE(tools_become(kMockTools));
  auto streams_open = [&] { return mock_->stats().value_or(Json())["get_streams_open"].as_int(); };
  ASSERT_TRUE(eventually([&] { return streams_open() == 1; }, 5s));
  // A restart: every connection dropped, every session forgotten, back after 300ms.
  ASSERT_TRUE(mock_->control(R"({"drop_sessions":true,"down_ms":300})"));
  // The stream's reconnect gets 404: the list is fetched again, which renews the session, and
  // the stream opens again with the new one.
  ASSERT_TRUE(
      eventually([&] { return mock_->count("initialize") == 2 && streams_open() == 1; }, 10s))
      << mock_->stats().value_or(Json()).dump();
  ASSERT_TRUE(mock_->add_tool("after_restart", "get"));
  EXPECT_TRUE(eventually([&] { return find("github.after_restart").second != nullptr; }, 5s));
  auto r = call("github.echo", R"({"text":"restarted"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
  EXPECT_EQ(mock_->count("initialize"), 2);
}

TEST_F(McpUpstream, ListChangedRidingOnACallAnswerRefreshesTheList) {
  start({"--no-get-stream"});
  ASSERT_TRUE(tools_become(kMockTools));
  ASSERT_TRUE(mock_->add_tool("late", "post"));  // told inside the next POST's answer
  auto r = call("github.echo", R"({"text":"carrier"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
  EXPECT_TRUE(tools_become(kMockTools + 1));
  EXPECT_NE(find("github.late").second, nullptr);
  EXPECT_GE(mock_->count("GET"), 1);  // asked for the stream once: 405
}

TEST_F(McpUpstream, AHangingCallTimesOutAndNothingIsStuck) {
  start();
  ASSERT_TRUE(tools_become(kMockTools));
  ASSERT_TRUE(mock_->fault("hang", "tools/call"));
  const auto started = std::chrono::steady_clock::now();
  auto r = call("github.echo", R"({"text":"into the void"})", 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r) << "the call never ended";
  EXPECT_EQ(r->status, CallStatus::Timeout) << r->content;
  EXPECT_LT(took, 2s);
  EXPECT_EQ(worker_.http_calls_in_flight(), 0u);
  r = call("github.echo", R"({"text":"still works"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
}

TEST_F(McpUpstream, FaultsBecomeClearResults) {
  start();
  ASSERT_TRUE(tools_become(kMockTools));
  struct Case {
    std::string fault;
    CallStatus status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"status:503", CallStatus::Unavailable, "HTTP 503"},
      {"is_error", CallStatus::ToolError, "the tool failed on purpose"},
      {"rpc_error", CallStatus::ToolError, "internal error on purpose"},
      {"too_large:200000", CallStatus::Unavailable, "response too large"},
      {"malformed:not_json", CallStatus::Unavailable, "not JSON"},
      {"malformed:no_id", CallStatus::Unavailable, "malformed"},
      {"malformed:wrong_version", CallStatus::Unavailable, "\"2.0\""},
      {"malformed:batch", CallStatus::Unavailable, "batch"},
      {"malformed:wrong_id", CallStatus::Unavailable, "not to request"},
      {"close", CallStatus::Unavailable, "upstream MCP server \"github\""},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(mock_->fault(c.fault, "tools/call"));
    auto r = call("github.echo", R"({"text":"x"})");
    ASSERT_TRUE(r) << c.fault;
    EXPECT_EQ(r->status, c.status) << c.fault << ": " << r->content;
    EXPECT_NE(r->content.find(c.says), std::string::npos) << c.fault << ": " << r->content;
  }
  // isError keeps the upstream's content for MCP clients.
  auto r = call("github.fail", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::ToolError);
  EXPECT_EQ(r->mcp_content, R"([{"type":"text","text":"the tool failed on purpose"}])");
  // An unknown tool upstream (the list was stale): the server's JSON-RPC error.
  ASSERT_TRUE(mock_->remove_tool("echo", "none"));
  r = call("github.echo", R"({"text":"x"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::ToolError);
  EXPECT_NE(r->content.find("Unknown tool: echo"), std::string::npos) << r->content;
  // And after all that, the upstream still serves.
  r = call("github.add", R"({"a":1,"b":1})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
}

TEST_F(McpUpstream, ToolsSluiceCannotOfferAreSkippedTheOthersStay) {
  // The config also has a static github.echo, and an mcp entry github_extra whose function
  // names ("github_extra_...") nest in this one's.
  config::ToolSpec static_echo;
  static_echo.name = "github.echo";
  static_echo.type = "http";
  config_.tools.emplace(static_echo.name, static_echo);
  config::ToolSpec nested;
  nested.name = "github_extra";
  nested.type = "mcp";
  config_.tools.emplace(nested.name, nested);
  start({"--extra-tools", "2"});
  ASSERT_TRUE(tools_become(kMockTools + 2 - 3)) << source_->tools()->size();
  EXPECT_EQ(find("github.echo").second, nullptr);  // the static one wins
  EXPECT_EQ(find("github.extra_0").second, nullptr);
  EXPECT_NE(find("github.add").second, nullptr);

  // A name that is not an identifier, and one too long for an OpenAI function name.
  ASSERT_TRUE(mock_->add_tool("has space", "none"));
  ASSERT_TRUE(mock_->add_tool(std::string(60, 'n'), "none"));
  ASSERT_TRUE(mock_->add_tool("fine_one", "get"));
  ASSERT_TRUE(eventually([&] { return find("github.fine_one").second != nullptr; }, 5s));
  EXPECT_EQ(source_->tools()->size(), kMockTools + 2 - 3 + 1);
  for (const tools::ToolEntry& e : *source_->tools()) {
    EXPECT_LE(e.function_name.size(), 64u) << e.name;
    EXPECT_EQ(e.name.find(' '), std::string::npos) << e.name;
    EXPECT_NE(e.schema, nullptr) << e.name << ": its schema was not compiled";
  }
}

TEST_F(McpUpstream, AnAnswerStreamCutBeforeTheResponseIsResumed) {
  start();
  ASSERT_TRUE(tools_become(kMockTools));
  ASSERT_TRUE(mock_->fault("sse_cut", "tools/call"));
  auto r = call("github.echo", R"({"text":"resumed"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Ok) << r->content;
  EXPECT_EQ(r->content, "resumed");
  EXPECT_EQ(mock_->count("resume"), 1);
}

TEST_F(McpUpstream, AServerSpeakingAnotherVersionOffersNoTools) {
  start({"--protocol", "2024-11-05"});
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(source_->tools()->size(), 0u);
  EXPECT_GE(mock_->count("initialize"), 2);  // retried, with backoff
}

TEST_F(McpUpstream, DownAfterwardsKeepsTheListAndCallsFailClearly) {
  start();
  ASSERT_TRUE(tools_become(kMockTools));
  ASSERT_TRUE(mock_->stop());
  auto r = call("github.echo", R"({"text":"anyone?"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CallStatus::Unavailable) << r->content;
  EXPECT_NE(r->content.find("connect"), std::string::npos) << r->content;
  EXPECT_EQ(source_->tools()->size(), kMockTools);
}

TEST_F(McpUpstream, TheSameEntryKeepsItsUpstreamAcrossReloadsAndALastLeaseRetiresIt) {
  start();
  ASSERT_TRUE(tools_become(kMockTools));
  // A reload that keeps the entry: a new source on the same upstream sees the list at once.
  auto again = tools::mcp_tool_source(
      spec_, config_, registry_.acquire(mcp::McpEndpoint{spec_.name, spec_.url, spec_.headers}));
  EXPECT_EQ(again->tools()->size(), kMockTools);
  source_ = std::move(again);  // the old snapshot goes
  EXPECT_EQ(registry_.keepers(), 1u);
  EXPECT_EQ(mock_->count("initialize"), 1);

  // A changed token is another upstream.
  auto other =
      registry_.acquire(mcp::McpEndpoint{spec_.name, spec_.url, {{"Authorization", "Bearer new"}}});
  EXPECT_TRUE(eventually([&] { return registry_.keepers() == 2; }, 2s));
  other.reset();

  // No snapshot uses it any more: the keeper retires, its session is DELETEd, the thread goes.
  source_.reset();
  EXPECT_TRUE(eventually([&] { return !registry_.thread_running(); }, 5s));
  EXPECT_GE(mock_->count("DELETE"), 1);
  EXPECT_EQ(mock_->stats().value_or(Json())["get_streams_open"].as_int(), 0);
}

}  // namespace
}  // namespace sluice::test
