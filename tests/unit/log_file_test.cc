// LogFile (core/log/log_file.h): the access log's output on the writer thread — size rotation
// that keeps lines whole, reopening after logrotate moved the file, and a disk that refuses
// writes (/dev/full: every write fails with ENOSPC) counted as dropped lines.
#include "core/log/log_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::log {
namespace {

// A private directory, removed with its files.
class Dir {
 public:
  Dir() {
    std::string templ = ::testing::TempDir() + "sluice_log_file_XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) std::abort();
    path_ = templ;
  }
  ~Dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  std::string write(std::string_view name, const std::string& content) const {
    std::ofstream(file(name), std::ios::binary) << content;
    return file(name);
  }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `count` lines of `width` bytes each (the newline included), numbered so each is unique.
std::string lines(int first, int count, size_t width = 100) {
  std::string out;
  for (int i = first; i < first + count; ++i) {
    std::string line = "{\"n\":" + std::to_string(i) + ",\"pad\":\"";
    line.append(width - line.size() - 3, 'x');
    line += "\"}\n";
    out += line;
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

bool exists(const std::string& path) {
  return std::filesystem::exists(path);
}

config::AccessLogSettings settings(const std::string& path, uint64_t max_size, unsigned keep) {
  config::AccessLogSettings s;
  s.path = path;
  s.max_size = max_size;
  s.keep = keep;
  return s;
}

TEST(LogFile, RotatesAtMaxSizeKeepingWholeLinesAndAtMostKeepOldFiles) {
  Dir dir;
  const std::string path = dir.file("access.log");
  LineCounter counter(nullptr, nullptr);
  std::string error;
  auto file = LogFile::open(settings(path, 1024, 3), counter, &error);
  ASSERT_TRUE(file) << error;
  // 100 lines of 100 bytes in buffers of 10: ten files' worth, cut inside buffers.
  for (int i = 0; i < 100; i += 10) file->write(lines(i, 10));
  EXPECT_EQ(counter.written(), 100u);
  EXPECT_EQ(counter.dropped(), 0u);
  for (const std::string& name : {path, path + ".1", path + ".2", path + ".3"}) {
    ASSERT_TRUE(exists(name)) << name;
    const std::string text = read_file(name);
    EXPECT_LE(text.size(), 1024u) << name;
    EXPECT_EQ(text.size() % 100, 0u) << name << ": a line was split";
  }
  EXPECT_FALSE(exists(path + ".4"));
  // The newest lines are in `path`, the ones before in path.1: nothing lost between them.
  const auto current = split(read_file(path));
  const auto previous = split(read_file(path + ".1"));
  ASSERT_FALSE(current.empty());
  ASSERT_FALSE(previous.empty());
  EXPECT_NE(current.back().find("\"n\":99,"), std::string::npos) << current.back();
  const std::string first_current = current.front().substr(0, current.front().find(','));
  const std::string last_previous = previous.back().substr(0, previous.back().find(','));
  EXPECT_EQ(std::stoi(first_current.substr(5)), std::stoi(last_previous.substr(5)) + 1);
}

TEST(LogFile, ALineLargerThanMaxSizeGetsAFileOfItsOwn) {
  Dir dir;
  const std::string path = dir.file("access.log");
  LineCounter counter(nullptr, nullptr);
  std::string error;
  auto file = LogFile::open(settings(path, 1024, 2), counter, &error);
  ASSERT_TRUE(file) << error;
  file->write(lines(0, 1));
  file->write(lines(1, 1, 3000));
  file->write(lines(2, 1));
  EXPECT_EQ(counter.written(), 3u);
  EXPECT_EQ(read_file(path + ".2"), lines(0, 1));
  EXPECT_EQ(read_file(path + ".1"), lines(1, 1, 3000));
  EXPECT_EQ(read_file(path), lines(2, 1));
}

TEST(LogFile, KeepZeroDeletesInsteadOfKeeping) {
  Dir dir;
  const std::string path = dir.file("access.log");
  LineCounter counter(nullptr, nullptr);
  std::string error;
  auto file = LogFile::open(settings(path, 1024, 0), counter, &error);
  ASSERT_TRUE(file) << error;
  for (int i = 0; i < 30; ++i) file->write(lines(i, 1));
  EXPECT_FALSE(exists(path + ".1"));
  EXPECT_LE(read_file(path).size(), 1024u);
  EXPECT_EQ(counter.written(), 30u);
}

TEST(LogFile, MaxSizeZeroNeverRotates) {
  Dir dir;
  const std::string path = dir.file("access.log");
  LineCounter counter(nullptr, nullptr);
  std::string error;
  auto file = LogFile::open(settings(path, 0, 3), counter, &error);
  ASSERT_TRUE(file) << error;
  for (int i = 0; i < 50; i += 10) file->write(lines(i, 10));
  EXPECT_FALSE(exists(path + ".1"));
  EXPECT_EQ(read_file(path), lines(0, 50));
}

TEST(LogFile, AFileAlreadyPastMaxSizeRotatesAtTheFirstWrite) {
  Dir dir;
  const std::string path = dir.write("access.log", lines(0, 20));
  LineCounter counter(nullptr, nullptr);
  std::string error;
  auto file = LogFile::open(settings(path, 1024, 1), counter, &error);
  ASSERT_TRUE(file) << error;
  file->write(lines(20, 1));
  EXPECT_EQ(read_file(path + ".1"), lines(0, 20));
  EXPECT_EQ(read_file(path), lines(20, 1));
}

TEST(LogFile, ReopenWritesTheNextLinesToANewFileAtThePath) {
  Dir dir;
  const std::string path = dir.file("access.log");
  LineCounter counter(nullptr, nullptr);
  std::string error;
  auto file = LogFile::open(settings(path, 0, 5), counter, &error);
  ASSERT_TRUE(file) << error;
  file->write(lines(0, 3));
  // What logrotate does before its postrotate `kill -USR1`.
  ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
  file->write(lines(3, 1));  // still the old (renamed) file until the reopen
  EXPECT_TRUE(file->reopen());
  file->write(lines(4, 2));
  EXPECT_EQ(read_file(path + ".1"), lines(0, 4));
  EXPECT_EQ(read_file(path), lines(4, 2));
  EXPECT_EQ(counter.written(), 6u);
}

TEST(LogFile, StdoutIsNeverReopenedNorRotated) {
  LineCounter counter(nullptr, nullptr);
  std::string error;
  auto file = LogFile::open(settings("stdout", 1024, 3), counter, &error);
  ASSERT_TRUE(file) << error;
  EXPECT_FALSE(file->is_file());
  EXPECT_FALSE(file->reopen());
}

TEST(LogFile, AFullDiskDropsAndCountsLinesAndKeepsTrying) {
  if (!exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  LineCounter counter(nullptr, nullptr);
  std::string error;
  auto file = LogFile::open(settings("/dev/full", 0, 0), counter, &error);
  ASSERT_TRUE(file) << error;
  testing::internal::CaptureStderr();
  file->write(lines(0, 5));
  file->write(lines(5, 3));  // the retry: fails again, warns no more
  const std::string logged = testing::internal::GetCapturedStderr();
  EXPECT_EQ(counter.written(), 0u);
  EXPECT_EQ(counter.dropped(), 8u);
  // One warning for the outage, with the path, the reason and where the drops are counted.
  EXPECT_EQ(split(logged).size(), 1u) << logged;
  EXPECT_NE(logged.find("access log: cannot write /dev/full: No space left on device; dropping "
                        "lines until it can (counted in "
                        "sluice_access_log_lines_total{result=\"dropped\"})"),
            std::string::npos)
      << logged;
}

}  // namespace
}  // namespace sluice::log
