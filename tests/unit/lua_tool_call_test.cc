// Calls of `type: lua` tools (filters/lua/lua_tool_call.*) driven through the ToolExecutor
// interface on real libuv loops, as core/tools' call runner drives them: text and JSON answers,
// errors with file and line, the instruction and memory budgets, what ctx carries, sluice.http
// against a loopback HTTP server written here (answers, 5xx, refused, hangs), the deadline
// (the HTTP request is held to it; a runner's cancel abandons the coroutine, never resumed),
// the snapshot going away while calls are in flight, and two workers calling at once.
//
// Like http_caller_test, this lives in tests/unit because it links the sluice libraries, and
// uses real sockets. Every sink checks it is not called from inside start(); every test ends
// with the loops closed clean (no handle left behind).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config/loader.h"
#include "core/filter/worker_context.h"
#include "core/metrics/metrics.h"
#include "core/plugin/http_caller.h"
#include "core/plugin/shared_dict.h"
#include "core/tools/tool_set.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

const bool kSigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

// ---- a loopback HTTP server ------------------------------------------------------------------

// Answers keep-alive requests on 127.0.0.1:<ephemeral>, a thread per connection. `answer`
// gets the request line ("GET /x HTTP/1.1") and returns the whole response, or nullopt to
// never answer (the connection is then held until the client closes it, which is counted).
class LoopbackServer {
 public:
  using Answer = std::function<std::optional<std::string>(const std::string& request_line)>;

  explicit LoopbackServer(Answer answer) : answer_(std::move(answer)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 256) != 0) {
      ADD_FAILURE() << "bind/listen failed";
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~LoopbackServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Request lines received, in order.
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  // Unanswered requests whose connection the client closed.
  int abandoned() const { return abandoned_.load(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      open_fds_.push_back(fd);
      threads_.emplace_back([this, fd] {
        serve(fd);
        std::lock_guard<std::mutex> l(mutex_);
        std::erase(open_fds_, fd);
        ::close(fd);
      });
    }
  }

  void serve(int fd) {
    std::string buffered;
    char buf[16384];
    for (;;) {
      size_t head_end;
      while ((head_end = buffered.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        buffered.append(buf, static_cast<size_t>(n));
      }
      // The tools here send no body with their requests.
      const std::string line = buffered.substr(0, buffered.find("\r\n"));
      buffered.erase(0, head_end + 4);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(line);
      }
      std::optional<std::string> reply = answer_(line);
      if (!reply) {
        while (::recv(fd, buf, sizeof buf, 0) > 0) {
        }
        if (!stopping_) ++abandoned_;
        return;
      }
      if (::send(fd, reply->data(), reply->size(), MSG_NOSIGNAL) != ssize_t(reply->size())) return;
    }
  }

  Answer answer_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> abandoned_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> open_fds_;          // guarded by mutex_
  std::vector<std::thread> threads_;   // guarded by mutex_
  std::vector<std::string> requests_;  // guarded by mutex_
};

std::string http_response(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// ---- a worker: its loop and its HTTP client --------------------------------------------------

class Worker {
 public:
  explicit Worker(unsigned index) {
    uv_loop_init(&loop_);
    http_ = std::make_unique<plugin::HttpCaller>(&loop_);
    context_.index = index;
    context_.loop = &loop_;
    context_.http = http_.get();
  }
  ~Worker() {
    begin_shutdown();
    run_until([&] { return shut_down_; }, 5s);
    http_.reset();
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open";
  }

  // The worker stops: its HTTP client fails the calls in flight, then closes.
  void begin_shutdown() {
    if (shutting_down_) return;
    shutting_down_ = true;
    http_->shutdown([](void* arg) { *static_cast<bool*>(arg) = true; }, &shut_down_);
  }

  filter::WorkerContext* context() { return &context_; }
  uv_loop_t* loop() { return &loop_; }

  // Runs the loop until `done()` or `limit` passed; false on the limit.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    uv_timer_t tick;  // wakes the loop to look at the clock
    uv_timer_init(&loop_, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 5, 5);
    const auto end = Clock::now() + limit;
    bool ok = true;
    while (!done()) {
      if (Clock::now() >= end) {
        ok = false;
        break;
      }
      uv_run(&loop_, UV_RUN_ONCE);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);  // the close callback
    return ok;
  }

 private:
  uv_loop_t loop_;
  std::unique_ptr<plugin::HttpCaller> http_;
  filter::WorkerContext context_;
  bool shutting_down_ = false;
  bool shut_down_ = false;
};

// Records a call's end; checks it is called once and never from inside start().
class RecordingSink final : public tools::CallSink {
 public:
  void on_tool_done(tools::CallResult&& result) override {
    ++calls;
    if (starting) ADD_FAILURE() << "the sink ran inside start()";
    this->result = std::move(result);
  }
  int calls = 0;
  bool starting = false;
  tools::CallResult result;
};

// One call in flight, with what the caller keeps for it (the context's strings are borrowed).
struct InFlight {
  std::string tool;
  std::string arguments;
  std::string request_id = "req-42";
  std::string agent = "sofia";
  RecordingSink sink;
  tools::CallResult failed;  // when start() returned no call
  std::unique_ptr<tools::PendingCall> pending;
  bool done() const { return sink.calls > 0; }
};

class LuaToolCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-lua-tool-call-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    worker_.reset();  // each test released its calls already
    tools_.reset();
    std::filesystem::remove_all(dir_);
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }

  // The tools of a config whose tools: section is `tools`; one worker (index 0) to call them.
  void build(const std::string& tools, int workers = 1) {
    const std::string yaml = "listen: 127.0.0.1:0\nworkers: " + std::to_string(workers) +
                             "\nproviders:\n  demo: {type: mock}\nmodels:\n  fast:\n"
                             "    targets: [{provider: demo, model: m}]\nfilters: []\ntools:\n" +
                             tools;
    config_ = config::load_config_text(yaml, dir_ + "/sluice.yaml",
                                       [](const std::string&) { return std::nullopt; });
    tools_ = tools::ToolSet::build(*config_, {});
    if (!worker_) worker_ = std::make_unique<Worker>(0);
  }

  // Starts a call of `tool` on `worker` with a deadline `timeout` from now (by default the
  // tool's own timeout, as the tools endpoint does).
  std::unique_ptr<InFlight> start(const std::string& tool, const std::string& arguments,
                                  std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                                  Worker* worker = nullptr) {
    if (worker == nullptr) worker = worker_.get();
    auto call = std::make_unique<InFlight>();
    call->tool = tool;
    call->arguments = arguments;
    tools::FoundTool found = tools_->find(nullptr, tool);
    EXPECT_TRUE(found) << tool;
    if (!found) return call;
    tools::CallContext ctx;
    ctx.tool = call->tool;
    ctx.target = found.entry->target;
    ctx.agent = call->agent;
    ctx.request_id = call->request_id;
    ctx.arguments = call->arguments;
    ctx.deadline = Clock::now() + timeout.value_or(found.entry->timeout);
    ctx.worker = worker->context();
    call->sink.starting = true;
    call->pending = found.entry->executor->start(ctx, call->sink, call->failed);
    call->sink.starting = false;
    EXPECT_NE(call->pending, nullptr) << "the call did not start: " << call->failed.content;
    return call;
  }

  // A whole call: started, its end awaited (at most 10s), its handle released.
  tools::CallResult call(const std::string& tool, const std::string& arguments = "{}",
                         std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    std::unique_ptr<InFlight> c = start(tool, arguments, timeout);
    EXPECT_TRUE(worker_->run_until([&] { return c->done(); }, 10s)) << "the call never ended";
    EXPECT_EQ(c->sink.calls, 1);
    c->pending.reset();
    return std::move(c->sink.result);
  }

  double plugin_errors(const std::string& plugin) {
    return metrics::Metrics::process()
        .plugin_errors_total.Add({{"plugin", plugin}, {"hook", "call"}})
        .Value();
  }

  std::string dir_;
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const tools::ToolSet> tools_;
  std::unique_ptr<Worker> worker_;
};

// A Lua tool shipped in plugins/lua/, read from the source tree.
std::string shipped(const std::string& name) {
  return std::string(SLUICE_SOURCE_DIR) + "/plugins/lua/" + name;
}

// ---- answers --------------------------------------------------------------------------------

TEST_F(LuaToolCallTest, TheShippedShoutToolAnswersText) {
  build("  text.shout: {type: lua, file: " + shipped("shout_tool.lua") +
        ", config: {suffix: '!'}}\n");
  tools::CallResult r = call("text.shout", R"({"text":"hello"})");
  EXPECT_EQ(r.status, tools::CallStatus::Ok);
  EXPECT_FALSE(r.json);
  EXPECT_EQ(r.content, "HELLO!");
}

TEST_F(LuaToolCallTest, ATableAnswersJsonAndTheArgumentsArriveDecoded) {
  write("t.lua", R"(return {call = function(args)
    return {n = args.n + 1, first = args.list[1], count = #args.list,
            none = args.none == sluice.json.null, nested = args.obj.k}
  end})");
  build("  t: {type: lua, file: t.lua}\n");
  tools::CallResult r = call("t", R"({"n":41,"list":["a","b"],"none":null,"obj":{"k":"v"}})");
  EXPECT_EQ(r.status, tools::CallStatus::Ok);
  EXPECT_TRUE(r.json);
  EXPECT_EQ(r.content, R"({"count":2,"first":"a","n":42,"nested":"v","none":true})");
}

TEST_F(LuaToolCallTest, CtxCarriesTheCallerTheToolTheDeadlineAndTheConfig) {
  write("t.lua", R"(return {
    schema = {greeting = {type = "string", default = "hi"}, level = {type = "integer"}},
    call = function(args, ctx)
      return {agent = ctx.agent, request_id = ctx.request_id, tool = ctx.tool,
              greeting = ctx.config.greeting, level = ctx.config.level,
              left_ok = ctx.time_left_ms > 1000 and ctx.time_left_ms <= 2000,
              deadline_ok = ctx.deadline > sluice.now() and ctx.deadline < sluice.now() + 3}
    end})");
  build("  my.tool: {type: lua, file: t.lua, config: {level: 3}}\n");
  tools::CallResult r = call("my.tool", "{}", 2s);
  EXPECT_EQ(r.content,
            R"({"agent":"sofia","deadline_ok":true,"greeting":"hi","left_ok":true,"level":3,)"
            R"("request_id":"req-42","tool":"my.tool"})");
}

TEST_F(LuaToolCallTest, AnErrorIsAToolErrorWithFileAndLineAndIsCounted) {
  write("t.lua", "return {name = 'failing_tool', call = function(args)\n  error('boom')\nend}");
  build("  t: {type: lua, file: t.lua}\n");
  const double before = plugin_errors("failing_tool");
  tools::CallResult r = call("t");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_THAT(r.content, HasSubstr("t.lua:2: boom"));
  EXPECT_EQ(plugin_errors("failing_tool"), before + 1);
}

TEST_F(LuaToolCallTest, NilAndAMessageIsTheToolsOwnErrorNotAPluginError) {
  write("t.lua",
        "return {name = 'lookup', call = function(args) return nil, 'city not found' end}");
  build("  t: {type: lua, file: t.lua}\n");
  const double before = plugin_errors("lookup");
  tools::CallResult r = call("t");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_EQ(r.content, "city not found");
  EXPECT_EQ(plugin_errors("lookup"), before);
}

TEST_F(LuaToolCallTest, AnEndlessLoopIsStoppedByTheBudgetAndTheNextCallWorks) {
  write("t.lua", R"(return {call = function(args)
    if args.loop then while true do end end
    return "fine"
  end})");
  build("  t: {type: lua, file: t.lua, max_instructions: 10000}\n");
  tools::CallResult r = call("t", R"({"loop":true})");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_EQ(r.content, "instruction budget exceeded (max_instructions: 10000)");
  EXPECT_EQ(call("t").content, "fine");
}

TEST_F(LuaToolCallTest, AMemoryBombIsStoppedAndTheNextCallWorks) {
  write("t.lua", R"(return {call = function(args)
    if args.bomb then local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end end
    return "fine"
  end})");
  build("  t: {type: lua, file: t.lua, max_memory: 2MiB, max_instructions: 100000000}\n");
  tools::CallResult r = call("t", R"({"bomb":true})");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_THAT(r.content, HasSubstr("out of memory (max_memory: 2MiB)"));
  EXPECT_EQ(call("t").content, "fine");
}

TEST_F(LuaToolCallTest, ACancelledCallNeverReachesItsSink) {
  write("t.lua", "return {call = function() return 'x' end}");
  build("  t: {type: lua, file: t.lua}\n");
  std::unique_ptr<InFlight> c = start("t", "{}");
  c->pending->cancel();
  worker_->run_until([] { return false; }, 50ms);
  EXPECT_EQ(c->sink.calls, 0);
}

TEST_F(LuaToolCallTest, AWorkerTheLoadDidNotForeseeGetsItsStateOnFirstCall) {
  write("t.lua", "local n = 0\nreturn {call = function() n = n + 1 return n end}");
  build("  t: {type: lua, file: t.lua}\n", 1);
  Worker other(7);
  std::unique_ptr<InFlight> c = start("t", "{}", 2s, &other);
  ASSERT_TRUE(other.run_until([&] { return c->done(); }, 5s));
  EXPECT_EQ(c->sink.result.content, "1");  // its own state: worker 0's never ran
  c->pending.reset();
}

// ---- sluice.http ------------------------------------------------------------------------------

TEST_F(LuaToolCallTest, TheShippedFetchToolAnswersWhatTheServiceSaid) {
  LoopbackServer server([](const std::string& line) -> std::optional<std::string> {
    if (line.starts_with("GET /weather/Kyiv%20Center ")) {
      return http_response(200, R"({"temperature":21,"wind":3,"humidity":80})");
    }
    if (line.starts_with("GET /weather/Nowhere ")) return http_response(503, "down for repairs");
    return http_response(404, "{}");
  });
  build("  weather.now:\n    type: lua\n    file: " + shipped("fetch_json_tool.lua") +
        "\n    config: {url: '" + server.base_url() +
        "/weather/{city}', fields: [temperature, wind]}\n");
  tools::CallResult r = call("weather.now", R"({"city":"Kyiv Center"})");
  EXPECT_EQ(r.status, tools::CallStatus::Ok);
  EXPECT_TRUE(r.json);
  EXPECT_EQ(r.content, R"({"temperature":21,"wind":3})");

  r = call("weather.now", R"({"city":"Nowhere"})");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_EQ(r.content, "the service answered 503: down for repairs");

  r = call("weather.now", "{}");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_THAT(r.content, HasSubstr("missing argument \"city\""));
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(LuaToolCallTest, AServiceThatIsDownIsAToolErrorSayingSo) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);  // a port nothing listens on
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  build("  t:\n    type: lua\n    file: " + shipped("fetch_json_tool.lua") +
        "\n    config: {url: 'http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x'}\n");
  tools::CallResult r = call("t");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_THAT(r.content, HasSubstr("the service cannot be reached: connect"));
}

const char* const kHangingTool = R"(return {call = function(args, ctx)
  local r, err = sluice.http{url = ctx.config.url .. args.path, timeout = 60000}
  sluice.shared:set("resumed:" .. ctx.request_id, true)
  if not r then return nil, err end
  return r.body
end, schema = {url = {type = "string", required = true}}})";

TEST_F(LuaToolCallTest, AHangingServiceEndsAtTheDeadlineAndTheNextCallWorks) {
  LoopbackServer server([](const std::string& line) -> std::optional<std::string> {
    if (line.starts_with("GET /hang ")) return std::nullopt;
    return http_response(200, "quick");
  });
  write("t.lua", kHangingTool);
  build("  t: {type: lua, file: t.lua, timeout: 300ms, config: {url: '" + server.base_url() +
        "'}}\n");
  const auto started = Clock::now();
  tools::CallResult r = call("t", R"({"path":"/hang"})");
  const auto took = Clock::now() - started;
  EXPECT_EQ(r.status, tools::CallStatus::Timeout);
  EXPECT_EQ(r.content, "after 300ms, waiting in sluice.http");
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 2s);  // not the 60s the tool asked for
  // Nothing stuck: the next call on the same worker answers at once.
  EXPECT_EQ(call("t", R"({"path":"/quick"})").content, "quick");
  worker_->run_until([&] { return server.abandoned() == 1; }, 2s);
  EXPECT_EQ(server.abandoned(), 1);  // the hanging request's connection was closed
}

TEST_F(LuaToolCallTest, ACancelledCallIsNeverResumedWhenItsAnswerArrives) {
  // The runner's deadline (here: a cancel at 100ms) comes before the slow answer (400ms).
  LoopbackServer server([](const std::string& line) -> std::optional<std::string> {
    std::this_thread::sleep_for(400ms);
    return http_response(200, "late");
  });
  write("t.lua", kHangingTool);
  build("  t: {type: lua, file: t.lua, config: {url: '" + server.base_url() + "'}}\n");
  plugin::SharedDict::process().remove("resumed:req-42");
  std::unique_ptr<InFlight> c = start("t", R"({"path":"/slow"})", 5s);
  worker_->run_until([] { return false; }, 100ms);
  ASSERT_EQ(c->sink.calls, 0);
  c->pending->cancel();
  worker_->run_until([] { return false; }, 600ms);  // past the answer
  EXPECT_EQ(c->sink.calls, 0);
  EXPECT_FALSE(plugin::SharedDict::process().get("resumed:req-42").has_value());
  c->pending.reset();
  EXPECT_EQ(call("t", R"({"path":"/after"})").content, "late");
}

TEST_F(LuaToolCallTest, TheSnapshotMayGoWhileACallWaitsOrAfterItsEnd) {
  LoopbackServer server([](const std::string& line) -> std::optional<std::string> {
    if (line.starts_with("GET /hang ")) return std::nullopt;
    return http_response(200, "ok");
  });
  write("t.lua", kHangingTool);
  build("  t: {type: lua, file: t.lua, config: {url: '" + server.base_url() + "'}}\n");
  // Cancelled while it waits, then the tools (and their Lua states) go, then the handle.
  std::unique_ptr<InFlight> waiting = start("t", R"({"path":"/hang"})", 5s);
  worker_->run_until([] { return false; }, 50ms);
  waiting->pending->cancel();
  // Ended, its handle kept past the tools.
  std::unique_ptr<InFlight> ended = start("t", R"({"path":"/ok"})", 5s);
  ASSERT_TRUE(worker_->run_until([&] { return ended->done(); }, 5s));
  tools_.reset();
  config_.reset();
  waiting->pending.reset();
  ended->pending.reset();
  worker_->run_until([] { return false; }, 20ms);
  EXPECT_EQ(waiting->sink.calls, 0);
  EXPECT_EQ(ended->sink.result.content, "ok");
}

TEST_F(LuaToolCallTest, AWorkerShuttingDownEndsAWaitingCallAsUnavailable) {
  LoopbackServer server([](const std::string&) -> std::optional<std::string> {
    return std::nullopt;  // never answers
  });
  write("t.lua", kHangingTool);
  build("  t: {type: lua, file: t.lua, config: {url: '" + server.base_url() + "'}}\n");
  plugin::SharedDict::process().remove("resumed:req-42");
  std::unique_ptr<InFlight> c = start("t", R"({"path":"/hang"})");
  worker_->run_until([] { return false; }, 50ms);
  worker_->begin_shutdown();
  ASSERT_TRUE(worker_->run_until([&] { return c->done(); }, 2s));
  EXPECT_EQ(c->sink.result.status, tools::CallStatus::Unavailable);
  EXPECT_EQ(c->sink.result.content, "the worker is shutting down");
  EXPECT_FALSE(plugin::SharedDict::process().get("resumed:req-42").has_value());
  c->pending.reset();
}

// ---- two workers --------------------------------------------------------------------------------

TEST_F(LuaToolCallTest, TwoWorkersCallAtOnceEachOnItsOwnState) {
  LoopbackServer server([](const std::string&) -> std::optional<std::string> {
    return http_response(200, R"({"v":1})");
  });
  // `calls` is per state; sluice.shared is one for the process.
  write("t.lua", R"(local calls = 0
return {schema = {url = {type = "string"}}, call = function(args, ctx)
  calls = calls + 1
  local mine = calls
  local r, err = sluice.http{url = ctx.config.url, timeout = 5000}
  if not r then return nil, err end
  sluice.shared:incr("lua_tool_two_workers", 1)
  return {state_calls = mine, v = sluice.json.decode(r.body).v}
end})");
  build("  t: {type: lua, file: t.lua, config: {url: '" + server.base_url() + "/v'}}\n", 2);
  constexpr int kPerWorker = 100;
  constexpr int kInFlight = 20;
  std::atomic<int> ok{0};
  std::atomic<int> max_state_calls[2] = {0, 0};
  auto run_worker = [&](unsigned index) {
    Worker worker(index);
    std::vector<std::unique_ptr<InFlight>> calls;
    int started = 0;
    while (started < kPerWorker || !calls.empty()) {
      while (started < kPerWorker && static_cast<int>(calls.size()) < kInFlight) {
        calls.push_back(start("t", "{}", 5s, &worker));
        ++started;
      }
      worker.run_until([&] { return calls.front()->done(); }, 10s);
      if (!calls.front()->done()) break;  // reported below: fewer than expected
      for (auto it = calls.begin(); it != calls.end();) {
        if (!(*it)->done()) {
          ++it;
          continue;
        }
        const tools::CallResult& r = (*it)->sink.result;
        if (r.status == tools::CallStatus::Ok && r.content.find("\"v\":1") != std::string::npos) {
          ++ok;
          const int n = std::stoi(r.content.substr(r.content.find(':') + 1));
          int seen = max_state_calls[index].load();
          while (n > seen && !max_state_calls[index].compare_exchange_weak(seen, n)) {
          }
        } else {
          ADD_FAILURE() << "call failed: " << r.content;
        }
        it = calls.erase(it);
      }
    }
    for (auto& c : calls) c->pending->cancel();
    calls.clear();
  };
  const double shared_before = [] {
    auto v = plugin::SharedDict::process().get("lua_tool_two_workers");
    return v ? std::get<double>(*v) : 0.0;
  }();
  std::thread a(run_worker, 0u);
  std::thread b(run_worker, 1u);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 2 * kPerWorker);
  // Each worker's state saw exactly its own calls.
  EXPECT_EQ(max_state_calls[0].load(), kPerWorker);
  EXPECT_EQ(max_state_calls[1].load(), kPerWorker);
  EXPECT_EQ(std::get<double>(*plugin::SharedDict::process().get("lua_tool_two_workers")),
            shared_before + 2 * kPerWorker);
}

}  // namespace
}  // namespace sluice
