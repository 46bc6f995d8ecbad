#include "tests/support/mock_provider.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "tests/support/http_client.h"

namespace sluice::test {

using namespace std::chrono_literals;

MockProvider::MockProvider(const std::string& binary, std::vector<std::string> extra_args) {
  std::vector<std::string> argv = {binary, "--port", "0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = Process::start(argv, dir_.file("mock"));
  if (!process_) {
    ADD_FAILURE() << "cannot start the mock provider " << binary;
    return;
  }
  // "listening on <host>:<port>": 127.0.0.1 unless extra_args gave --host (e.g. 0.0.0.0, which
  // tests still reach through loopback).
  auto line = process_->wait_for_line(Process::Stream::Stdout,
                                      std::regex(R"(listening on [0-9.]+:(\d+))"), 10s);
  if (!line) {
    ADD_FAILURE() << "the mock provider did not report its port: " << process_->describe();
    return;
  }
  port_ = static_cast<uint16_t>(std::stoi((*line)[1]));
}

MockProvider::~MockProvider() = default;

std::string MockProvider::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

bool MockProvider::control(const std::string& behavior, int count, const std::string& path_prefix) {
  Json body = Json::object();
  body.set("behavior", behavior);
  body.set("count", count);
  if (!path_prefix.empty()) body.set("path", path_prefix);
  HttpClient client(port_);
  auto r = client.post_json("/__control", body.dump());
  return r && r->status == 200;
}

bool MockProvider::reset() {
  HttpClient client(port_);
  auto r = client.post_json("/__reset", "");
  return r && r->status == 200;
}

std::string MockProvider::requests_raw() {
  HttpClient client(port_);
  auto r = client.get("/__requests");
  return r && r->status == 200 ? r->body : "";
}

std::optional<Json> MockProvider::requests() {
  return Json::parse(requests_raw());
}

std::optional<Json> MockProvider::stats() {
  HttpClient client(port_);
  auto r = client.get("/__stats");
  if (!r || r->status != 200) return std::nullopt;
  return r->json();
}

bool MockProvider::stop() {
  if (!process_) return true;
  process_->signal(SIGTERM);
  return process_->wait_exit(10s).has_value();
}

}  // namespace sluice::test
