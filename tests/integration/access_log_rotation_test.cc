// The access log over months (issue 17; DESIGN §4 `access_log: {…, max_size, keep}`, "SIGUSR1
// reopens the file"): logrotate's rename + SIGUSR1 under load loses and splits no line, and
// size rotation keeps `keep` old files of whole lines, none much past max_size.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// sluice_access_log_lines_total{result=…} from /metrics (-1 when absent).
double access_log_lines(SluiceServer& server, const std::string& result) {
  auto r = server.admin_client().get("/metrics");
  if (!r) return -1;
  const std::string name = "sluice_access_log_lines_total{result=\"" + result + "\"} ";
  const size_t at = r->body.find(name);
  return at == std::string::npos ? -1 : std::stod(r->body.substr(at + name.size()));
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class AccessLogRotationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }

  void start(const std::string& extra = "") {
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.workers = 2;
    log_path = sluice.dir().file("access.log");
    config.access_log_path = log_path;
    config.access_log_extra = extra;
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
  std::string log_path;
};

TEST_F(AccessLogRotationTest, Sigusr1UnderLoadLosesAndSplitsNoLine) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client = sluice.client();
      for (int i = 0; !stop.load(); ++i) {
        auto r =
            client.post_json("/v1/chat/completions", chat_body(kFastModel, "c" + std::to_string(c)),
                             bearer(kAliceKey));
        if (r && r->status == 200) {
          answered.fetch_add(1);
        } else {
          failed.fetch_add(1);
        }
      }
    });
  }
  // What logrotate does, five times over: rename, then `kill -USR1`; each time the writer must
  // create a new file at the path and the renamed one must have received lines.
  std::vector<std::string> files;
  for (int round = 1; round <= 5; ++round) {
    ASSERT_TRUE(eventually([&] { return !read_file(log_path).empty(); }, 20s))
        << "no line reached " << log_path << "\n"
        << sluice.describe();
    const std::string moved = log_path + "." + std::to_string(round);
    ASSERT_EQ(std::rename(log_path.c_str(), moved.c_str()), 0);
    files.push_back(moved);
    ASSERT_TRUE(sluice.process().signal(SIGUSR1));
    ASSERT_TRUE(eventually([&] { return std::filesystem::exists(log_path); }, 20s))
        << "SIGUSR1 did not create a new " << log_path << "\n"
        << sluice.describe();
  }
  files.push_back(log_path);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  ASSERT_GT(answered.load(), 0);

  // Every answered request has its line, in exactly one of the files, and every line is JSON.
  auto total_lines = [&] {
    size_t n = 0;
    for (const auto& f : files) n += lines_of(f).size();
    return n;
  };
  EXPECT_TRUE(
      eventually([&] { return total_lines() == static_cast<size_t>(answered.load()); }, 20s))
      << total_lines() << " lines for " << answered.load() << " answered requests";
  for (const auto& f : files) {
    for (const auto& line : lines_of(f)) {
      auto json = Json::parse(line);
      ASSERT_TRUE(json) << f << ": not a JSON line: " << line;
      EXPECT_EQ((*json)["status"].as_int(), 200) << line;
    }
  }
  EXPECT_EQ(occurrences(sluice.stderr_text(), "access log reopened: " + log_path), 5u)
      << sluice.stderr_text();
  EXPECT_EQ(access_log_lines(sluice, "written"), answered.load());
  EXPECT_EQ(access_log_lines(sluice, "dropped"), 0);
}

TEST_F(AccessLogRotationTest, Sigusr1WithoutALogFileIsHarmless) {
  GatewayConfig config;
  config.provider_base_url = mock.base_url();  // access_log_path "": the access log is off
  ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  ASSERT_TRUE(sluice.process().signal(SIGUSR1));
  ASSERT_TRUE(eventually(
      [&] {
        return sluice.stderr_text().find("SIGUSR1: the access log is not a file") !=
               std::string::npos;
      },
      20s))
      << sluice.describe();
  auto r = sluice.client().post_json("/v1/chat/completions", chat_body(kFastModel, "still here"),
                                     bearer(kAliceKey));
  ASSERT_TRUE(r && r->status == 200) << sluice.describe();
  EXPECT_TRUE(sluice.running());
}

TEST_F(AccessLogRotationTest, SizeRotationKeepsKeepFilesOfWholeLines) {
  ASSERT_NO_FATAL_FAILURE(start("max_size: 2KiB, keep: 3"));
  HttpClient client = sluice.client();
  const int requests = 60;  // ~450-byte lines: ~4 a file, a dozen rotations
  for (int i = 0; i < requests; ++i) {
    Headers headers = bearer(kAliceKey);
    headers.emplace_back("X-Request-Id", "size-rotation-" + std::to_string(i));
    auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, "rotate"), headers);
    ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : client.error());
  }
  ASSERT_TRUE(eventually([&] { return access_log_lines(sluice, "written") == requests; }, 20s))
      << sluice.describe();

  size_t longest = 0;
  for (const std::string& f : {log_path, log_path + ".1", log_path + ".2", log_path + ".3"}) {
    ASSERT_TRUE(std::filesystem::exists(f)) << f;
    for (const auto& line : lines_of(f)) {
      longest = std::max(longest, line.size() + 1);
      ASSERT_TRUE(Json::parse(line)) << f << ": not a JSON line: " << line;
    }
  }
  for (const std::string& f : {log_path, log_path + ".1", log_path + ".2", log_path + ".3"}) {
    const std::string text = read_file(f);
    EXPECT_LE(text.size(), 2048 + longest) << f;
    EXPECT_EQ(text.back(), '\n') << f;
  }
  EXPECT_FALSE(std::filesystem::exists(log_path + ".4"));
  // The newest line is in the current file.
  EXPECT_NE(read_file(log_path).find("size-rotation-" + std::to_string(requests - 1)),
            std::string::npos);
  EXPECT_NE(sluice.stderr_text().find("access log: rotated " + log_path), std::string::npos);
}

}  // namespace
}  // namespace sluice::test
