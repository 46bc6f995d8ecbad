#include "tests/support/sluice_server.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::test {

using namespace std::chrono_literals;

SluiceServer::~SluiceServer() = default;

bool SluiceServer::start(const std::string& binary, const std::string& config_yaml, const Env& env,
                         std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
  };
  dir_.write("sluice.yaml", config_yaml);
  process_ = Process::start({binary, "run", "-c", config_path()}, dir_.file("sluice"), env);
  if (!process_) {
    ADD_FAILURE() << "cannot start " << binary;
    return false;
  }
  auto admin = process_->wait_for_line(
      Process::Stream::Stderr, std::regex(R"(admin listening on 127\.0\.0\.1:(\d+))"), left());
  // The agent listener's line is any "listening on" line that is not the admin one.
  auto agent = process_->wait_for_line(
      Process::Stream::Stderr,
      std::regex(R"(^(?!.*admin listening).*listening on 127\.0\.0\.1:(\d+))"), left());
  if (!admin || !agent) {
    ADD_FAILURE() << "sluice did not report " << (agent ? "" : "its agent port ")
                  << (admin ? "" : "its admin port ") << "(expected stderr lines "
                  << "'listening on 127.0.0.1:<port>' and 'admin listening on "
                     "127.0.0.1:<port>')\nconfig:\n"
                  << config_yaml << "\n"
                  << process_->describe();
    return false;
  }
  uint16_t agent_port = static_cast<uint16_t>(std::stoi((*agent)[1]));
  uint16_t admin_port = static_cast<uint16_t>(std::stoi((*admin)[1]));

  // The log line may precede the listen() by a moment on another worker: wait until both
  // ports accept.
  for (uint16_t p : {agent_port, admin_port}) {
    HttpClient probe(p);
    probe.set_timeout(1s);
    while (!probe.connect()) {
      if (left() <= 0ms || !process_->running()) {
        ADD_FAILURE() << "sluice port " << p << " does not accept connections: " << probe.error()
                      << "\n"
                      << process_->describe();
        return false;
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  port_ = agent_port;
  admin_port_ = admin_port;
  return true;
}

std::string SluiceServer::describe() const {
  return process_ ? process_->describe() : "sluice not started";
}

}  // namespace sluice::test
