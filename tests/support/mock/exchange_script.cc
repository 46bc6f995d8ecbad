#include "tests/support/mock/exchange_script.h"

#include <cstdio>

namespace sluice::mock {

namespace {

std::string head_of(const Reply& reply, bool keep_alive, uint64_t sequence,
                    const std::string& framing) {
  std::string h = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                  std::string(reason_phrase(reply.status)) + "\r\n";
  h += "Content-Type: " + reply.content_type + "\r\n";
  if (reply.stream) h += "Cache-Control: no-cache\r\n";
  for (const auto& [name, value] : reply.headers) h += name + ": " + value + "\r\n";
  h += "x-mock-request-seq: " + std::to_string(sequence) + "\r\n";
  h += framing;
  if (!keep_alive) h += "Connection: close\r\n";
  h += "\r\n";
  return h;
}

std::string http_chunk(const std::string& data) {
  char size[24];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

void write(Script& s, std::string bytes) {
  s.push_back({Step::Kind::Write, std::move(bytes)});
}
void wait(Script& s, uint32_t ms) {
  if (ms) s.push_back({Step::Kind::Wait, {}, ms});
}
void end(Script& s, Step::Kind kind) {
  s.push_back({kind, {}});
}

}  // namespace

Script build_script(const Reply& reply, const Behavior& behavior, bool keep_alive,
                    uint64_t sequence) {
  Script s;
  switch (behavior.ending) {
    case Behavior::Ending::Hang:
      end(s, Step::Kind::Hang);
      return s;
    case Behavior::Ending::Reset:
      wait(s, behavior.delay_ms);
      end(s, Step::Kind::Reset);
      return s;
    case Behavior::Ending::Garbage:
      wait(s, behavior.delay_ms);
      static const char kGarbage[] =
          "\x01\x02 this is not HTTP \xff\xfe\r\n\r\n<html>garbage</html>\r\n";
      write(s, std::string(kGarbage, sizeof kGarbage - 1));
      end(s, Step::Kind::Close);
      return s;
    case Behavior::Ending::Answer:
    case Behavior::Ending::Cut:
      break;
  }
  bool cut = behavior.ending == Behavior::Ending::Cut;
  wait(s, behavior.delay_ms);

  if (!reply.stream) {
    std::string framing = "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
    if (cut) {
      write(s, head_of(reply, keep_alive, sequence, framing) +
                   reply.body.substr(0, reply.body.size() / 2));
      end(s, Step::Kind::Close);
      return s;
    }
    write(s, head_of(reply, keep_alive, sequence, framing) + reply.body);
    end(s, keep_alive && !behavior.close_after ? Step::Kind::Finish : Step::Kind::Close);
    return s;
  }

  // A stream: the head goes out at once (like a real provider), then one HTTP chunk per event.
  write(s, head_of(reply, keep_alive, sequence, "Transfer-Encoding: chunked\r\n"));
  size_t cut_at = behavior.cut_events;
  if (behavior.cut_in_tool && reply.tool_cut_events > 0) cut_at = reply.tool_cut_events;
  size_t sent = 0;
  for (const std::string& event : reply.events) {
    if (cut && sent == cut_at) break;
    if (sent > 0) wait(s, behavior.chunk_delay_ms);
    write(s, http_chunk(event));
    ++sent;
  }
  if (cut) {
    end(s, Step::Kind::Close);
    return s;
  }
  write(s, "0\r\n\r\n");
  end(s, keep_alive && !behavior.close_after ? Step::Kind::Finish : Step::Kind::Close);
  return s;
}

}  // namespace sluice::mock
