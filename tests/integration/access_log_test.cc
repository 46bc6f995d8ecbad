// The access log (DESIGN §4 `access_log: {path: <file>, format: json}`; docs/operations.md:
// one JSON line per finished request, handed to a writer thread every 100 ms): a served and a
// refused request each leave a line a user can join to the response by x-request-id.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    log_path = sluice.dir().file("access.log");
    config.access_log_path = log_path;
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // The log line whose request id is `id`, waiting up to 5 s for it to be written.
  std::optional<Json> line_for(const std::string& id) {
    std::optional<Json> found;
    eventually(
        [&] {
          std::istringstream lines(read_file(log_path));
          std::string line;
          while (std::getline(lines, line)) {
            if (line.find(id) == std::string::npos) continue;
            found = Json::parse(line);
            EXPECT_TRUE(found) << "not a JSON line: " << line;
            return true;
          }
          return false;
        },
        5s);
    return found;
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
  std::string log_path;
};

TEST_F(AccessLogTest, ServedRequestIsLoggedAsOneJsonLine) {
  HttpClient client = sluice.client();
  Headers headers = bearer(kAliceKey);
  headers.emplace_back("X-Request-Id", "access-log-probe-1");
  auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, "log me"), headers);
  ASSERT_TRUE(r) << client.error();
  ASSERT_EQ(r->status, 200) << r->describe();

  auto line = line_for("access-log-probe-1");
  ASSERT_TRUE(line) << "no line for the request in " << log_path << ":\n" << read_file(log_path);
  EXPECT_EQ((*line)["request_id"].str(), "access-log-probe-1") << line->dump();
  EXPECT_EQ((*line)["agent"].str(), "alice") << line->dump();
  EXPECT_EQ((*line)["model"].str(), kFastModel) << line->dump();
  EXPECT_EQ((*line)["provider"].str(), "mockai") << line->dump();
  EXPECT_EQ((*line)["status"].as_int(), 200) << line->dump();
  // The secrets never reach the log (§10).
  std::string all = read_file(log_path);
  EXPECT_EQ(all.find(kAliceKey), std::string::npos);
  EXPECT_EQ(all.find(kProviderApiKey), std::string::npos);
}

TEST_F(AccessLogTest, RefusedRequestIsLoggedWithItsStatus) {
  HttpClient client = sluice.client();
  auto r = client.post_json("/v1/chat/completions", chat_body(kFastModel, "no key"),
                            {{"X-Request-Id", "access-log-probe-401"}});
  ASSERT_TRUE(r) << client.error();
  ASSERT_EQ(r->status, 401) << r->describe();
  auto line = line_for("access-log-probe-401");
  ASSERT_TRUE(line) << "no line for the request in " << log_path << ":\n" << read_file(log_path);
  EXPECT_EQ((*line)["status"].as_int(), 401) << line->dump();
}

}  // namespace
}  // namespace sluice::test
