// A disk that refuses writes (issue 17, DESIGN §10: requests never wait for, nor fail over,
// the access log or the ledger). The "full disk" is RLIMIT_FSIZE lowered on the running sluice
// with prlimit(2): a write past the limit fails with EFBIG, as one on a full disk fails with
// ENOSPC (sluice ignores SIGXFSZ for that), and raising the limit again is the disk freed.
// prlimit from the test rather than a limit set before exec: the limit can then sit just above
// what the files (and sluice's stderr, which the limit covers too) already hold.
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "tests/support/integration_env.h"
#include "tests/support/ledger_rows.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// A counter's value from /metrics (-1 when absent), e.g.
// counter(server, "sluice_access_log_lines_total{result=\"dropped\"}").
double counter(SluiceServer& server, const std::string& series) {
  auto r = server.admin_client().get("/metrics");
  if (!r) return -1;
  const size_t at = r->body.find(series + " ");
  return at == std::string::npos ? -1 : std::stod(r->body.substr(at + series.size() + 1));
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

uint64_t file_size(const std::string& path) {
  std::error_code ignored;
  const auto size = std::filesystem::file_size(path, ignored);
  return ignored ? 0 : size;
}

// Sets sluice's soft RLIMIT_FSIZE (the hard limit stays: no privilege needed either way).
::testing::AssertionResult set_file_size_limit(pid_t pid, rlim_t soft) {
  rlimit current{};
  if (::prlimit(pid, RLIMIT_FSIZE, nullptr, &current) != 0) {
    return ::testing::AssertionFailure() << "prlimit: " << std::strerror(errno);
  }
  rlimit next{std::min(soft, current.rlim_max), current.rlim_max};
  if (::prlimit(pid, RLIMIT_FSIZE, &next, nullptr) != 0) {
    return ::testing::AssertionFailure() << "prlimit: " << std::strerror(errno);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult lift_file_size_limit(pid_t pid) {
  return set_file_size_limit(pid, RLIM_INFINITY);
}

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }

  // One chat completion; its x-request-id, "" (and a test failure) when it was not a 200.
  std::string request(const std::string& id) {
    Headers headers = bearer(kAliceKey);
    headers.emplace_back("X-Request-Id", id);
    auto r =
        sluice.client().post_json("/v1/chat/completions", chat_body(kFastModel, "full?"), headers);
    EXPECT_TRUE(r && r->status == 200) << (r ? r->describe() : "no response");
    return r && r->status == 200 ? id : "";
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(DiskFullTest, AccessLogDropsCountsWarnsOnceAndResumesByItself) {
  GatewayConfig config;
  config.provider_base_url = mock.base_url();
  const std::string log_path = sluice.dir().file("access.log");
  config.access_log_path = log_path;
  ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  const std::string written = "sluice_access_log_lines_total{result=\"written\"}";
  const std::string dropped = "sluice_access_log_lines_total{result=\"dropped\"}";

  request("before-full");
  ASSERT_TRUE(eventually([&] { return counter(sluice, written) == 1; }, 20s));
  // Room for a few more lines, and for sluice's own log lines on stderr.
  const uint64_t stderr_size = file_size(sluice.process().stderr_path());
  ASSERT_TRUE(set_file_size_limit(sluice.process().pid(),
                                  std::max(file_size(log_path), stderr_size) + 8192));

  int sent = 1;
  ASSERT_TRUE(eventually(
      [&] {
        request("during-" + std::to_string(sent++));
        return counter(sluice, dropped) > 0;
      },
      60s))
      << "no line was dropped after " << sent << " requests\n"
      << sluice.describe();
  const std::string warning = "access log: cannot write " + log_path +
                              ": File too large; dropping lines until it can (counted in "
                              "sluice_access_log_lines_total{result=\"dropped\"})";
  // Still full: more requests, all served, more drops, no second warning.
  const double dropped_then = counter(sluice, dropped);
  ASSERT_TRUE(eventually(
      [&] {
        request("during-" + std::to_string(sent++));
        return counter(sluice, dropped) > dropped_then;
      },
      60s));
  EXPECT_EQ(occurrences(sluice.stderr_text(), warning), 1u) << sluice.stderr_text();
  EXPECT_TRUE(sluice.running());

  // The disk has room again: writing resumes by itself, at the next hand-over.
  ASSERT_TRUE(lift_file_size_limit(sluice.process().pid()));
  const double written_then = counter(sluice, written);
  ASSERT_TRUE(eventually(
      [&] {
        request("after-" + std::to_string(sent++));
        return counter(sluice, written) > written_then + 1;
      },
      60s))
      << sluice.describe();
  ASSERT_TRUE(eventually(
      [&] {
        return sluice.stderr_text().find("access log: writing to " + log_path + " again") !=
               std::string::npos;
      },
      20s))
      << sluice.stderr_text();
  EXPECT_EQ(occurrences(sluice.stderr_text(), warning), 1u);
  // The file is still whole lines: the one the limit cut short was finished, not left half.
  std::istringstream lines(read_file(log_path));
  std::string line;
  size_t count = 0;
  while (std::getline(lines, line)) {
    ++count;
    ASSERT_TRUE(Json::parse(line)) << "not a JSON line: " << line;
  }
  EXPECT_EQ(static_cast<double>(count), counter(sluice, written));
  EXPECT_NE(read_file(log_path).find("\"request_id\":\"after-"), std::string::npos);
}

TEST_F(DiskFullTest, LedgerKeepsRowsWhileFullAndWritesThemOnceThereIsRoom) {
  GatewayConfig config;
  config.provider_base_url = mock.base_url();
  const std::string ledger = sluice.dir().file("ledger.db");
  config.ledger_path = ledger;  // flushed every 10 ms; the access log is off
  ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  const std::string written = "sluice_ledger_rows_total{result=\"written\"}";
  const std::string failed = "sluice_ledger_rows_total{result=\"failed\"}";

  request("ledger-before");
  ASSERT_TRUE(eventually([&] { return counter(sluice, written) == 1; }, 20s));
  const uint64_t biggest = std::max(
      {file_size(ledger), file_size(ledger + "-wal"), file_size(sluice.process().stderr_path())});
  ASSERT_TRUE(set_file_size_limit(sluice.process().pid(), biggest + 8192));

  std::vector<std::string> during;
  ASSERT_TRUE(eventually(
      [&] {
        during.push_back(request("ledger-during-" + std::to_string(during.size())));
        return counter(sluice, failed) > 0;
      },
      60s))
      << "no ledger write failed after " << during.size() << " requests\n"
      << sluice.describe();
  // Requests keep being answered while the rows wait.
  for (int i = 0; i < 5; ++i) {
    during.push_back(request("ledger-during-" + std::to_string(during.size())));
  }
  EXPECT_TRUE(sluice.running());
  EXPECT_EQ(occurrences(sluice.stderr_text(), "ledger: cannot write"), 1u) << sluice.stderr_text();

  ASSERT_TRUE(lift_file_size_limit(sluice.process().pid()));
  const std::string after = request("ledger-after");
  ASSERT_TRUE(await_ledger_row(ledger, after, 30s)) << sluice.describe();
  // The rows kept through the outage were written too, none dropped.
  auto rows = ledger_rows_by_id(ledger);
  for (const auto& id : during) EXPECT_TRUE(rows.count(id)) << "row " << id << " missing";
  EXPECT_EQ(counter(sluice, "sluice_ledger_rows_total{result=\"dropped\"}"), 0);
  EXPECT_NE(sluice.stderr_text().find("ledger: writing to " + ledger + " resumed"),
            std::string::npos)
      << sluice.stderr_text();
}

}  // namespace
}  // namespace sluice::test
