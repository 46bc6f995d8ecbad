// RedisClient against a real redis-server (tests/support/redis_server.h) on a port of its own,
// driven by a libuv loop the test runs: commands and replies, EVALSHA with the transparent
// reload after SCRIPT FLUSH, AUTH and SELECT, a Redis that dies and comes back, a slow one
// (CLIENT PAUSE) and a hung one, the bound on unanswered commands, close() with commands in
// flight, and callbacks that close the client or issue commands. Every callback must run
// exactly once and never from inside command(); every test ends with the loop closing clean.
// Timeouts below are upper bounds for waiting, never assertions about speed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/redis/client_state.h"
#include "core/redis/redis_client.h"
#include "tests/support/integration_env.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_ca.h"

namespace sluice::redis {
namespace {

using namespace std::chrono_literals;
using test::RedisServer;
using test::TestCa;
using ::testing::HasSubstr;
using ::testing::Not;
using Status = RedisResult::Status;
using State = RedisClient::State;
using Type = RedisReply::Type;

// A TCP server on the test's loop that is not a working Redis: it never answers, answers
// with bytes that are not RESP, or speaks before being asked. Connections and the listener are
// freed in their close callbacks (close() before the loop ends).
class FakeRedis {
 public:
  enum class Mode : uint8_t { Silent, Garbage, Unsolicited };

  FakeRedis(uv_loop_t* loop, Mode mode) : loop_(loop), mode_(mode) {
    uv_tcp_init(loop_, &listener_);
    listener_.data = this;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
    uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 16, &on_connection);
    open_handles_ = 1;
    int len = sizeof addr;
    uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  uint16_t port() const { return port_; }
  std::string url(const std::string& userinfo = "") const {
    return "redis://" + userinfo + "127.0.0.1:" + std::to_string(port_);
  }
  int connections() const { return accepted_; }

  // Closes the listener and every connection; closed() once their close callbacks ran (the
  // listener is a member: the FakeRedis must outlive that).
  void close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), &on_closed);
    for (uv_tcp_t* c : clients_) uv_close(reinterpret_cast<uv_handle_t*>(c), &on_closed);
    clients_.clear();
  }
  bool closed() const { return open_handles_ == 0; }

 private:
  static void on_connection(uv_stream_t* server, int status) {
    auto* self = static_cast<FakeRedis*>(server->data);
    if (status < 0) return;
    auto* c = new uv_tcp_t;
    uv_tcp_init(self->loop_, c);
    c->data = self;
    uv_accept(server, reinterpret_cast<uv_stream_t*>(c));
    self->clients_.push_back(c);
    ++self->open_handles_;
    ++self->accepted_;
    if (self->mode_ == Mode::Unsolicited) self->send(c, "+OK\r\n");
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(c),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char scratch[4096];
          *buf = uv_buf_init(scratch, sizeof scratch);
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
          auto* me = static_cast<FakeRedis*>(s->data);
          if (nread > 0 && me->mode_ == Mode::Garbage) {
            me->send(reinterpret_cast<uv_tcp_t*>(s), "HTTP/1.1 400 Bad Request\r\n\r\n");
          }
        });
  }
  static void on_closed(uv_handle_t* h) {
    auto* self = static_cast<FakeRedis*>(h->data);
    --self->open_handles_;
    if (h != reinterpret_cast<uv_handle_t*>(&self->listener_))
      delete reinterpret_cast<uv_tcp_t*>(h);
  }
  void send(uv_tcp_t* c, const char* text) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(text), static_cast<unsigned>(strlen(text)));
    uv_try_write(reinterpret_cast<uv_stream_t*>(c), &buf, 1);
  }

  uv_loop_t* loop_;
  Mode mode_;
  uv_tcp_t listener_{};
  uint16_t port_ = 0;
  int accepted_ = 0;
  int open_handles_ = 0;  // the listener and accepted connections not closed yet
  std::vector<uv_tcp_t*> clients_;
};

// What a test's callback saw: how many times it ran (must end at 1) and the last result.
struct Outcome {
  bool issued = false;  // command() returned: a callback before that ran from inside it
  int calls = 0;
  RedisResult result;
  bool done() const { return calls > 0; }
};

// rediss:// verifies Redis's certificate against the default trust store; these tests make
// their CA that store through SSL_CERT_FILE (OpenSSL's default paths honour it). The client
// SSL_CTX is cached per process, so there is one CA per process, made before the first TLS
// client: ctest runs each test in a process of its own.
TestCa& process_ca() {
  static TestCa ca;
  static bool trusted = ca.ok() && setenv("SSL_CERT_FILE", ca.ca_file().c_str(), 1) == 0;
  EXPECT_TRUE(trusted);
  return ca;
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Not skipped: a missing redis-server is a broken set-up, not a pass.
    ASSERT_TRUE(RedisServer::available())
        << "redis-server is not installed (scripts/setup.sh --tests installs it)";
    // As in sluice (core/server/server.cc): a write to a Redis that died is EPIPE, not a signal.
    ::signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop_);
    uv_timer_init(&loop_, &tick_);
    loop_open_ = true;
  }

  void TearDown() override {
    if (!loop_open_) return;
    if (client_) close_client();
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "the loop closed with handles still open";
  }

  RedisClient::Options options(const std::string& url) {
    std::string error;
    auto parsed = config::parse_redis_url(url, error);
    EXPECT_TRUE(parsed) << error;
    RedisClient::Options o;
    if (parsed) o.url = *parsed;
    o.timeout = 2000ms;  // generous: a loaded CI machine is not a slow Redis
    o.hung_after = 5000ms;
    o.backoff_min = 20ms;
    o.backoff_max = 200ms;
    return o;
  }

  void start_client(RedisClient::Options o) {
    RedisClient::Observer obs;
    obs.on_state = [this](State s) {
      states_.push_back(s);
      if (on_state_hook_) on_state_hook_(s);
    };
    obs.on_error = [this](std::string_view kind) { errors_.emplace_back(kind); };
    client_ = std::make_unique<RedisClient>(&loop_, std::move(o), std::move(obs));
  }

  // Runs the loop until `pred` holds or `timeout` passes (a tick timer keeps UV_RUN_ONCE from
  // blocking for long when nothing else is due).
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
    uv_timer_start(
        &tick_, [](uv_timer_t*) {}, 5, 5);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) uv_run(&loop_, UV_RUN_ONCE);
    uv_timer_stop(&tick_);
    return pred();
  }

  bool wait_state(State s, std::chrono::milliseconds timeout = 10s) {
    return run_until([&] { return client_->state() == s; }, timeout);
  }

  // Issues `argv`; the callback records into the returned Outcome (owned by the test).
  Outcome* issue(std::vector<std::string> argv) {
    auto* out = outcomes_.emplace_back(std::make_unique<Outcome>()).get();
    std::vector<std::string_view> views(argv.begin(), argv.end());
    client_->command(views, [out](RedisResult&& r) {
      EXPECT_TRUE(out->issued) << "callback run from inside command()";
      ++out->calls;
      out->result = std::move(r);
    });
    out->issued = true;
    return out;
  }

  RedisResult call(std::vector<std::string> argv) {
    Outcome* out = issue(std::move(argv));
    EXPECT_TRUE(run_until([&] { return out->done(); })) << "no answer";
    return out->result;
  }

  Outcome* issue_eval(const RedisScript& script, std::vector<std::string> keys,
                      std::vector<std::string> args) {
    auto* out = outcomes_.emplace_back(std::make_unique<Outcome>()).get();
    std::vector<std::string_view> k(keys.begin(), keys.end());
    std::vector<std::string_view> a(args.begin(), args.end());
    client_->eval(script, k, a, [out](RedisResult&& r) {
      EXPECT_TRUE(out->issued) << "callback run from inside eval()";
      ++out->calls;
      out->result = std::move(r);
    });
    out->issued = true;
    return out;
  }

  // close(), then the loop until `done` ran; the client is freed from `done`, as owners do.
  void close_client() {
    bool done = false;
    client_->close([&] {
      done = true;
      client_.reset();
    });
    EXPECT_TRUE(run_until([&] { return done; })) << "close() never called back";
  }

  void close_fake(FakeRedis& fake) {
    fake.close();
    EXPECT_TRUE(run_until([&] { return fake.closed(); }));
  }

  // Every callback ran exactly once.
  void expect_each_called_once() {
    for (size_t i = 0; i < outcomes_.size(); ++i) {
      EXPECT_EQ(outcomes_[i]->calls, 1) << "callback #" << i;
    }
  }

  int count_errors(const std::string& kind) const {
    return static_cast<int>(std::count(errors_.begin(), errors_.end(), kind));
  }
  bool saw_state(State s) const {
    return std::find(states_.begin(), states_.end(), s) != states_.end();
  }

  uv_loop_t loop_{};
  uv_timer_t tick_{};
  bool loop_open_ = false;
  std::unique_ptr<RedisClient> client_;
  std::vector<State> states_;
  std::function<void(State)> on_state_hook_;  // a test's own reaction to a transition
  std::vector<std::string> errors_;
  std::vector<std::unique_ptr<Outcome>> outcomes_;
};

TEST_F(RedisClientTest, CommandsRoundTrip) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  EXPECT_EQ(client_->last_error(), "");

  RedisResult pong = call({"PING"});
  EXPECT_EQ(pong.status, Status::Ok);
  EXPECT_EQ(pong.reply.type, Type::Status);
  EXPECT_EQ(pong.reply.str, "PONG");

  RedisResult set = call({"SET", "greeting", "hello world"});
  EXPECT_TRUE(set.ok());
  EXPECT_EQ(set.reply.str, "OK");
  RedisResult get = call({"GET", "greeting"});
  EXPECT_TRUE(get.ok());
  EXPECT_EQ(get.reply.type, Type::String);
  EXPECT_EQ(get.reply.str, "hello world");
  EXPECT_EQ(redis.command({"GET", "greeting"}), "hello world");  // really in Redis

  EXPECT_EQ(call({"GET", "missing"}).reply.type, Type::Nil);
  RedisResult incr = call({"INCRBY", "n", "41"});
  EXPECT_EQ(incr.reply.type, Type::Integer);
  EXPECT_EQ(incr.reply.integer, 41);

  // An error reply is an answer (status Ok) that is not ok(), counted as a "reply" error.
  RedisResult wrong = call({"INCR", "greeting"});
  EXPECT_EQ(wrong.status, Status::Ok);
  EXPECT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.reply.type, Type::Error);
  EXPECT_THAT(wrong.reply.str, HasSubstr("not an integer"));
  EXPECT_EQ(count_errors("reply"), 1);

  // Pipelined: each reply reaches its own command.
  std::vector<Outcome*> echoes;
  for (int i = 0; i < 50; ++i) echoes.push_back(issue({"ECHO", "echo-" + std::to_string(i)}));
  ASSERT_TRUE(run_until([&] { return echoes.back()->done(); }));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(echoes[i]->result.reply.str, "echo-" + std::to_string(i));
  expect_each_called_once();
  EXPECT_EQ(states_, std::vector<State>{State::Ready});
}

TEST_F(RedisClientTest, EvalRunsTheScriptWithKeysAndArgs) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();

  RedisScript script(
      "redis.call('SET', KEYS[1], ARGV[1]) "
      "return {KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]) + 1}");
  Outcome* out = issue_eval(script, {"fleet:a", "fleet:b"}, {"value-1", "41"});
  ASSERT_TRUE(run_until([&] { return out->done(); }));
  ASSERT_TRUE(out->result.ok()) << out->result.reply.str;
  ASSERT_EQ(out->result.reply.type, Type::Array);
  ASSERT_EQ(out->result.reply.elements.size(), 4u);
  EXPECT_EQ(out->result.reply.elements[0].str, "fleet:a");
  EXPECT_EQ(out->result.reply.elements[1].str, "fleet:b");
  EXPECT_EQ(out->result.reply.elements[2].str, "value-1");
  EXPECT_EQ(out->result.reply.elements[3].integer, 42);
  EXPECT_EQ(redis.command({"GET", "fleet:a"}), "value-1");
  // The client named the script as Redis does: it is now cached under that SHA-1.
  EXPECT_EQ(redis.command({"SCRIPT", "EXISTS", script.sha1()}), "1");
  expect_each_called_once();
}

TEST_F(RedisClientTest, ScriptFlushIsAnsweredWithATransparentReload) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  RedisScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");

  // A fresh Redis does not know the script either: loaded on the first call.
  Outcome* first = issue_eval(script, {"counter"}, {"5"});
  ASSERT_TRUE(run_until([&] { return first->done(); }));
  EXPECT_TRUE(first->result.ok()) << first->result.reply.str;
  EXPECT_EQ(first->result.reply.integer, 5);
  EXPECT_EQ(count_errors("noscript"), 1);

  Outcome* cached = issue_eval(script, {"counter"}, {"1"});
  ASSERT_TRUE(run_until([&] { return cached->done(); }));
  EXPECT_EQ(cached->result.reply.integer, 6);
  EXPECT_EQ(count_errors("noscript"), 1);

  ASSERT_EQ(redis.command({"SCRIPT", "FLUSH"}), "OK");
  // Three calls in flight at once all meet NOSCRIPT: one reload serves them all, in order.
  Outcome* a = issue_eval(script, {"counter"}, {"10"});
  Outcome* b = issue_eval(script, {"counter"}, {"100"});
  Outcome* c = issue_eval(script, {"counter"}, {"1000"});
  ASSERT_TRUE(run_until([&] { return a->done() && b->done() && c->done(); }));
  EXPECT_EQ(a->result.reply.integer, 16) << a->result.reply.str;
  EXPECT_EQ(b->result.reply.integer, 116) << b->result.reply.str;
  EXPECT_EQ(c->result.reply.integer, 1116) << c->result.reply.str;
  EXPECT_EQ(count_errors("noscript"), 2);
  EXPECT_EQ(count_errors("reply"), 0);
  EXPECT_EQ(redis.command({"GET", "counter"}), "1116");
  expect_each_called_once();
}

TEST_F(RedisClientTest, AuthWithTheRightPasswordIsReady) {
  RedisServer redis("right-Pass-1");
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  EXPECT_TRUE(call({"SET", "k", "v"}).ok());
  EXPECT_EQ(call({"GET", "k"}).reply.str, "v");
  EXPECT_EQ(count_errors("auth"), 0);
}

TEST_F(RedisClientTest, AuthWithAWrongPasswordIsDownWithAClearError) {
  RedisServer redis("right-Pass-1");
  ASSERT_TRUE(redis.ok());
  const std::string wrong = "Wrong-Pass-77";
  start_client(options("redis://:" + wrong + "@127.0.0.1:" + std::to_string(redis.port())));
  ASSERT_TRUE(run_until([&] { return saw_state(State::Down); }));
  EXPECT_THAT(client_->last_error(), HasSubstr("AUTH refused: WRONGPASS"));
  EXPECT_THAT(client_->last_error(), Not(HasSubstr(wrong)));
  EXPECT_GE(count_errors("auth"), 1);
  EXPECT_FALSE(saw_state(State::Ready));
  EXPECT_EQ(call({"PING"}).status, Status::Down);
}

TEST_F(RedisClientTest, AuthWithUserAndPassword) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  ASSERT_EQ(redis.command({"ACL", "SETUSER", "fleet", "on", ">fleet-pw", "~*", "+@all"}), "OK");
  start_client(options("redis://fleet:fleet-pw@127.0.0.1:" + std::to_string(redis.port())));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  EXPECT_EQ(call({"ACL", "WHOAMI"}).reply.str, "fleet");
}

TEST_F(RedisClientTest, SelectedDbIsolatesKeys) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url(3)));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  ASSERT_TRUE(call({"SET", "isolated", "in-3"}).ok());
  EXPECT_EQ(redis.command({"GET", "isolated"}, 3), "in-3");
  EXPECT_EQ(redis.command({"GET", "isolated"}, 0), "");  // nil: not in db 0
  EXPECT_EQ(redis.command({"EXISTS", "isolated"}, 0), "0");
}

TEST_F(RedisClientTest, RefusedSelectIsDown) {
  RedisServer redis;  // 16 databases by default
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url(99)));
  ASSERT_TRUE(run_until([&] { return saw_state(State::Down); }));
  EXPECT_THAT(client_->last_error(), HasSubstr("SELECT 99 refused"));
}

TEST_F(RedisClientTest, ConnectRefusedIsDownAndCounted) {
  uint16_t port = test::unused_port();
  start_client(options("redis://127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(run_until([&] { return saw_state(State::Down); }));
  EXPECT_THAT(client_->last_error(),
              HasSubstr("connect to 127.0.0.1:" + std::to_string(port) + " failed"));
  EXPECT_THAT(client_->last_error(), HasSubstr("ECONNREFUSED"));
  EXPECT_GE(count_errors("connect"), 1);
}

TEST_F(RedisClientTest, CommandsWhileConnectingFailDownOnTheNextTurn) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  Outcome* early = issue({"PING"});  // issue() checks it is not answered from inside
  RedisScript script("return 1");
  Outcome* early_eval = issue_eval(script, {}, {});
  EXPECT_EQ(early->calls, 0);
  EXPECT_EQ(early_eval->calls, 0);
  ASSERT_TRUE(run_until([&] { return early->done() && early_eval->done(); }));
  EXPECT_EQ(early->result.status, Status::Down);
  EXPECT_EQ(early_eval->result.status, Status::Down);
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  EXPECT_TRUE(call({"PING"}).ok());
  expect_each_called_once();
}

TEST_F(RedisClientTest, ReconnectsByItselfWhenRedisComesBack) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  ASSERT_TRUE(call({"SET", "before", "1"}).ok());

  redis.stop();
  // The first command may still be written before the client notices the close, and then
  // fails when it does; either way it fails Down.
  EXPECT_EQ(call({"GET", "before"}).status, Status::Down);
  ASSERT_TRUE(run_until([&] { return saw_state(State::Down); }));
  EXPECT_NE(client_->last_error(), "");
  EXPECT_EQ(call({"PING"}).status, Status::Down);

  ASSERT_TRUE(redis.start());
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  EXPECT_EQ(client_->last_error(), "");
  EXPECT_TRUE(call({"SET", "after", "2"}).ok());
  EXPECT_EQ(call({"GET", "after"}).reply.str, "2");
  EXPECT_EQ(states_.front(), State::Ready);
  EXPECT_EQ(states_.back(), State::Ready);
  EXPECT_TRUE(saw_state(State::Connecting));
  expect_each_called_once();
}

TEST_F(RedisClientTest, SlowRedisTimesOutThenTheConnectionStillWorks) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  RedisClient::Options o = options(redis.url());
  o.timeout = 50ms;
  o.hung_after = 60'000ms;  // slow, not hung: this test is about Timeout alone
  start_client(o);
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  ASSERT_TRUE(call({"SET", "slow", "late-value"}).ok());

  ASSERT_TRUE(redis.pause(1000ms));
  Outcome* slow = issue({"GET", "slow"});
  ASSERT_TRUE(run_until([&] { return slow->done(); }));
  EXPECT_EQ(slow->result.status, Status::Timeout);
  EXPECT_GE(count_errors("timeout"), 1);

  // Once the pause ends, answers flow again; the late "late-value" reply must not be taken
  // for any of these (each ECHO has a payload of its own).
  bool answered = false;
  for (int i = 0; i < 400 && !answered; ++i) {
    std::string payload = "probe-" + std::to_string(i);
    RedisResult r = call({"ECHO", payload});
    if (r.status == Status::Timeout) continue;
    ASSERT_EQ(r.status, Status::Ok);
    EXPECT_EQ(r.reply.str, payload);
    answered = true;
  }
  ASSERT_TRUE(answered);
  EXPECT_EQ(call({"GET", "slow"}).reply.str, "late-value");
  EXPECT_EQ(call({"INCR", "after-pause"}).reply.integer, 1);
  EXPECT_EQ(states_, std::vector<State>{State::Ready});  // never dropped
  expect_each_called_once();
}

TEST_F(RedisClientTest, HungRedisIsDroppedAndReconnected) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  RedisClient::Options o = options(redis.url());
  o.timeout = 50ms;
  o.hung_after = 200ms;
  start_client(o);
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();

  ASSERT_TRUE(redis.pause(2000ms));
  Outcome* first = issue({"PING"});
  ASSERT_TRUE(run_until([&] { return saw_state(State::Down); }));
  EXPECT_EQ(first->result.status, Status::Timeout);
  EXPECT_THAT(client_->last_error(), HasSubstr("taken for hung"));

  // Reconnected (a paused Redis still accepts connections); commands work after the pause.
  bool answered = false;
  for (int i = 0; i < 400 && !answered; ++i) {
    run_until([&] { return client_->state() == State::Ready; });
    RedisResult r = call({"ECHO", "after-" + std::to_string(i)});
    if (r.status != Status::Ok) continue;
    EXPECT_EQ(r.reply.str, "after-" + std::to_string(i));
    answered = true;
  }
  EXPECT_TRUE(answered);
  expect_each_called_once();
}

TEST_F(RedisClientTest, MaxPendingRefusesWithBusy) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  RedisClient::Options o = options(redis.url());
  o.max_pending = 2;
  start_client(o);
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  Outcome* a = issue({"ECHO", "a"});
  Outcome* b = issue({"ECHO", "b"});
  Outcome* c = issue({"ECHO", "c"});  // two unanswered already
  EXPECT_EQ(c->calls, 0);
  ASSERT_TRUE(run_until([&] { return a->done() && b->done() && c->done(); }));
  EXPECT_EQ(a->result.reply.str, "a");
  EXPECT_EQ(b->result.reply.str, "b");
  EXPECT_EQ(c->result.status, Status::Busy);
  // Answered, they free their places.
  EXPECT_EQ(call({"ECHO", "d"}).reply.str, "d");
  expect_each_called_once();
}

TEST_F(RedisClientTest, CloseFailsUnansweredCommandsWithClosed) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  ASSERT_TRUE(redis.pause(3000ms));  // nothing gets answered before close()
  std::vector<Outcome*> pending;
  for (int i = 0; i < 5; ++i) pending.push_back(issue({"ECHO", std::to_string(i)}));
  run_until([] { return false; }, 20ms);  // the commands reach Redis (not required)
  close_client();
  for (Outcome* out : pending) EXPECT_EQ(out->result.status, Status::Closed);
  expect_each_called_once();
  EXPECT_EQ(states_.back(), State::Closed);
}

TEST_F(RedisClientTest, CloseWhileDownOrConnecting) {
  start_client(options("redis://127.0.0.1:" + std::to_string(test::unused_port())));
  Outcome* early = issue({"PING"});
  close_client();  // before the first connect even started
  EXPECT_EQ(early->result.status, Status::Down);
  expect_each_called_once();

  start_client(options("redis://127.0.0.1:" + std::to_string(test::unused_port())));
  ASSERT_TRUE(run_until([&] { return saw_state(State::Down); }));
  // With a reconnect scheduled, and close() called twice: each `done` runs once, in order.
  int first = 0;
  int second = 0;
  client_->close([&] { ++first; });
  client_->close([&] {
    EXPECT_EQ(first, 1);
    ++second;
    client_.reset();
  });
  ASSERT_TRUE(run_until([&] { return second == 1; }));
  EXPECT_EQ(first, 1);
}

TEST_F(RedisClientTest, CallbacksMayCloseTheClient) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();

  bool done = false;
  int first_calls = 0;
  Outcome* after = nullptr;
  std::vector<std::string_view> ping = {"PING"};
  client_->command(ping, [&](RedisResult&& r) {
    ++first_calls;
    EXPECT_TRUE(r.ok());
    client_->close([&] {
      done = true;
      client_.reset();
    });
    after = issue({"PING"});  // after close(): Closed, on a later turn
    EXPECT_EQ(after->calls, 0);
  });
  Outcome* second = issue({"ECHO", "second"});  // its reply may be in the same read
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_EQ(first_calls, 1);
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->result.status, Status::Closed);
  EXPECT_EQ(second->result.status, Status::Closed);
  expect_each_called_once();
}

TEST_F(RedisClientTest, TheObserverMayCloseTheClientWhenItGoesDown) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  bool closed = false;
  on_state_hook_ = [&](State s) {
    if (s != State::Down) return;
    client_->close([&] {
      closed = true;
      client_.reset();
    });
  };
  redis.stop();
  std::vector<Outcome*> unanswered;
  for (int i = 0; i < 3; ++i) unanswered.push_back(issue({"ECHO", std::to_string(i)}));
  ASSERT_TRUE(run_until([&] { return closed; }));
  // close() ran inside the Down transition, before the unanswered commands were failed.
  for (Outcome* out : unanswered) EXPECT_EQ(out->result.status, Status::Closed);
  expect_each_called_once();
  EXPECT_EQ(states_.back(), State::Closed);
}

TEST_F(RedisClientTest, CallbacksMayIssueCommands) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();

  // A chain: each INCR's callback issues the next one.
  int answered = 0;
  std::function<void(RedisResult &&)> next = [&](RedisResult&& r) {
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.reply.integer, ++answered);
    if (answered == 100) return;
    std::vector<std::string_view> incr = {"INCR", "chain"};
    client_->command(incr, next);
  };
  std::vector<std::string_view> incr = {"INCR", "chain"};
  client_->command(incr, next);
  ASSERT_TRUE(run_until([&] { return answered == 100; }));
  EXPECT_EQ(redis.command({"GET", "chain"}), "100");

  // Callbacks failing Down that issue commands get Down again, on a later turn: no recursion.
  redis.stop();
  int down_calls = 0;
  std::function<void(RedisResult &&)> retry = [&](RedisResult&& r) {
    EXPECT_NE(r.status, Status::Ok);
    if (++down_calls < 3) {
      std::vector<std::string_view> ping = {"PING"};
      client_->command(ping, retry);
    }
  };
  std::vector<std::string_view> ping = {"PING"};
  client_->command(ping, retry);
  ASSERT_TRUE(run_until([&] { return down_calls == 3; }));
}

TEST_F(RedisClientTest, BytesThatAreNotRespAreAProtocolError) {
  FakeRedis fake(&loop_, FakeRedis::Mode::Garbage);
  RedisClient::Options o = options(fake.url());
  o.backoff_min = o.backoff_max = 60'000ms;  // one connection is enough
  start_client(o);
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  Outcome* out = issue({"PING"});
  ASSERT_TRUE(run_until([&] { return out->done(); }));
  EXPECT_EQ(out->result.status, Status::Down);
  EXPECT_EQ(client_->state(), State::Down);
  EXPECT_THAT(client_->last_error(), HasSubstr("invalid reply from Redis: Protocol error"));
  EXPECT_EQ(count_errors("protocol"), 1);
  close_client();
  close_fake(fake);
}

TEST_F(RedisClientTest, AReplyToNoCommandIsAProtocolError) {
  FakeRedis fake(&loop_, FakeRedis::Mode::Unsolicited);
  RedisClient::Options o = options(fake.url());
  o.backoff_min = o.backoff_max = 60'000ms;
  start_client(o);
  ASSERT_TRUE(run_until([&] { return saw_state(State::Down); }));
  EXPECT_EQ(client_->last_error(), "Redis sent a reply to no command");
  EXPECT_EQ(count_errors("protocol"), 1);
  close_client();
  close_fake(fake);
}

TEST_F(RedisClientTest, UnansweredAuthIsBoundedByHungAfter) {
  FakeRedis fake(&loop_, FakeRedis::Mode::Silent);
  RedisClient::Options o = options(fake.url(":some-password@"));
  o.hung_after = 100ms;
  o.backoff_min = o.backoff_max = 60'000ms;
  start_client(o);
  ASSERT_TRUE(run_until([&] { return saw_state(State::Down); }));
  EXPECT_EQ(client_->last_error(), "no answer to AUTH within 100ms");
  EXPECT_THAT(client_->last_error(), Not(HasSubstr("some-password")));
  EXPECT_FALSE(saw_state(State::Ready));
  EXPECT_EQ(fake.connections(), 1);
  close_client();
  close_fake(fake);
}

TEST_F(RedisClientTest, TlsRoundTrip) {
  auto files = process_ca().issue("IP:127.0.0.1");
  ASSERT_TRUE(files);
  RedisServer redis("tls-Pass-1", files);
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url(2)));
  ASSERT_TRUE(wait_state(State::Ready)) << client_->last_error();
  // Larger than a TLS record and a read buffer: replies arrive in pieces.
  std::string big(300'000, 'x');
  for (size_t i = 0; i < big.size(); i += 1000) big[i] = static_cast<char>('a' + i / 1000 % 26);
  ASSERT_TRUE(call({"SET", "big", big}).ok());
  RedisResult got = call({"GET", "big"});
  EXPECT_EQ(got.reply.str, big);
  EXPECT_EQ(redis.command({"STRLEN", "big"}, 2), "300000");
  Outcome* eval = issue_eval(RedisScript("return ARGV[1]"), {}, {"over-tls"});
  ASSERT_TRUE(run_until([&] { return eval->done(); }));
  EXPECT_EQ(eval->result.reply.str, "over-tls");
  expect_each_called_once();
}

TEST_F(RedisClientTest, TlsCertificateForAnotherNameIsDown) {
  auto files = process_ca().issue("DNS:other.example");
  ASSERT_TRUE(files);
  RedisServer redis("", files);
  ASSERT_TRUE(redis.ok());
  start_client(options(redis.url()));
  ASSERT_TRUE(run_until([&] { return saw_state(State::Down); }));
  EXPECT_THAT(client_->last_error(), HasSubstr("TLS certificate verification failed"));
  EXPECT_GE(count_errors("connect"), 1);
  EXPECT_FALSE(saw_state(State::Ready));
}

}  // namespace
}  // namespace sluice::redis
