#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace sluice::test {

using namespace std::chrono_literals;

namespace {

constexpr const char* kServer = "/usr/bin/redis-server";
constexpr const char* kCli = "/usr/bin/redis-cli";

// A loopback port nothing listens on right now (bound once to learn a free number, then
// released). redis-server cannot take port 0 (it means "no TCP"), so a race with another
// process taking the port is possible: the constructor tries a few ports.
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  return ok ? ntohs(addr.sin_port) : 0;
}

}  // namespace

bool RedisServer::available() {
  return ::access(kServer, X_OK) == 0 && ::access(kCli, X_OK) == 0;
}

RedisServer::RedisServer(std::string password, std::optional<TlsServerFiles> tls)
    : password_(std::move(password)), tls_(std::move(tls)) {
  for (int attempt = 0; attempt < 5 && !ok_; ++attempt) {
    port_ = free_port();
    ok_ = port_ != 0 && launch() && wait_ready(10s);
  }
  if (!ok_) {
    ADD_FAILURE() << "redis-server did not start: "
                  << (process_ ? process_->describe() : std::string("cannot run ") + kServer);
  }
}

RedisServer::~RedisServer() = default;

std::string RedisServer::url(unsigned db) const {
  std::string out = tls_ ? "rediss://" : "redis://";
  if (!password_.empty()) out += ":" + password_ + "@";
  out += "127.0.0.1:" + std::to_string(port_);
  if (db != 0) out += "/" + std::to_string(db);
  return out;
}

bool RedisServer::launch() {
  std::vector<std::string> argv = {kServer,     "--bind",       "127.0.0.1", "--save",
                                   "",          "--appendonly", "no",        "--dir",
                                   dir_.path(), "--daemonize",  "no"};
  if (tls_) {
    argv.insert(argv.end(), {"--port", "0", "--tls-port", std::to_string(port_), "--tls-cert-file",
                             tls_->cert_file, "--tls-key-file", tls_->key_file,
                             "--tls-ca-cert-file", tls_->ca_file, "--tls-auth-clients", "no"});
  } else {
    argv.insert(argv.end(), {"--port", std::to_string(port_)});
  }
  if (!password_.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(password_);
  }
  process_.reset();  // reaps the last one (already killed by stop())
  process_ = Process::start(argv, dir_.file("redis-" + std::to_string(++starts_)));
  return process_ != nullptr;
}

bool RedisServer::wait_ready(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) return false;  // e.g. the port was taken meanwhile
    auto pong = command({"PING"});
    if (pong && *pong == "PONG") return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void RedisServer::stop() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait_exit(10s);
}

bool RedisServer::start() {
  ok_ = launch() && wait_ready(10s);
  if (!ok_) ADD_FAILURE() << "redis-server did not start again: " << process_->describe();
  return ok_;
}

std::optional<std::string> RedisServer::command(const std::vector<std::string>& args, unsigned db) {
  std::vector<std::string> argv = {kCli, "-h", "127.0.0.1", "-p", std::to_string(port_)};
  if (tls_) argv.insert(argv.end(), {"--tls", "--insecure"});  // the test's certificate
  if (db != 0) {
    argv.push_back("-n");
    argv.push_back(std::to_string(db));
  }
  argv.insert(argv.end(), args.begin(), args.end());
  Env env;
  if (!password_.empty()) env.emplace_back("REDISCLI_AUTH", password_);  // not in argv
  auto cli = Process::start(argv, dir_.file("cli"), env);
  if (!cli) return std::nullopt;
  auto code = cli->wait_exit(5s);
  if (!code || *code != 0) return std::nullopt;
  std::string out = cli->stdout_text();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

bool RedisServer::flushall() {
  auto r = command({"FLUSHALL"});
  return r && *r == "OK";
}

bool RedisServer::pause(std::chrono::milliseconds ms) {
  auto r = command({"CLIENT", "PAUSE", std::to_string(ms.count())});
  return r && *r == "OK";
}

}  // namespace sluice::test
