// Fuzz target: the usage scanner (core/usage) on arbitrary response bodies.
//
// Besides "no crash, no sanitizer report, no unbounded growth", it checks what the relay and
// the ledger rely on:
//   - without stripping (and for JSON bodies) the client gets the input byte for byte;
//   - the usage, the content-byte count and what is forwarded do not depend on how the body
//     was split into reads (whole, byte by byte, uneven pieces), nor on stripping;
//   - with stripping, what is forwarded is the input minus whole events, and an independent
//     reference (SSE events split by a plain loop, their data parsed by simdjson's DOM)
//     agrees on each event: a valid usage-only chunk (choices == [], usage an object) is
//     removed, any other valid event — and any longer than the hold bound — is kept. Events
//     the reference cannot judge the way a streaming reader must (invalid JSON, escaped or
//     duplicate keys) may go either way, but only whole.
//   - a normalised usage never has more cached + cache-write tokens than input tokens.
//
// Built with clang and -DSLUICE_FUZZ=ON it is a libFuzzer binary; otherwise
// (SLUICE_FUZZ_STANDALONE) a plain program that replays the files named on its command line.
//   clang run:
//     build/tests/fuzz/fuzz_sse_usage_scanner -max_len=8192 -dict=tests/fuzz/sse_usage_scanner.dict
//       tests/fuzz/corpus/sse_usage_scanner
//   (-len_control=0 -max_len=40000 reaches the 16 KiB hold bound)
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/usage/usage.h"
#include "core/usage/usage_scanner.h"

namespace {

using sluice::usage::Usage;
using sluice::usage::UsageScanner;
using Kind = UsageScanner::Kind;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

struct Transcript {
  std::string forwarded;
  Usage usage;
  uint64_t content_bytes = 0;
};

bool same_usage(const Usage& a, const Usage& b) {
  return a.source == b.source && a.input_tokens == b.input_tokens &&
         a.output_tokens == b.output_tokens && a.cached_input_tokens == b.cached_input_tokens &&
         a.cache_write_tokens == b.cache_write_tokens && a.reasoning_tokens == b.reasoning_tokens;
}

void check_usage(const Usage& u) {
  FUZZ_CHECK(u.cached_input_tokens + u.cache_write_tokens <= u.input_tokens);
  FUZZ_CHECK(u.reasoning_tokens <= u.output_tokens);
  if (u.source == Usage::Source::None) FUZZ_CHECK(u.total() == 0);
}

// Each piece is copied into a buffer that is scribbled over after the call, as a reused read
// buffer would be: a scanner that kept a pointer into an earlier read forwards garbage here.
Transcript run(UsageScanner& scanner, Kind kind, bool strip, std::string_view input,
               const std::vector<size_t>& pieces) {
  Transcript t;
  scanner.begin(kind, strip);
  std::string read;
  size_t offset = 0, piece = 0;
  while (offset < input.size()) {
    const size_t n = std::min(pieces[piece++ % pieces.size()], input.size() - offset);
    read.assign(input.substr(offset, n));
    for (const auto& p : scanner.feed(read)) t.forwarded.append(p.data, p.size);
    read.assign(n, '\x7f');
    offset += n;
  }
  for (const auto& p : scanner.flush()) t.forwarded.append(p.data, p.size);
  t.usage = scanner.finish();
  t.content_bytes = scanner.content_bytes();
  check_usage(t.usage);
  return t;
}

// ---- the reference for stripping --------------------------------------------------------------

enum class Verdict { Keep, Remove, Either };

struct Event {
  size_t begin, end;  // from its first line through the blank line that ends it
  Verdict verdict;
};

Verdict judge(const std::vector<std::string_view>& lines, size_t event_size) {
  std::string data;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!line.starts_with("data:")) return Verdict::Keep;  // only data lines can be removed
    line.remove_prefix(5);
    if (line.starts_with(' ')) line.remove_prefix(1);
    if (i) data.push_back('\n');
    data.append(line);
  }
  if (event_size > UsageScanner::kMaxHeldBytes) return Verdict::Keep;  // never held that long
  // A streaming reader matches keys as written; the DOM decodes them.
  if (data.find('\\') != std::string::npos) return Verdict::Either;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(simdjson::padded_string(data)).get(root) != simdjson::SUCCESS) {
    return Verdict::Either;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return Verdict::Keep;
  int choices_seen = 0, usage_seen = 0;
  bool choices_empty = false, usage_object = false;
  for (auto member : object) {
    if (member.key == "choices") {
      ++choices_seen;
      simdjson::dom::array a;
      choices_empty = member.value.get_array().get(a) == simdjson::SUCCESS && a.size() == 0;
    } else if (member.key == "usage") {
      ++usage_seen;
      usage_object = member.value.is_object();
    }
  }
  if (choices_seen > 1 || usage_seen > 1) return Verdict::Either;
  return choices_empty && usage_object ? Verdict::Remove : Verdict::Keep;
}

// SSE events as a plain loop over the whole input sees them (lines end in \n, \r\n or \r).
std::vector<Event> reference_events(std::string_view in) {
  std::vector<Event> events;
  std::vector<std::string_view> lines;
  size_t i = 0, begin = 0;
  bool open = false;
  while (i < in.size()) {
    const size_t eol = in.find_first_of("\r\n", i);
    if (eol == std::string_view::npos) break;  // an unfinished line: its event is incomplete
    size_t next = eol + 1;
    if (in[eol] == '\r' && next < in.size() && in[next] == '\n') ++next;
    if (eol == i) {
      if (open) events.push_back(Event{begin, next, judge(lines, next - begin)});
      open = false;
    } else {
      if (!open) {
        open = true;
        begin = i;
        lines.clear();
      }
      lines.push_back(in.substr(i, eol - i));
    }
    i = next;
  }
  return events;
}

void check_stripped(std::string_view in, std::string_view out) {
  size_t i = 0, o = 0;
  auto keep = [&](size_t n) {
    FUZZ_CHECK(out.substr(o, n) == in.substr(i, n));
    i += n;
    o += n;
  };
  for (const Event& e : reference_events(in)) {
    keep(e.begin - i);  // bytes between events always pass
    const std::string_view event = in.substr(e.begin, e.end - e.begin);
    bool kept = false;
    switch (e.verdict) {
      case Verdict::Keep:
        kept = true;
        break;
      case Verdict::Remove:
        kept = false;
        break;
      case Verdict::Either:
        kept = out.substr(o, event.size()) == event;
        break;
    }
    if (kept) {
      keep(event.size());
    } else {
      i = e.end;
    }
  }
  FUZZ_CHECK(out.substr(o) == in.substr(i));
}

void check(std::string_view input) {
  UsageScanner scanner;
  const std::vector<std::vector<size_t>> splits = {
      {input.size() + 1}, {1}, {7, 1, 30, 2, 113}, {4096, 3}};

  for (Kind kind : {Kind::Json, Kind::EventStream}) {
    const Transcript whole = run(scanner, kind, false, input, splits[0]);
    FUZZ_CHECK(whole.forwarded == input);
    for (const auto& pieces : splits) {
      const Transcript t = run(scanner, kind, false, input, pieces);
      FUZZ_CHECK(t.forwarded == input);
      FUZZ_CHECK(same_usage(t.usage, whole.usage));
      FUZZ_CHECK(t.content_bytes == whole.content_bytes);
      // Stripping changes what is forwarded, never what is read.
      const Transcript s = run(scanner, kind, true, input, pieces);
      FUZZ_CHECK(same_usage(s.usage, whole.usage));
      FUZZ_CHECK(s.content_bytes == whole.content_bytes);
      if (kind == Kind::Json) {
        FUZZ_CHECK(s.forwarded == input);
      } else {
        check_stripped(input, s.forwarded);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifdef SLUICE_FUZZ_STANDALONE
#include <filesystem>
#include <fstream>
#include <iterator>

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", f.c_str());
      return 1;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("ran %zu inputs\n", files.size());
  return 0;
}
#endif
