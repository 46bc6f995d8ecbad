// plugins/memory end to end: memory.store and memory.query across agents, with embeddings from
// the built-in mock provider (a hashed bag of words) made through sluice as the calling agent.
//
// sluice runs in this test's process (server::Server on a thread): a plugin's model call
// carries a per-process secret, so the tools — driven through core's executor on a loop of the
// test's own, as a worker drives them — must live in the process whose listener receives their
// embedding requests. Everything between is real: the loopback HTTP call, auth, rate limits,
// model_alias, cost, the ledger, the plugin's SQLite thread.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config/loader.h"
#include "core/filter/internal_caller.h"
#include "core/filter/snapshot.h"
#include "core/plugin/http_caller.h"
#include "core/plugin/plugin_library.h"
#include "core/plugin/worker_mailbox.h"
#include "core/server/server.h"
#include "core/tools/tool_set.h"
#include "tests/support/agent_key.h"
#include "tests/support/json.h"
#include "tests/support/ledger_rows.h"
#include "tests/support/temp_dir.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string config_yaml(const test::TempDir& dir, int channel_items) {
  std::string y;
  y += "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nworkers: 1\n";
  y += "providers:\n  demo: {type: mock}\n";
  y += "models:\n  embed: {targets: [{provider: demo, model: mock-embedding}]}\n";
  y += "agents:\n";
  for (const char* name : {"alice", "bob", "admin"}) {
    y += std::string("  ") + name + ": {keys: [\"" +
         test::agent_key_digest(std::string("sk-") + name) +
         "\"], models: [embed], tools: [\"memory.*\"]}\n";
  }
  y += "filters:\n  - auth: {modes: [api_key]}\n  - rate_limit: {}\n  - model_alias: {}\n"
       "  - cost: {}\n";
  y += "plugins:\n  memory:\n    file: \"" SLUICE_MEMORY_PLUGIN "\"\n";
  y += "    config: {db: memory.db, channel_items: " + std::to_string(channel_items) +
       ", knowledge_bases: {handbook: {read: [alice, admin], write: [admin]}}}\n";
  y += "tools:\n  memory.store: {type: plugin}\n  memory.query: {type: plugin}\n";
  y += "state: {ledger: " + test::json_quote(dir.file("ledger.db")) + ", flush_interval: 10ms}\n";
  y += "access_log: {path: \"\"}\n";
  return y;
}

// A worker's loop as the tools see it: its HTTP client (model calls) and mailbox.
class ToolLoop {
 public:
  ToolLoop() {
    uv_loop_init(&loop_);
    http_ = std::make_unique<plugin::HttpCaller>(&loop_);
    mailbox_ = std::make_unique<plugin::WorkerMailbox>(&loop_);
    context_ = filter::WorkerContext{0, &loop_, http_.get(), mailbox_.get()};
  }
  ~ToolLoop() {
    int pending = 2;
    auto done = [](void* arg) { --*static_cast<int*>(arg); };
    http_->shutdown(done, &pending);
    mailbox_->shutdown(done, &pending);
    run_until([&] { return pending == 0; });
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "the loop closes clean";
  }
  filter::WorkerContext* context() { return &context_; }
  template <class Done>
  void run_until(Done done, std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < until) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(1ms);
    }
  }

 private:
  uv_loop_t loop_;
  std::unique_ptr<plugin::HttpCaller> http_;
  std::unique_ptr<plugin::WorkerMailbox> mailbox_;
  filter::WorkerContext context_;
};

// True once the ledger holds at least `n` rows of `agent` for `model` (polled up to 5 s).
bool ledger_has(const std::string& path, const std::string& agent, const std::string& model,
                size_t n) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) {
    size_t count = 0;
    if (auto rows = test::read_ledger_rows(path)) {
      for (const auto& row : *rows) count += row.agent == agent && row.model == model;
    }
    if (count >= n) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

struct Sink final : tools::CallSink {
  std::optional<tools::CallResult> result;
  void on_tool_done(tools::CallResult&& r) override { result = std::move(r); }
};

// One call in flight, as core's runner holds it.
struct Started {
  std::string agent, arguments, request_id;
  Sink sink;
  std::unique_ptr<tools::PendingCall> pending;
};

class MemoryToolsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    dir_->write("sluice.yaml", config_yaml(*dir_, 3));
    server_thread_ = new std::thread([] {
      server::Server server(dir_->file("sluice.yaml"));
      server_rc_ = server.run();
    });
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (filter::internal_caller_origin().empty() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(10ms);
    }
  }
  static void TearDownTestSuite() {
    ::kill(::getpid(), SIGTERM);  // the server drains and returns
    server_thread_->join();
    delete server_thread_;
    EXPECT_EQ(server_rc_, 0);
    delete dir_;
  }

  void SetUp() override {
    ASSERT_FALSE(filter::internal_caller_origin().empty()) << "sluice did not start";
    snapshot_ =
        filter::ConfigSnapshot::build(config::load_config_file(dir_->file("sluice.yaml")), 1);
  }

  std::unique_ptr<Started> start(const filter::ConfigSnapshot& snapshot, const std::string& agent,
                                 const std::string& tool, const std::string& arguments) {
    auto s = std::make_unique<Started>();
    s->agent = agent;
    s->arguments = arguments;
    s->request_id = "mem-" + std::to_string(++calls_);
    const config::Agent* a = nullptr;
    if (!agent.empty()) a = &snapshot.config().agents.at(agent);
    tools::FoundTool found = snapshot.tools()->find(a, tool);
    EXPECT_TRUE(found) << tool;
    if (!found) return s;
    tools::CallContext ctx;
    ctx.tool = found.entry->name;
    ctx.agent = s->agent;
    ctx.request_id = s->request_id;
    ctx.arguments = s->arguments;
    ctx.deadline = std::chrono::steady_clock::now() + 10s;
    ctx.worker = loop_.context();
    tools::CallResult failed;
    s->pending = found.entry->executor->start(ctx, s->sink, failed);
    EXPECT_TRUE(s->pending) << failed.content;
    return s;
  }

  tools::CallResult call(const std::string& agent, const std::string& tool,
                         const std::string& arguments) {
    auto s = start(*snapshot_, agent, tool, arguments);
    loop_.run_until([&] { return s->sink.result.has_value(); });
    EXPECT_TRUE(s->sink.result) << tool << " " << arguments << " never ended";
    return s->sink.result.value_or(tools::CallResult{});
  }

  // The texts of a memory.query answer, best first (and the first score).
  std::vector<std::string> texts(const tools::CallResult& r, double* first_score = nullptr) {
    EXPECT_EQ(r.status, tools::CallStatus::Ok) << r.content;
    std::vector<std::string> out;
    auto json = test::Json::parse(r.content);
    if (!json) return out;
    for (const test::Json& item : (*json)["results"].items()) {
      out.push_back(item["content"].str());
      if (first_score != nullptr && out.size() == 1) *first_score = item["score"].as_number();
    }
    return out;
  }

  static test::TempDir* dir_;
  static std::thread* server_thread_;
  static int server_rc_;
  ToolLoop loop_;
  std::shared_ptr<const filter::ConfigSnapshot> snapshot_;
  int calls_ = 0;
};

test::TempDir* MemoryToolsTest::dir_ = nullptr;
std::thread* MemoryToolsTest::server_thread_ = nullptr;
int MemoryToolsTest::server_rc_ = -1;

TEST_F(MemoryToolsTest, AQueryFindsTheStoredTextClosestInMeaningFirst) {
  for (const char* text :
       {"The quarterly report is due on Friday", "Cats purr when they are happy and sleep a lot",
        "Deploys happen after the tests pass"}) {
    tools::CallResult r = call("alice", "memory.store",
                               std::string(R"({"content":")") + text + R"(","tags":["note"]})");
    ASSERT_EQ(r.status, tools::CallStatus::Ok) << r.content;
    EXPECT_TRUE(r.json);
    EXPECT_THAT(r.content, HasSubstr(R"("stored":true)"));
  }
  double score = 0;
  std::vector<std::string> found =
      texts(call("alice", "memory.query", R"({"query":"cats","limit":2})"), &score);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], "Cats purr when they are happy and sleep a lot");
  EXPECT_GT(score, 0.2);

  // The embeddings were alice's own requests: ledger rows with her name, for the model `embed`.
  EXPECT_TRUE(ledger_has(dir_->file("ledger.db"), "alice", "embed", 4));
}

TEST_F(MemoryToolsTest, AnotherAgentReadsNeitherMemoryNorAKnowledgeBaseItIsNotAllowed) {
  ASSERT_EQ(
      call("alice", "memory.store", R"({"content":"alice keeps the vault code 4711"})").status,
      tools::CallStatus::Ok);
  EXPECT_TRUE(texts(call("bob", "memory.query", R"({"query":"vault code"})")).empty())
      << "bob's own memory does not hold alice's";
  ASSERT_EQ(
      call("alice", "memory.store", R"({"content":"alice in general","scope":"channel:general"})")
          .status,
      tools::CallStatus::Ok);
  EXPECT_TRUE(
      texts(call("bob", "memory.query", R"({"query":"alice","scope":"channel:general"})")).empty())
      << "bob's channel:general is not alice's";

  tools::CallResult written =
      call("admin", "memory.store",
           R"({"content":"Holidays are booked in the HR tool","scope":"kb:handbook"})");
  ASSERT_EQ(written.status, tools::CallStatus::Ok) << written.content;
  EXPECT_EQ(texts(call("alice", "memory.query", R"({"query":"holidays","scope":"kb:handbook"})")),
            std::vector<std::string>{"Holidays are booked in the HR tool"});

  tools::CallResult denied =
      call("bob", "memory.query", R"({"query":"holidays","scope":"kb:handbook"})");
  EXPECT_EQ(denied.status, tools::CallStatus::ToolError);
  EXPECT_EQ(denied.content, "agent \"bob\" may not read knowledge base \"handbook\"");
  tools::CallResult not_writer =
      call("alice", "memory.store", R"({"content":"x","scope":"kb:handbook"})");
  EXPECT_EQ(not_writer.status, tools::CallStatus::ToolError);
  EXPECT_EQ(not_writer.content, "agent \"alice\" may not write knowledge base \"handbook\"");

  tools::CallResult anonymous = call("", "memory.query", R"({"query":"anything"})");
  EXPECT_EQ(anonymous.status, tools::CallStatus::ToolError);
  EXPECT_THAT(anonymous.content, HasSubstr("per agent"));
}

TEST_F(MemoryToolsTest, AChannelKeepsOnlyItsLastItems) {
  for (int i = 1; i <= 5; ++i) {
    tools::CallResult r = call(
        "bob", "memory.store",
        R"({"content":"standup note )" + std::to_string(i) + R"(","scope":"channel:standup"})");
    ASSERT_EQ(r.status, tools::CallStatus::Ok) << r.content;
  }
  std::vector<std::string> found = texts(call(
      "bob", "memory.query", R"({"query":"standup note","scope":"channel:standup","limit":10})"));
  EXPECT_THAT(found,
              ::testing::UnorderedElementsAre("standup note 3", "standup note 4", "standup note 5"))
      << "channel_items: 3";
}

TEST_F(MemoryToolsTest, AReloadWhileCallsAreInFlightLosesNone) {
  const size_t open_before = plugin::PluginLibrary::open_count();
  std::vector<std::unique_ptr<Started>> started;
  for (int i = 0; i < 8; ++i) {
    started.push_back(start(*snapshot_, "admin", "memory.store",
                            R"({"content":"reload item )" + std::to_string(i) + R"("})"));
  }
  // A new generation with another plugin config: a second copy of the plugin, beside the old.
  auto next = filter::ConfigSnapshot::build(
      config::load_config_text(config_yaml(*dir_, 4), dir_->file("sluice.yaml")), 2);
  EXPECT_EQ(plugin::PluginLibrary::open_count(), open_before + 1);
  snapshot_ = next;  // the old generation is dropped while its calls run
  for (int i = 0; i < 4; ++i) {
    started.push_back(start(*snapshot_, "admin", "memory.store",
                            R"({"content":"after reload )" + std::to_string(i) + R"("})"));
  }
  loop_.run_until([&] {
    for (const auto& s : started)
      if (!s->sink.result) return false;
    return true;
  });
  for (const auto& s : started) {
    ASSERT_TRUE(s->sink.result) << s->arguments;
    EXPECT_EQ(s->sink.result->status, tools::CallStatus::Ok) << s->sink.result->content;
  }
  std::vector<std::string> found =
      texts(call("admin", "memory.query", R"({"query":"reload item","limit":50})"));
  EXPECT_EQ(found.size(), 12u) << "both copies wrote to the same file";
  // The new copy closes with the last generation that uses it (the server keeps the first).
  started.clear();
  next.reset();
  snapshot_.reset();
  EXPECT_EQ(plugin::PluginLibrary::open_count(), open_before);
}

}  // namespace
}  // namespace sluice
