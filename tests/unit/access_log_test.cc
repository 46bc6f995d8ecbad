// Access log: the JSON line a request produces, its escaping, and the hand-off from a worker's
// buffer to the writer thread (timer flush, size flush, drop when the queue is full).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "core/log/access_log.h"
#include "core/metrics/metrics.h"

namespace sluice::log {
namespace {

using namespace std::chrono_literals;

// 2025-01-02T03:04:05.678Z
std::chrono::system_clock::time_point fixed_time() {
  return std::chrono::system_clock::time_point(1735787045678ms);
}

RequestRecord full_record() {
  RequestRecord r;
  r.time = fixed_time();
  r.request_id = "req-42";
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.endpoint = "chat.completions";
  r.agent = "sofia";
  r.model = "fast";
  r.provider = "local";
  r.physical_model = "qwen3:8b";
  r.status = 200;
  r.stream = true;
  r.attempts = 2;
  r.bytes_in = 123;
  r.bytes_out = 4567;
  r.duration = 0.0123456;
  r.upstream = 0.011;
  r.time_to_first_token = 0.0031;
  r.overhead = 42.4e-6;
  return r;
}

std::string line_of(const RequestRecord& r) {
  std::string out;
  TimestampCache clock;
  format_access_line(out, r, clock);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_path(const char* name) {
  return ::testing::TempDir() + "sluice_access_log_" + name + "_" + std::to_string(::getpid());
}

size_t count_lines(const std::string& s) {
  return std::count(s.begin(), s.end(), '\n');
}

TEST(AccessLogLine, HasEveryFieldInOrder) {
  EXPECT_EQ(line_of(full_record()),
            R"({"time":"2025-01-02T03:04:05.678Z","request_id":"req-42","method":"POST",)"
            R"("path":"/v1/chat/completions","agent":"sofia","model":"fast","provider":"local",)"
            R"("physical_model":"qwen3:8b","status":200,"error_code":null,"stream":true,)"
            R"("attempts":2,"bytes_in":123,"bytes_out":4567,"duration_ms":12.346,)"
            R"("upstream_ms":11.000,"ttft_ms":3.100,"overhead_us":42,"client_gone":false})"
            "\n");
}

TEST(AccessLogLine, WhatDidNotHappenIsNull) {
  RequestRecord r;
  r.time = fixed_time();
  r.request_id = "r";
  r.method = "GET";
  r.path = "/nope";
  r.status = 404;
  r.error_code = "not_found_error";
  r.client_gone = true;
  r.duration = 0.0001;
  const std::string line = line_of(r);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(line);
  EXPECT_TRUE(doc["agent"].is_null());
  EXPECT_TRUE(doc["model"].is_null());
  EXPECT_TRUE(doc["provider"].is_null());
  EXPECT_TRUE(doc["physical_model"].is_null());
  EXPECT_TRUE(doc["upstream_ms"].is_null());
  EXPECT_TRUE(doc["ttft_ms"].is_null());
  EXPECT_EQ(std::string_view(doc["error_code"]), "not_found_error");
  EXPECT_EQ(int64_t(doc["status"]), 404);
  EXPECT_EQ(bool(doc["client_gone"]), true);
  EXPECT_EQ(bool(doc["stream"]), false);
  EXPECT_DOUBLE_EQ(double(doc["duration_ms"]), 0.1);
}

TEST(AccessLogLine, EveryStringIsEscapedIntoValidJson) {
  RequestRecord r = full_record();
  const std::string nasty_id = "a\"b\\c\nd\re\tf\x01g\x1fh";
  const std::string nasty_path = "/v1/\xc3\xbc\xe2\x82\xac/\xf0\x9f\x98\x80?q=\"x\"";  // ü € 😀
  const std::string broken_utf8 = std::string("ok\xff\xc3(\xed\xa0\x80") + "end";
  r.request_id = nasty_id;
  r.path = nasty_path;
  r.agent = broken_utf8;
  r.error_code = "</script>";
  const std::string line = line_of(r);

  ASSERT_EQ(count_lines(line), 1u) << "a raw newline would split the record";
  EXPECT_EQ(line.back(), '\n');
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
  EXPECT_EQ(std::string_view(doc["request_id"]), nasty_id);
  EXPECT_EQ(std::string_view(doc["path"]), nasty_path);
  // Each byte that is not valid UTF-8 becomes U+FFFD (EF BF BD).
  EXPECT_EQ(std::string_view(doc["agent"]),
            "ok\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
            "end");
  EXPECT_EQ(std::string_view(doc["error_code"]), "</script>");
}

// The line is written through a fast path for strings with nothing to escape (checked eight
// bytes at a time): every byte value, at every position of a word and of the tail, must come
// out exactly as the project's escaper writes it.
TEST(AccessLogLine, StringsAreWrittenAsTheEscaperWritesThemWhateverByteAndPosition) {
  for (int byte = 0; byte < 256; ++byte) {
    for (size_t pos = 0; pos < 19; ++pos) {
      std::string path(19, 'a');
      path[pos] = static_cast<char>(byte);
      RequestRecord r = full_record();
      r.path = path;
      std::string expected = R"(,"path":)";
      append_json_string(expected, path);
      expected += R"(,"agent":)";
      ASSERT_NE(line_of(r).find(expected), std::string::npos) << "byte " << byte << " at " << pos;
    }
  }
}

// A line is written into room reserved for its worst case: strings made only of bytes with the
// longest escapes must still fit, and what was in the buffer before stays as it was.
TEST(AccessLogLine, WorstCaseEscapesFitAndEarlierLinesAreKept) {
  RequestRecord r = full_record();
  const std::string controls(3000, '\x01');
  const std::string bad_bytes(3000, '\xff');
  r.request_id = controls;
  r.path = bad_bytes;
  r.agent = controls;
  r.error_code = bad_bytes;
  r.bytes_in = UINT64_MAX;
  r.bytes_out = UINT64_MAX;
  r.status = INT32_MIN;
  r.attempts = UINT32_MAX;
  r.duration = r.upstream = r.time_to_first_token = 1e9;
  r.overhead = 1e12;
  std::string out = "previous line\n";
  TimestampCache clock;
  format_access_line(out, r, clock);
  format_access_line(out, full_record(), clock);
  ASSERT_EQ(out.rfind("previous line\n", 0), 0u);
  const size_t second = out.find('\n', 14) + 1;
  const std::string first_line = out.substr(14, second - 14);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(first_line).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(doc["request_id"]), controls);
  EXPECT_EQ(uint64_t(doc["bytes_out"]), UINT64_MAX);
  EXPECT_EQ(int64_t(doc["status"]), INT32_MIN);
  EXPECT_EQ(out.substr(second), line_of(full_record()));
}

TEST(AccessLogLine, JsonStringEscapesControlCharacters) {
  std::string out;
  append_json_string(out, std::string_view("\x00\x07\b\f\"\\", 6));
  EXPECT_EQ(out, R"("\u0000\u0007\b\f\"\\")");
}

TEST(AccessLogLine, TimestampFollowsTheClockAcrossSeconds) {
  TimestampCache clock;
  std::string out;
  clock.append(out, fixed_time());
  out.push_back(' ');
  clock.append(out, fixed_time() + 1ms);
  out.push_back(' ');
  clock.append(out, fixed_time() + 400ms);  // next second: the cached text must change
  out.push_back(' ');
  clock.append(out, fixed_time() + 24h);
  EXPECT_EQ(out,
            "2025-01-02T03:04:05.678Z 2025-01-02T03:04:05.679Z 2025-01-02T03:04:06.078Z "
            "2025-01-03T03:04:05.678Z");
}

TEST(AccessLog, OffWhenPathIsEmpty) {
  std::string error;
  auto log = AccessLog::open(config::AccessLogSettings{"", "json"}, &error);
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->enabled());
}

TEST(AccessLog, OpenFailureNamesTheFile) {
  std::string error;
  auto log =
      AccessLog::open(config::AccessLogSettings{"/nonexistent-dir/x/access.log", "json"}, &error);
  EXPECT_EQ(log, nullptr);
  EXPECT_NE(error.find("/nonexistent-dir/x/access.log"), std::string::npos) << error;
}

TEST(AccessLog, WriterThreadAppendsSubmittedBuffersToTheFile) {
  const std::string path = temp_path("file");
  std::remove(path.c_str());
  {
    std::string error;
    auto log = AccessLog::open(config::AccessLogSettings{path, "json"}, &error);
    ASSERT_NE(log, nullptr) << error;
    std::string buffer = line_of(full_record());
    log->submit(buffer);
    EXPECT_TRUE(buffer.empty()) << "submit takes the bytes";
    buffer = line_of(full_record()) + line_of(full_record());
    log->submit(buffer);
    log->drain();
    EXPECT_EQ(count_lines(read_file(path)), 3u);
    buffer = line_of(full_record());
    log->submit(buffer);
  }  // destruction writes what is still queued
  const std::string content = read_file(path);
  EXPECT_EQ(count_lines(content), 4u);
  EXPECT_EQ(content.substr(0, content.find('\n') + 1), line_of(full_record()));
  std::remove(path.c_str());
}

TEST(AccessLog, ReopenSendsTheNextBuffersToANewFileAndCountsEveryLine) {
  const std::string path = temp_path("reopen");
  const std::string moved = path + ".1";
  std::remove(path.c_str());
  std::remove(moved.c_str());
  metrics::Metrics metrics;
  {
    std::string error;
    auto log = AccessLog::open(config::AccessLogSettings{path, "json"},
                               AccessLog::Options{.metrics = &metrics}, &error);
    ASSERT_NE(log, nullptr) << error;
    EXPECT_TRUE(log->writes_to_file());
    std::string buffer = line_of(full_record()) + line_of(full_record());
    log->submit(buffer);
    log->drain();
    ASSERT_EQ(std::rename(path.c_str(), moved.c_str()), 0);  // logrotate
    EXPECT_TRUE(log->reopen());                              // its postrotate SIGUSR1
    buffer = line_of(full_record());
    log->submit(buffer);
    log->drain();
    EXPECT_EQ(log->written_lines(), 3u);
    EXPECT_EQ(log->dropped_lines(), 0u);
  }
  EXPECT_EQ(count_lines(read_file(moved)), 2u);
  EXPECT_EQ(count_lines(read_file(path)), 1u);
  const std::string exposed = metrics.serialize();
  EXPECT_NE(exposed.find("sluice_access_log_lines_total{result=\"written\"} 3"), std::string::npos)
      << exposed;
  std::remove(path.c_str());
  std::remove(moved.c_str());
}

TEST(AccessLog, StdoutAndOffHaveNothingToReopen) {
  std::string error;
  auto off = AccessLog::open(config::AccessLogSettings{"", "json"}, &error);
  ASSERT_NE(off, nullptr);
  EXPECT_FALSE(off->reopen());
  auto out = AccessLog::open(config::AccessLogSettings{"stdout", "json"}, &error);
  ASSERT_NE(out, nullptr);
  EXPECT_FALSE(out->reopen());
}

TEST(AccessLog, FullQueueDropsAndCountsInsteadOfBlocking) {
  // A FIFO nobody reads yet: the writer thread blocks in write(2) once the pipe is full, like
  // a stuck disk. The submitting (worker) side must keep going and count what it dropped.
  const std::string path = temp_path("fifo");
  std::remove(path.c_str());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);

  std::string error;
  auto log = AccessLog::open(config::AccessLogSettings{path, "json"},
                             AccessLog::Options{.queue_capacity = 1}, &error);
  ASSERT_NE(log, nullptr) << error;

  const std::string one_line = line_of(full_record());
  std::string big;  // far more than a pipe holds: the writer blocks on it
  while (big.size() < 512 * 1024) big += one_line;
  const size_t big_lines = count_lines(big);
  std::string buffer = big;
  log->submit(buffer);

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    buffer = one_line;
    log->submit(buffer);  // at most one fits in the queue while the writer is stuck
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "submit must never block";
  EXPECT_GE(log->dropped_lines(), 2u);

  // Unblock: read everything until the writer closes the FIFO at destruction.
  std::string received;
  std::thread drain([&] {
    int flags = ::fcntl(reader, F_GETFL);
    ::fcntl(reader, F_SETFL, flags & ~O_NONBLOCK);
    char chunk[65536];
    for (;;) {
      ssize_t n = ::read(reader, chunk, sizeof chunk);
      if (n > 0) {
        received.append(chunk, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;
    }
  });
  const uint64_t dropped = log->dropped_lines();
  log.reset();
  drain.join();
  ::close(reader);
  std::remove(path.c_str());

  // Whatever was not dropped arrived whole: written + dropped = submitted.
  EXPECT_EQ(count_lines(received) + dropped, big_lines + 3);
  EXPECT_EQ(received.substr(0, big.size()), big);
}

TEST(AccessLogBuffer, TimerHandsLinesToTheWriterAndCloseFreesTheHandle) {
  const std::string path = temp_path("timer");
  std::remove(path.c_str());
  std::string error;
  auto log = AccessLog::open(config::AccessLogSettings{path, "json"}, &error);
  ASSERT_NE(log, nullptr) << error;

  uv_loop_t loop;
  uv_loop_init(&loop);
  auto* buffer = new AccessLogBuffer(&loop, *log);
  EXPECT_FALSE(buffer->flush_timer_armed()) << "nothing to hand over: no wake-ups";
  buffer->record(full_record());
  buffer->record(full_record());
  EXPECT_GT(buffer->buffered_bytes(), 0u);
  EXPECT_TRUE(buffer->flush_timer_armed());
  EXPECT_EQ(read_file(path), "") << "record() itself makes no write";

  // Keep the loop alive past one flush interval (the flush timer alone does not).
  uv_timer_t stop;
  uv_timer_init(&loop, &stop);
  uv_timer_start(
      &stop, [](uv_timer_t* t) { uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr); },
      3 * AccessLogBuffer::kFlushIntervalMs, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(buffer->buffered_bytes(), 0u);
  EXPECT_FALSE(buffer->flush_timer_armed()) << "an idle worker is not woken every interval";
  log->drain();
  EXPECT_EQ(count_lines(read_file(path)), 2u);

  buffer->record(full_record());
  bool closed = false;
  buffer->close([&] {
    closed = true;
    delete buffer;
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_TRUE(closed);
  EXPECT_EQ(uv_loop_close(&loop), 0) << "every handle closed";
  log->drain();
  EXPECT_EQ(count_lines(read_file(path)), 3u) << "close() flushes what was buffered";
  std::remove(path.c_str());
}

TEST(AccessLogBuffer, HandsOverAsSoonAsTheBufferPasses64KiB) {
  const std::string path = temp_path("size");
  std::remove(path.c_str());
  std::string error;
  auto log = AccessLog::open(config::AccessLogSettings{path, "json"}, &error);
  ASSERT_NE(log, nullptr) << error;
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto* buffer = new AccessLogBuffer(&loop, *log);
  size_t recorded = 0;
  const size_t line_size = line_of(full_record()).size();
  while (recorded * line_size < AccessLogBuffer::kFlushBytes + line_size) {
    buffer->record(full_record());
    ++recorded;
    EXPECT_LT(buffer->buffered_bytes(), AccessLogBuffer::kFlushBytes);
  }
  log->drain();  // no loop iteration ran: only the size rule can have handed bytes over
  EXPECT_GE(count_lines(read_file(path)), AccessLogBuffer::kFlushBytes / line_size);
  buffer->close([&] { delete buffer; });
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
  log->drain();
  EXPECT_EQ(count_lines(read_file(path)), recorded);
  std::remove(path.c_str());
}

TEST(AccessLogBuffer, DisabledLogRecordsNothing) {
  std::string error;
  auto log = AccessLog::open(config::AccessLogSettings{"", "json"}, &error);
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto* buffer = new AccessLogBuffer(&loop, *log);
  buffer->record(full_record());
  EXPECT_EQ(buffer->buffered_bytes(), 0u);
  buffer->close([&] { delete buffer; });
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace sluice::log
