// Tool plugins (ABI 1.2, plugin.h "tools"), driven through core's executor interface on a real
// libuv loop, as a worker runs them: a synchronous answer, an answer from the plugin's own
// thread, an error, a call that never ends by itself (the deadline cancels it, the plugin is
// told and nothing stays behind), a late finish after the deadline (ignored), and the load
// errors a user sees. The deadline timer here plays core's tool runner.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <uv.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/config/loader.h"
#include "core/filter/snapshot.h"
#include "core/filter/worker_context.h"
#include "core/plugin/http_caller.h"
#include "core/plugin/plugin_library.h"
#include "core/plugin/plugin_set.h"
#include "core/plugin/shared_dict.h"
#include "core/plugin/worker_mailbox.h"
#include "core/tools/tool_set.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

config::EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

std::string config_text(const std::string& tools, const std::string& plugin_so) {
  return "listen: 127.0.0.1:0\n"
         "providers:\n"
         "  demo: {type: mock}\n"
         "default_provider: demo\n"
         "plugins:\n"
         "  t: {file: \"" +
         plugin_so + "\"}\n" + "tools:\n" + tools;
}

const std::string kTools =
    "  t.echo: {type: plugin, config: {label: first}}\n"
    "  t.text: {type: plugin}\n"
    "  t.thread: {type: plugin}\n"
    "  t.fail: {type: plugin}\n"
    "  t.bad_json: {type: plugin}\n"
    "  t.hang: {type: plugin, timeout: 50ms}\n"
    "  t.late: {type: plugin, timeout: 50ms}\n";

std::shared_ptr<const filter::ConfigSnapshot> build(const std::string& yaml) {
  return filter::ConfigSnapshot::build(config::load_config_text(yaml, "/etc/sluice.yaml", no_env()),
                                       1);
}

std::string load_error(const std::string& yaml) {
  try {
    build(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// One worker's loop with what a worker gives tools: its HTTP client and its mailbox.
class Worker {
 public:
  Worker() {
    uv_loop_init(&loop_);
    http_ = std::make_unique<plugin::HttpCaller>(&loop_);
    mailbox_ = std::make_unique<plugin::WorkerMailbox>(&loop_);
    context_ = filter::WorkerContext{0, &loop_, http_.get(), mailbox_.get()};
  }
  ~Worker() { EXPECT_TRUE(close()) << "the loop did not close clean"; }

  filter::WorkerContext* context() { return &context_; }
  uv_loop_t* loop() { return &loop_; }
  plugin::WorkerMailbox& mailbox() { return *mailbox_; }

  // Runs the loop until `done` or `limit` passed.
  template <class Done>
  void run_until(Done done, std::chrono::milliseconds limit = 5s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < until) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(1ms);
    }
  }

  // Shuts both down like Worker::close_everything and checks that no handle is left.
  bool close() {
    if (closed_) return true;
    closed_ = true;
    int pending = 2;
    auto done = [](void* arg) { --*static_cast<int*>(arg); };
    http_->shutdown(done, &pending);
    mailbox_->shutdown(done, &pending);
    run_until([&] { return pending == 0; }, 5s);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return pending == 0 && uv_loop_close(&loop_) == 0;
  }

 private:
  uv_loop_t loop_;
  std::unique_ptr<plugin::HttpCaller> http_;
  std::unique_ptr<plugin::WorkerMailbox> mailbox_;
  filter::WorkerContext context_;
  bool closed_ = false;
};

// What core's runner does with a call: start it, cancel it at its deadline, hear its end.
struct Call final : tools::CallSink {
  std::optional<tools::CallResult> result;
  int ends = 0;
  std::thread::id ended_on;
  std::unique_ptr<tools::PendingCall> pending;
  uv_timer_t deadline_timer;
  bool timer_closed = false;

  void on_tool_done(tools::CallResult&& r) override {
    ++ends;
    ended_on = std::this_thread::get_id();
    result = std::move(r);
    uv_timer_stop(&deadline_timer);
  }

  void start(Worker& w, const tools::ToolEntry& entry, const std::string& args,
             const std::string& agent = "alice") {
    arguments = args;
    caller = agent;
    tools::CallContext ctx;
    ctx.tool = entry.name;
    ctx.target = entry.target;
    ctx.agent = caller;
    ctx.request_id = "req-1";
    ctx.arguments = arguments;
    ctx.deadline = std::chrono::steady_clock::now() + entry.timeout;
    ctx.worker = w.context();
    uv_timer_init(w.loop(), &deadline_timer);
    deadline_timer.data = this;
    uv_timer_start(
        &deadline_timer,
        [](uv_timer_t* t) {
          auto* self = static_cast<Call*>(t->data);
          self->pending->cancel();
          ++self->ends;
          self->result = tools::CallResult{tools::CallStatus::Timeout, "timed out", false, {}};
        },
        static_cast<uint64_t>(entry.timeout.count()), 0);
    tools::CallResult failed;
    pending = entry.executor->start(ctx, *this, failed);
    ASSERT_TRUE(pending) << failed.content;
  }

  void close_timer() {
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline_timer),
             [](uv_handle_t* h) { static_cast<Call*>(h->data)->timer_closed = true; });
  }

  std::string arguments;
  std::string caller;
};

tools::CallResult run_call(Worker& w, const filter::ConfigSnapshot& snapshot,
                           const std::string& name, const std::string& args = "{}") {
  tools::FoundTool found = snapshot.tools()->find(nullptr, name);
  EXPECT_TRUE(found) << name;
  if (!found) return {};
  Call call;
  call.start(w, *found.entry, args);
  w.run_until([&] { return call.ends > 0; });
  call.close_timer();
  w.run_until([&] { return call.timer_closed; });
  EXPECT_EQ(call.ends, 1);
  return call.result.value_or(tools::CallResult{});
}

// ---- answers --------------------------------------------------------------------------------

TEST(PluginTool, ASynchronousJsonAnswerCarriesWhatTheCallWasGiven) {
  auto snapshot = build(config_text(kTools, SLUICE_TEST_PLUGIN_TOOLS));
  Worker w;
  tools::CallResult r = run_call(w, *snapshot, "t.echo", R"({"x":1})");
  EXPECT_EQ(r.status, tools::CallStatus::Ok);
  EXPECT_TRUE(r.json);
  EXPECT_EQ(r.content, R"({"args":{"x":1},"agent":"alice","request_id":"req-1","tool":"t.echo",)"
                       R"("label":"first","time_left":true})");
}

TEST(PluginTool, ATextAnswerIsNotJson) {
  auto snapshot = build(config_text(kTools, SLUICE_TEST_PLUGIN_TOOLS));
  Worker w;
  tools::CallResult r = run_call(w, *snapshot, "t.text");
  EXPECT_EQ(r.status, tools::CallStatus::Ok);
  EXPECT_FALSE(r.json);
  EXPECT_EQ(r.content, "plain answer");
}

TEST(PluginTool, AnAnswerFromThePluginsOwnThreadArrivesOnTheWorker) {
  auto snapshot = build(config_text(kTools, SLUICE_TEST_PLUGIN_TOOLS));
  Worker w;
  tools::FoundTool found = snapshot->tools()->find(nullptr, "t.thread");
  ASSERT_TRUE(found);
  Call call;
  call.start(w, *found.entry, R"({"delay_ms":30})");
  EXPECT_EQ(call.ends, 0) << "an end is never reported from inside start()";
  w.run_until([&] { return call.ends > 0; });
  ASSERT_TRUE(call.result);
  EXPECT_EQ(call.result->status, tools::CallStatus::Ok);
  EXPECT_EQ(call.result->content, "from a thread");
  EXPECT_EQ(call.ended_on, std::this_thread::get_id()) << "delivered on the worker's thread";
  call.close_timer();
  w.run_until([&] { return call.timer_closed; });
}

TEST(PluginTool, AnErrorResultIsAToolErrorWithThePluginsMessage) {
  auto snapshot = build(config_text(kTools, SLUICE_TEST_PLUGIN_TOOLS));
  Worker w;
  tools::CallResult r = run_call(w, *snapshot, "t.fail");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_EQ(r.content, "it failed on purpose");
}

TEST(PluginTool, InvalidJsonFromThePluginIsAToolErrorSayingSo) {
  auto snapshot = build(config_text(kTools, SLUICE_TEST_PLUGIN_TOOLS));
  Worker w;
  tools::CallResult r = run_call(w, *snapshot, "t.bad_json");
  EXPECT_EQ(r.status, tools::CallStatus::ToolError);
  EXPECT_THAT(r.content, HasSubstr("invalid JSON"));
  EXPECT_THAT(r.content, HasSubstr("plugin t"));
}

TEST(PluginTool, TheCExampleCountsWords) {
  auto snapshot = build(
      "listen: 127.0.0.1:0\nproviders:\n  demo: {type: mock}\ndefault_provider: demo\n"
      "plugins:\n  examples: {file: \"" SLUICE_TEST_PLUGIN_SLUICE_WORD_COUNT
      "\"}\n"
      "tools:\n  text.count_words: {type: plugin, plugin: examples}\n");
  Worker w;
  tools::FoundTool found = snapshot->tools()->find(nullptr, "text_count_words");
  ASSERT_TRUE(found) << "found by its OpenAI function name too";
  EXPECT_EQ(found.entry->description, "Count the words of a text.");
  tools::CallResult r = run_call(w, *snapshot, "text.count_words", R"({"text":"one two  three"})");
  EXPECT_EQ(r.status, tools::CallStatus::Ok);
  EXPECT_EQ(r.content, R"({"words":3})");
}

// ---- deadlines --------------------------------------------------------------------------------

TEST(PluginTool, AHangingCallEndsAtItsDeadlineThePluginIsToldAndNothingStaysBehind) {
  const size_t open_before = plugin::PluginLibrary::open_count();
  auto cancelled = [] {
    auto v = plugin::SharedDict::process().get("t.hang.cancelled");
    return v ? std::get<double>(*v) : 0.0;
  };
  const double cancels_before = cancelled();
  {
    auto snapshot = build(config_text(kTools, SLUICE_TEST_PLUGIN_TOOLS));
    EXPECT_EQ(plugin::PluginLibrary::open_count(), open_before + 1);
    Worker w;
    const auto started = std::chrono::steady_clock::now();
    tools::CallResult r = run_call(w, *snapshot, "t.hang");
    EXPECT_EQ(r.status, tools::CallStatus::Timeout);
    EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
    EXPECT_EQ(cancelled(), cancels_before + 1) << "the plugin's cancel hook ran once";
    // The plugin finished the call from its cancel hook: the mailbox owes nothing.
    w.run_until([&] { return w.mailbox().owed() == 0; });
    EXPECT_EQ(w.mailbox().owed(), 0u);
  }
  // The snapshot is gone and no call holds the plugin's config: the library was closed.
  EXPECT_EQ(plugin::PluginLibrary::open_count(), open_before);
}

TEST(PluginTool, AFinishAfterTheDeadlineIsIgnoredAndReleasesTheCall) {
  const size_t open_before = plugin::PluginLibrary::open_count();
  {
    auto snapshot = build(config_text(kTools, SLUICE_TEST_PLUGIN_TOOLS));
    Worker w;
    tools::FoundTool found = snapshot->tools()->find(nullptr, "t.late");
    ASSERT_TRUE(found);
    Call call;
    call.start(w, *found.entry, R"({"delay_ms":200})");
    w.run_until([&] { return call.ends > 0; });
    ASSERT_TRUE(call.result);
    EXPECT_EQ(call.result->status, tools::CallStatus::Timeout);
    EXPECT_EQ(w.mailbox().owed(), 1u) << "the plugin still holds the call";
    // The plugin finishes it later, from its thread: delivered to nobody.
    w.run_until([&] { return w.mailbox().owed() == 0; });
    EXPECT_EQ(w.mailbox().owed(), 0u);
    EXPECT_EQ(call.ends, 1) << "the late result reached no one";
    EXPECT_EQ(call.result->status, tools::CallStatus::Timeout);
    call.close_timer();
    w.run_until([&] { return call.timer_closed; });
    snapshot.reset();
    // The plugin's library stays loaded while the snapshot or a call holds it; now neither does.
  }
  EXPECT_EQ(plugin::PluginLibrary::open_count(), open_before);
}

TEST(PluginTool, AStoppingWorkerWaitsForACallItsPluginStillOwesThenCloses) {
  auto snapshot = build(config_text(kTools, SLUICE_TEST_PLUGIN_TOOLS));
  Worker w;
  tools::FoundTool found = snapshot->tools()->find(nullptr, "t.late");
  ASSERT_TRUE(found);
  Call call;
  call.start(w, *found.entry, R"({"delay_ms":100})");
  call.pending->cancel();  // the client left
  uv_timer_stop(&call.deadline_timer);
  call.close_timer();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(w.close()) << "the mailbox closed once the late call arrived";
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 50ms) << "it waited for the call the plugin still owed";
  EXPECT_LT(waited, plugin::WorkerMailbox::kShutdownGrace);
  EXPECT_EQ(call.ends, 0);
}

// ---- loading ------------------------------------------------------------------------------------

TEST(PluginToolLoad, AToolNameThePluginDoesNotRegisterListsWhatItDoes) {
  const std::string error =
      load_error(config_text("  t.ehco: {type: plugin}\n", SLUICE_TEST_PLUGIN_TOOLS));
  EXPECT_THAT(error, HasSubstr("tools.t.ehco"));
  EXPECT_THAT(error, HasSubstr("registers no tool \"t.ehco\"; it registers t.echo, t.text, "
                               "t.thread, t.fail, t.bad_json, t.hang, t.late, t.model"));
}

TEST(PluginToolLoad, AConfigThePluginRefusesFailsTheLoadWithItsReason) {
  const std::string error = load_error(
      config_text("  t.echo: {type: plugin, config: {colour: red}}\n", SLUICE_TEST_PLUGIN_TOOLS));
  EXPECT_THAT(error, HasSubstr("/etc/sluice.yaml:"));
  EXPECT_THAT(error, HasSubstr("tools.t.echo.config"));
  EXPECT_THAT(error, HasSubstr("t: the only config key is label"));
}

TEST(PluginToolLoad, AnUndeclaredPluginThatSluiceDoesNotShipIsAClearError) {
  setenv("SLUICE_PLUGIN_PATH", "/nonexistent/plugins", 1);
  const std::string error = load_error(
      "listen: 127.0.0.1:0\nproviders:\n  demo: {type: mock}\ndefault_provider: demo\n"
      "tools:\n  notes.add: {type: plugin}\n");
  unsetenv("SLUICE_PLUGIN_PATH");
  EXPECT_THAT(error, HasSubstr("tools.notes.add.plugin"));
  EXPECT_THAT(error, HasSubstr("no plugin named \"notes\""));
  EXPECT_THAT(error, HasSubstr("libsluice_notes.so"));
  EXPECT_THAT(error, HasSubstr("/nonexistent/plugins"));
}

TEST(PluginToolLoad, APluginsEntryWithoutFileNeedsAPluginSluiceShips) {
  setenv("SLUICE_PLUGIN_PATH", "/nonexistent/plugins", 1);
  const std::string error = load_error(
      "listen: 127.0.0.1:0\nproviders:\n  demo: {type: mock}\ndefault_provider: demo\n"
      "plugins:\n  nope: {config: {a: 1}}\n");
  unsetenv("SLUICE_PLUGIN_PATH");
  EXPECT_THAT(error, HasSubstr("plugins.nope.file"));
  EXPECT_THAT(error, HasSubstr("sluice ships no plugin named nope (no libsluice_nope.so in "
                               "/nonexistent/plugins)"));
}

TEST(PluginToolLoad, AnAbi11PluginStillLoadsAndRegistersItsFilter) {
  std::string error;
  auto library = plugin::PluginLibrary::open(
      plugin::PluginLibrary::Spec{"old", SLUICE_TEST_PLUGIN_ABI_1_1, "null", "/etc"}, &error);
  ASSERT_TRUE(library) << error;
  ASSERT_NE(library->find_filter("old_hello"), nullptr);
  EXPECT_TRUE(library->tools().empty());
}

}  // namespace
}  // namespace sluice
