// HttpCaller against small HTTP servers written here (a thread per connection, blocking
// loopback sockets on ephemeral ports). Like upstream_pool_test it lives in tests/unit because
// unit tests link the sluice libraries; unlike most unit tests it uses real sockets.
//
// Every test ends with the caller shut down and uv_loop_close() == 0: no handle leaks. Every
// callback checks it is not running inside start().
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/plugin/http_call_request.h"
#include "core/plugin/http_caller.h"

namespace sluice::plugin {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const bool kSigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

// ---- the loopback server --------------------------------------------------------------------

struct ReceivedRequest {
  std::string head;  // request line and headers, as sent
  std::string body;
};

// One accepted connection, as its handler sees it (on the server's thread for it).
class ServerConn {
 public:
  explicit ServerConn(int fd) : fd_(fd) {}

  // One request (head + Content-Length body); nullopt when the peer closed first.
  std::optional<ReceivedRequest> read_request() {
    size_t head_end;
    while ((head_end = buffered_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    ReceivedRequest r;
    r.head = buffered_.substr(0, head_end + 4);
    std::string lower = r.head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t body_len = 0;
    if (size_t p = lower.find("\r\ncontent-length:"); p != std::string::npos) {
      body_len = std::strtoul(lower.c_str() + p + 17, nullptr, 10);
    }
    while (buffered_.size() < head_end + 4 + body_len) {
      if (!fill()) return std::nullopt;
    }
    r.body = buffered_.substr(head_end + 4, body_len);
    buffered_.erase(0, head_end + 4 + body_len);
    return r;
  }

  bool write(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Blocks until the client closes (true) or the server stops (false).
  bool wait_for_close() {
    while (fill()) {
    }
    return !stopping->load();
  }

  std::atomic<bool>* stopping = nullptr;

 private:
  bool fill() {
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string buffered_;
};

// Accepts on 127.0.0.1:<ephemeral>; one thread per connection runs `handler`.
class TestServer {
 public:
  using Handler = std::function<void(ServerConn&)>;

  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
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

  ~TestServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes the handlers' reads
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  int connections() const { return connections_.load(); }
  int closed_by_client() const { return closed_by_client_.load(); }
  void count_closed_by_client() { ++closed_by_client_; }

 private:
  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      ++connections_;
      std::lock_guard<std::mutex> lock(mutex_);
      open_fds_.push_back(fd);
      threads_.emplace_back([this, fd] {
        ServerConn conn(fd);
        conn.stopping = &stopping_;
        handler_(conn);
        {
          std::lock_guard<std::mutex> l(mutex_);
          std::erase(open_fds_, fd);
        }
        ::close(fd);
      });
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> closed_by_client_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> open_fds_;         // guarded by mutex_
  std::vector<std::thread> threads_;  // guarded by mutex_
};

std::string response(int status, std::string_view body, std::string_view extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

// Serves keep-alive requests until the client closes; answers each with `answer(request)`.
TestServer::Handler serve(std::function<std::string(const ReceivedRequest&)> answer) {
  return [answer](ServerConn& c) {
    while (auto r = c.read_request()) {
      if (!c.write(answer(*r))) return;
    }
  };
}

// Reads a request and never answers (until the client closes it).
TestServer::Handler hang(TestServer** self) {
  return [self](ServerConn& c) {
    if (!c.read_request()) return;
    if (c.wait_for_close()) (*self)->count_closed_by_client();
  };
}

// ---- the loop side --------------------------------------------------------------------------

// One call's outcome as the test sees it.
struct Outcome {
  bool called = false;
  int times = 0;
  bool inside_start = false;  // `done` ran from inside start(): must never happen
  HttpCallResult result;
  Clock::time_point at;
};

class HttpCallerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    caller_ = std::make_unique<HttpCaller>(&loop_);
  }

  void TearDown() override {
    if (caller_) shut_down();
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "handles left open";
  }

  static void on_done(void* arg, HttpCallResult& result) {
    auto* o = static_cast<Outcome*>(arg);
    o->called = true;
    ++o->times;
    o->inside_start = g_inside_start;
    o->result = std::move(result);
    o->at = Clock::now();
  }

  HttpCall* start(HttpCallRequest request, Outcome* o, std::string* error = nullptr) {
    std::string local;
    g_inside_start = true;
    HttpCall* call = caller_->start(std::move(request), &on_done, o, error ? error : &local);
    g_inside_start = false;
    EXPECT_FALSE(o->called) << "done ran inside start()";
    return call;
  }

  static HttpCallRequest get(std::string url, std::chrono::milliseconds timeout = 5000ms) {
    HttpCallRequest r;
    r.url = std::move(url);
    r.timeout = timeout;
    return r;
  }

  // Runs the loop until `pred` holds (false if `limit` passed first).
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
    const auto end = Clock::now() + limit;
    uv_timer_t tick;  // keeps uv_run(ONCE) from blocking for ever
    uv_timer_init(&loop_, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 10, 10);
    while (!pred() && Clock::now() < end) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return pred();
  }

  void shut_down() {
    bool done = false;
    caller_->shutdown([](void* arg) { *static_cast<bool*>(arg) = true; }, &done);
    EXPECT_TRUE(run_until([&] { return done; }));
    uv_run(&loop_, UV_RUN_DEFAULT);  // nothing may be left
    caller_.reset();
  }

  static inline bool g_inside_start = false;
  uv_loop_t loop_{};
  std::unique_ptr<HttpCaller> caller_;
};

std::string header_of(const HttpCallResult& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

// ---- requests as sent -----------------------------------------------------------------------

TEST(PrepareHttpCall, BuildsTheHead) {
  HttpCallRequest r;
  r.method = "POST";
  r.url = "http://Example.com:8080/a/b/?q=1&r=%20#frag";
  r.headers = {{"X-One", "1"}, {"Authorization", "Bearer t"}};
  r.body = "{}";
  r.timeout = 100ms;
  PreparedHttpCall p;
  std::string error;
  ASSERT_TRUE(prepare_http_call(r, &p, &error)) << error;
  EXPECT_EQ(p.head,
            "POST /a/b/?q=1&r=%20 HTTP/1.1\r\nHost: Example.com:8080\r\nX-One: 1\r\n"
            "Authorization: Bearer t\r\nContent-Length: 2\r\n\r\n");
  EXPECT_FALSE(p.origin.tls);
  EXPECT_EQ(p.origin.port, 8080);

  r = HttpCallRequest{};
  r.url = "https://api.example.com?x=1";
  r.headers = {{"host", "virtual.example"}};
  r.timeout = 1ms;
  ASSERT_TRUE(prepare_http_call(r, &p, &error)) << error;
  EXPECT_EQ(p.head, "GET /?x=1 HTTP/1.1\r\nhost: virtual.example\r\n\r\n");
  EXPECT_TRUE(p.origin.tls);
  EXPECT_EQ(p.origin_key, "https://api.example.com:443");

  r.method = "PUT";  // an empty body still gets its Content-Length
  r.headers.clear();
  ASSERT_TRUE(prepare_http_call(r, &p, &error)) << error;
  EXPECT_EQ(p.head, "PUT /?x=1 HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 0\r\n\r\n");
}

TEST(PrepareHttpCall, RefusesWhatCannotBeSent) {
  struct Case {
    std::function<void(HttpCallRequest&)> change;
    std::string error_has;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.timeout = 0ms; }, "timeout is required"},
      {[](auto& r) { r.timeout = -5ms; }, "timeout is required"},
      {[](auto& r) { r.timeout = HttpCaller::kMaxTimeout + 1ms; }, "at most 600000ms"},
      {[](auto& r) { r.url = "ftp://x/"; }, "http or https"},
      {[](auto& r) { r.url = "/relative"; }, "expected http:// or https://"},
      {[](auto& r) { r.url = "http://user:pw@host/"; }, "credentials"},
      {[](auto& r) { r.url = "http://host/a b"; }, "spaces or control"},
      {[](auto& r) { r.url = "http://host/a\r\nX: y"; }, "spaces or control"},
      {[](auto& r) { r.url = "http://:80/"; }, "invalid URL"},
      {[](auto& r) { r.method = "GE T"; }, "invalid method"},
      {[](auto& r) { r.method = ""; }, "invalid method"},
      {[](auto& r) { r.method = "CONNECT"; }, "CONNECT"},
      {[](auto& r) {
         r.headers = {{"X-A", "1\r\nInjected: 1"}};
       },
       "CR, LF or NUL"},
      {[](auto& r) {
         r.headers = {{"X-A", std::string("a\0b", 3)}};
       },
       "CR, LF or NUL"},
      {[](auto& r) {
         r.headers = {{"X A", "1"}};
       },
       "invalid header name"},
      {[](auto& r) {
         r.headers = {{"X:A", "1"}};
       },
       "invalid header name"},
      {[](auto& r) {
         r.headers = {{"", "1"}};
       },
       "invalid header name"},
      {[](auto& r) {
         r.headers = {{"content-length", "5"}};
       },
       "is set by sluice"},
      {[](auto& r) {
         r.headers = {{"Transfer-Encoding", "chunked"}};
       },
       "is set by sluice"},
      {[](auto& r) {
         r.headers = {{"Connection", "close"}};
       },
       "is set by sluice"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    HttpCallRequest r;
    r.url = "http://127.0.0.1:9/";
    r.timeout = 100ms;
    cases[i].change(r);
    PreparedHttpCall p;
    std::string error;
    EXPECT_FALSE(prepare_http_call(r, &p, &error)) << "case " << i;
    EXPECT_NE(error.find(cases[i].error_has), std::string::npos) << "case " << i << ": " << error;
  }
}

// ---- calls ----------------------------------------------------------------------------------

TEST_F(HttpCallerTest, GetReturnsStatusHeadersAndBody) {
  std::vector<std::string> heads;
  std::mutex m;
  TestServer server(serve([&](const ReceivedRequest& r) {
    std::lock_guard<std::mutex> lock(m);
    heads.push_back(r.head);
    return response(200, "hello", "X-Test: yes\r\n");
  }));
  Outcome o;
  HttpCallRequest r = get(server.url("/path?x=1"));
  r.headers = {{"X-Plugin", "p1"}};
  ASSERT_NE(start(r, &o), nullptr);
  EXPECT_EQ(caller_->calls_in_flight(), 1u);
  ASSERT_TRUE(run_until([&] { return o.called; }));
  EXPECT_FALSE(o.inside_start);
  EXPECT_EQ(o.result.error, "");
  EXPECT_EQ(o.result.status, 200);
  EXPECT_EQ(o.result.body, "hello");
  EXPECT_EQ(header_of(o.result, "X-Test"), "yes");
  EXPECT_EQ(caller_->calls_in_flight(), 0u);
  std::lock_guard<std::mutex> lock(m);
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0], "GET /path?x=1 HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                          "\r\nX-Plugin: p1\r\n\r\n");
}

TEST_F(HttpCallerTest, PostBodyIsSentAndKeepAliveIsReused) {
  TestServer server(
      serve([](const ReceivedRequest& r) { return response(201, "echo:" + r.body); }));
  for (int i = 0; i < 3; ++i) {
    Outcome o;
    HttpCallRequest r = get(server.url("/echo"));
    r.method = "POST";
    r.body = "payload " + std::to_string(i) + std::string(100'000, 'z');
    ASSERT_NE(start(r, &o), nullptr);
    ASSERT_TRUE(run_until([&] { return o.called; }));
    EXPECT_EQ(o.result.error, "");
    EXPECT_EQ(o.result.status, 201);
    EXPECT_EQ(o.result.body, "echo:" + r.body);
  }
  EXPECT_EQ(server.connections(), 1);  // one keep-alive connection carried all three
  EXPECT_EQ(caller_->origins(), 1u);
}

TEST_F(HttpCallerTest, ServerErrorIsAnAnswer) {
  TestServer server(serve([](const ReceivedRequest&) { return response(503, "busy"); }));
  Outcome o;
  ASSERT_NE(start(get(server.url()), &o), nullptr);
  ASSERT_TRUE(run_until([&] { return o.called; }));
  EXPECT_EQ(o.result.error, "");
  EXPECT_EQ(o.result.status, 503);
  EXPECT_EQ(o.result.body, "busy");
}

TEST_F(HttpCallerTest, HangingServerTimesOutAndTheLoopKeepsServing) {
  TestServer* hanging_ptr = nullptr;
  TestServer hanging(hang(&hanging_ptr));
  hanging_ptr = &hanging;
  TestServer fine(serve([](const ReceivedRequest&) { return response(200, "ok"); }));

  Outcome slow;
  const auto started = Clock::now();
  ASSERT_NE(start(get(hanging.url(), 300ms), &slow), nullptr);
  // Meanwhile other calls are served.
  for (int i = 0; i < 3; ++i) {
    Outcome o;
    ASSERT_NE(start(get(fine.url()), &o), nullptr);
    ASSERT_TRUE(run_until([&] { return o.called; }));
    EXPECT_EQ(o.result.status, 200);
    EXPECT_FALSE(slow.called);
  }
  ASSERT_TRUE(run_until([&] { return slow.called; }));
  const auto took = slow.at - started;
  EXPECT_EQ(slow.result.error, "timeout after 300ms");
  EXPECT_EQ(slow.result.status, 0);
  EXPECT_GE(took, 290ms);  // libuv's clock is millisecond-grained
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(slow.times, 1);
  // The aborted exchange closed its connection: the server sees the close.
  EXPECT_TRUE(run_until([&] { return hanging.closed_by_client() == 1; }, 5s));
  // And the caller still works afterwards.
  Outcome after;
  ASSERT_NE(start(get(fine.url()), &after), nullptr);
  ASSERT_TRUE(run_until([&] { return after.called; }));
  EXPECT_EQ(after.result.status, 200);
}

TEST_F(HttpCallerTest, ConnectionRefusedIsAnError) {
  // A port with nothing listening: bind one, note it, close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  Outcome o;
  ASSERT_NE(start(get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"), &o),
            nullptr);
  ASSERT_TRUE(run_until([&] { return o.called; }));
  EXPECT_EQ(o.result.error.rfind("connect failed", 0), 0u) << o.result.error;
  EXPECT_EQ(o.result.status, 0);
}

TEST_F(HttpCallerTest, ResetBeforeTheAnswerIsAnError) {
  TestServer server([](ServerConn& c) {
    (void)c.read_request();  // then the handler returns: the connection closes unanswered
  });
  Outcome o;
  ASSERT_NE(start(get(server.url()), &o), nullptr);
  ASSERT_TRUE(run_until([&] { return o.called; }));
  EXPECT_EQ(o.result.error.rfind("reset", 0), 0u) << o.result.error;
}

TEST_F(HttpCallerTest, TooLargeResponsesFail) {
  const std::string big(5000, 'b');
  // Declared by Content-Length, and chunked (found out while reading).
  TestServer declared(serve([&](const ReceivedRequest&) { return response(200, big); }));
  TestServer chunked(serve([&](const ReceivedRequest&) {
    std::string s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) s += "3e8\r\n" + std::string(1000, 'c') + "\r\n";
    return s + "0\r\n\r\n";
  }));
  for (TestServer* server : {&declared, &chunked}) {
    Outcome o;
    HttpCallRequest r = get(server->url());
    r.max_response_bytes = 4096;
    ASSERT_NE(start(r, &o), nullptr);
    ASSERT_TRUE(run_until([&] { return o.called; }));
    EXPECT_EQ(o.result.error, "response too large (> 4096 bytes)");
    EXPECT_TRUE(o.result.body.empty());
    EXPECT_EQ(o.result.status, 0);
  }
  // Exactly the bound is fine.
  Outcome ok;
  HttpCallRequest r = get(chunked.url());
  r.max_response_bytes = 5000;
  ASSERT_NE(start(r, &ok), nullptr);
  ASSERT_TRUE(run_until([&] { return ok.called; }));
  EXPECT_EQ(ok.result.error, "");
  EXPECT_EQ(ok.result.body.size(), 5000u);
}

TEST_F(HttpCallerTest, CancelledCallNeverCallsBack) {
  TestServer* hanging_ptr = nullptr;
  TestServer hanging(hang(&hanging_ptr));
  hanging_ptr = &hanging;
  Outcome o;
  HttpCall* call = start(get(hanging.url(), 200ms), &o);
  ASSERT_NE(call, nullptr);
  ASSERT_TRUE(run_until([&] { return hanging.connections() == 1; }));
  caller_->cancel(call);
  EXPECT_EQ(caller_->calls_in_flight(), 0u);
  // Well past the deadline: still no callback; the connection was closed.
  run_until([] { return false; }, 400ms);
  EXPECT_FALSE(o.called);
  EXPECT_TRUE(run_until([&] { return hanging.closed_by_client() == 1; }, 5s));

  // Cancelled before it even connected (same loop turn as start()).
  Outcome o2;
  HttpCall* early = start(get(hanging.url(), 200ms), &o2);
  ASSERT_NE(early, nullptr);
  caller_->cancel(early);
  run_until([] { return false; }, 300ms);
  EXPECT_FALSE(o2.called);
}

TEST_F(HttpCallerTest, ManyCallsConcurrently) {
  TestServer server(serve([](const ReceivedRequest& r) {
    std::this_thread::sleep_for(5ms);  // keeps many of them in flight at once
    return response(200, r.body);
  }));
  constexpr int kCalls = 300;
  std::vector<Outcome> outcomes(kCalls);
  size_t most_in_flight = 0;
  for (int i = 0; i < kCalls; ++i) {
    HttpCallRequest r = get(server.url("/n"));
    r.method = "POST";
    r.body = "call " + std::to_string(i);
    ASSERT_NE(start(r, &outcomes[static_cast<size_t>(i)]), nullptr);
    most_in_flight = std::max(most_in_flight, caller_->calls_in_flight());
  }
  EXPECT_EQ(most_in_flight, static_cast<size_t>(kCalls));
  ASSERT_TRUE(run_until([&] { return caller_->calls_in_flight() == 0; }, 30s));
  for (int i = 0; i < kCalls; ++i) {
    const auto& o = outcomes[static_cast<size_t>(i)];
    EXPECT_EQ(o.times, 1);
    EXPECT_EQ(o.result.error, "") << i;
    EXPECT_EQ(o.result.body, "call " + std::to_string(i));
  }
  EXPECT_GT(server.connections(), 1);
  EXPECT_LE(server.connections(), static_cast<int>(HttpCaller::kMaxConnectionsPerOrigin));
}

TEST_F(HttpCallerTest, TooManyCallsInFlightAreRefusedAtStart) {
  TestServer* hanging_ptr = nullptr;
  TestServer hanging(hang(&hanging_ptr));
  hanging_ptr = &hanging;
  std::vector<Outcome> outcomes(HttpCaller::kMaxCallsInFlight + 1);
  std::vector<HttpCall*> calls;
  for (size_t i = 0; i < HttpCaller::kMaxCallsInFlight; ++i) {
    calls.push_back(start(get(hanging.url(), 10s), &outcomes[i]));
    ASSERT_NE(calls.back(), nullptr);
  }
  std::string error;
  EXPECT_EQ(start(get(hanging.url()), &outcomes.back(), &error), nullptr);
  EXPECT_EQ(error, "too many calls in flight (at most 1024)");
  for (HttpCall* c : calls) caller_->cancel(c);
  EXPECT_EQ(caller_->calls_in_flight(), 0u);
  run_until([] { return false; }, 50ms);
  for (const auto& o : outcomes) EXPECT_FALSE(o.called);
}

TEST_F(HttpCallerTest, BadRequestsFailAtStartWithoutACallback) {
  Outcome o;
  std::string error;
  HttpCallRequest r = get("http://127.0.0.1:1/");
  r.headers = {{"X-Evil", "a\r\nb"}};
  EXPECT_EQ(start(r, &o, &error), nullptr);
  EXPECT_NE(error.find("CR, LF or NUL"), std::string::npos) << error;
  r = get("http://127.0.0.1:1/", 0ms);
  EXPECT_EQ(start(r, &o, &error), nullptr);
  EXPECT_NE(error.find("timeout"), std::string::npos) << error;
  run_until([] { return false; }, 50ms);
  EXPECT_FALSE(o.called);
  EXPECT_EQ(caller_->calls_in_flight(), 0u);
  EXPECT_EQ(caller_->origins(), 0u);  // nothing was made for a refused call
}

TEST_F(HttpCallerTest, OriginsAreBoundedAndTheIdleLeastRecentlyUsedGoes) {
  std::vector<std::unique_ptr<TestServer>> servers;
  for (size_t i = 0; i <= HttpCaller::kMaxOrigins; ++i) {
    servers.push_back(std::make_unique<TestServer>(
        serve([](const ReceivedRequest&) { return response(200, "ok"); })));
  }
  for (size_t i = 0; i <= HttpCaller::kMaxOrigins; ++i) {
    Outcome o;
    ASSERT_NE(start(get(servers[i]->url()), &o), nullptr) << i;
    ASSERT_TRUE(run_until([&] { return o.called; }));
    EXPECT_EQ(o.result.status, 200);
    EXPECT_LE(caller_->origins(), HttpCaller::kMaxOrigins);
  }
  EXPECT_EQ(caller_->origins(), HttpCaller::kMaxOrigins);
  // Server 0 was the least recently used: its pool was shut down (its connection closed), so
  // a new call to it opens a new connection; server 2's pool was kept (connection reused).
  Outcome again;
  ASSERT_NE(start(get(servers[2]->url()), &again), nullptr);
  ASSERT_TRUE(run_until([&] { return again.called; }));
  EXPECT_EQ(servers[2]->connections(), 1);
  Outcome back;
  ASSERT_NE(start(get(servers[0]->url()), &back), nullptr);
  ASSERT_TRUE(run_until([&] { return back.called; }));
  EXPECT_EQ(back.result.status, 200);
  EXPECT_EQ(servers[0]->connections(), 2);
}

TEST_F(HttpCallerTest, OriginsAllBusyRefuseANewOne) {
  std::vector<std::unique_ptr<TestServer>> servers;
  std::vector<TestServer*> ptrs(HttpCaller::kMaxOrigins + 1);
  for (size_t i = 0; i <= HttpCaller::kMaxOrigins; ++i) {
    servers.push_back(std::make_unique<TestServer>(hang(&ptrs[i])));
    ptrs[i] = servers.back().get();
  }
  std::vector<Outcome> outcomes(HttpCaller::kMaxOrigins + 1);
  for (size_t i = 0; i < HttpCaller::kMaxOrigins; ++i) {
    ASSERT_NE(start(get(servers[i]->url()), &outcomes[i]), nullptr);
  }
  std::string error;
  EXPECT_EQ(start(get(servers.back()->url()), &outcomes.back(), &error), nullptr);
  EXPECT_EQ(error, "too many origins with calls in flight (at most 32)");
  // Shutdown fails the busy ones (TearDown checks the loop closes).
  shut_down();
  for (size_t i = 0; i < HttpCaller::kMaxOrigins; ++i) {
    EXPECT_EQ(outcomes[i].result.error, "worker shutting down");
  }
  EXPECT_FALSE(outcomes.back().called);
}

TEST_F(HttpCallerTest, ShutdownFailsCallsInFlight) {
  TestServer* hanging_ptr = nullptr;
  TestServer hanging(hang(&hanging_ptr));
  hanging_ptr = &hanging;
  TestServer fine(serve([](const ReceivedRequest&) { return response(200, "ok"); }));
  std::vector<Outcome> outcomes(3);
  std::vector<HttpCall*> calls;
  for (auto& o : outcomes) {
    calls.push_back(start(get(hanging.url(), 5s), &o));
    ASSERT_NE(calls.back(), nullptr);
  }
  Outcome cancelled;
  HttpCall* c = start(get(hanging.url(), 5s), &cancelled);
  ASSERT_NE(c, nullptr);
  // A warm idle keep-alive connection to another origin, closed by the shutdown too.
  Outcome warm;
  ASSERT_NE(start(get(fine.url()), &warm), nullptr);
  ASSERT_TRUE(run_until([&] { return warm.called && hanging.connections() == 4; }));
  caller_->cancel(c);

  bool done = false;
  caller_->shutdown([](void* arg) { *static_cast<bool*>(arg) = true; }, &done);
  for (const auto& o : outcomes) EXPECT_FALSE(o.called);  // not from inside shutdown()
  // A call failed by the shutdown but not yet told may still be cancelled: then it never is.
  caller_->cancel(calls[2]);
  std::string error;
  Outcome refused;
  EXPECT_EQ(start(get(fine.url()), &refused, &error), nullptr);
  EXPECT_EQ(error, "worker shutting down");
  ASSERT_TRUE(run_until([&] { return done; }));
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(outcomes[i].times, 1);
    EXPECT_EQ(outcomes[i].result.error, "worker shutting down");
  }
  EXPECT_FALSE(outcomes[2].called);
  EXPECT_FALSE(cancelled.called);
  EXPECT_FALSE(refused.called);
  uv_run(&loop_, UV_RUN_DEFAULT);
  caller_.reset();
  EXPECT_TRUE(run_until([&] { return hanging.closed_by_client() == 4; }, 5s));
}

TEST_F(HttpCallerTest, ACallbackMayStartTheNextCall) {
  TestServer server(serve([](const ReceivedRequest& r) { return response(200, r.body); }));
  struct Chain {
    HttpCaller* caller;
    std::string url;
    int left = 5;
    int answered = 0;
  } chain{caller_.get(), server.url()};
  static HttpCallDone next = [](void* arg, HttpCallResult& result) {
    auto* ch = static_cast<Chain*>(arg);
    EXPECT_EQ(result.status, 200);
    ++ch->answered;
    if (--ch->left == 0) return;
    HttpCallRequest r;
    r.url = ch->url;
    r.timeout = 1000ms;
    std::string error;
    EXPECT_NE(ch->caller->start(r, next, ch, &error), nullptr) << error;
  };
  HttpCallRequest r = get(server.url());
  std::string error;
  ASSERT_NE(caller_->start(r, next, &chain, &error), nullptr);
  ASSERT_TRUE(run_until([&] { return chain.answered == 5; }));
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace sluice::plugin
