// Fuzz target: the usage scanner (core/usage) on arbitrary response bodies.
//
// Besides "no crash, no sanitizer report, no unbounded growth", it checks what the relay and
// the ledger rely on:
//   - without stripping (and for JSON bodies) the client gets the input byte for byte;
//   - the usage, the content-byte count and what is forwarded do not depend on how the body
//     was split into reads (whole, byte by byte, uneven pieces), nor on stripping;
//   - with stripping, what is forwarded is the input minus removed stretches, each a whole
//     usage-only event or a chunk's "usage": null member, and an independent reference (SSE
//     events split by a plain loop, their data parsed by simdjson's DOM) agrees on each event:
//     a valid usage-only chunk (choices == [], usage an object) is removed; a valid event of one
//     data line whose object has a top-level "usage": null loses exactly that member and its
//     separating comma (the stretch null_usage_member.h documents; what remains parses to the
//     same document minus "usage"); any other valid event — and any longer than the hold
//     bound, and any of several lines — is kept. Events the reference cannot judge the way a
//     streaming reader must may be kept or removed whole, or — invalid JSON, duplicate keys —
//     lose such a member stretch; with escapes in valid JSON, only the member stretch whose
//     removal leaves the same document minus "usage";
//   - with stripping too, what is forwarded does not depend on how the body was split.
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
#include "tests/fuzz/fuzz_check.h"

namespace {

using sluice::usage::Usage;
using sluice::usage::UsageScanner;
using Kind = UsageScanner::Kind;

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

enum class Verdict { Keep, Remove, DropNullUsage, Either };

struct Event {
  size_t begin, end;  // from its first line through the blank line that ends it
  // What the client may get for it, longest first: the event itself, the event without a
  // "usage": null member, nothing.
  std::vector<std::string> allowed;
};

constexpr std::string_view kUsageKey = "\"usage\"";

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// For each `"usage" <ws> : <ws> null` in `data`, the document without it as the scanner's
// contract says it is taken out: with the comma before it (and the space between), else with
// the comma after it and the space that follows, else alone before the closing brace.
std::vector<std::string> without_null_usage_members(std::string_view data) {
  std::vector<std::string> out;
  for (size_t key = data.find(kUsageKey); key != std::string_view::npos;
       key = data.find(kUsageKey, key + 1)) {
    size_t i = key + kUsageKey.size();
    while (i < data.size() && is_json_space(data[i])) ++i;
    if (i == data.size() || data[i] != ':') continue;
    ++i;
    while (i < data.size() && is_json_space(data[i])) ++i;
    if (data.substr(i, 4) != "null") continue;
    const size_t value_end = i + 4;
    size_t after = value_end;
    while (after < data.size() && is_json_space(data[after])) ++after;
    if (after == data.size() || (data[after] != ',' && data[after] != '}')) continue;
    size_t before = key;
    while (before > 0 && is_json_space(data[before - 1])) --before;
    if (before == 0) continue;
    size_t from = 0, to = 0;
    if (data[before - 1] == ',') {
      from = before - 1;
      to = value_end;
    } else if (data[before - 1] == '{') {
      from = key;
      to = value_end;
      if (data[after] == ',') {
        to = after + 1;
        while (to < data.size() && is_json_space(data[to])) ++to;
      }
    } else {
      continue;
    }
    out.push_back(std::string(data.substr(0, from)) + std::string(data.substr(to)));
  }
  return out;
}

// The document minified by the DOM, without its top-level "usage" when `drop_usage`.
std::string minified(simdjson::dom::object object, bool drop_usage) {
  std::string out = "{";
  for (auto member : object) {
    if (drop_usage && member.key == "usage") continue;
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (char c : member.key) {  // decoded: escape what would make two keys look alike
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\u%04x", static_cast<unsigned char>(c));
        out.append(hex);
      } else {
        out.push_back(c);
      }
    }
    out.append("\":");
    out.append(simdjson::minify(member.value));
  }
  return out + "}";
}

// The event with its data line's JSON replaced (one data line: "data:" [" "] json eol...).
std::string with_data(std::string_view event, size_t data_begin, size_t data_size,
                      std::string_view new_data) {
  return std::string(event.substr(0, data_begin)) + std::string(new_data) +
         std::string(event.substr(data_begin + data_size));
}

Event judge(std::string_view in, size_t begin, size_t end,
            const std::vector<std::string_view>& lines) {
  const std::string_view event = in.substr(begin, end - begin);
  Event e{begin, end, {}};
  auto verdict = [&](Verdict v, std::vector<std::string> forms = {}) {
    switch (v) {
      case Verdict::Keep:
        e.allowed = {std::string(event)};
        break;
      case Verdict::Remove:
        e.allowed = {""};
        break;
      case Verdict::DropNullUsage:
        e.allowed = std::move(forms);
        break;
      case Verdict::Either:
        e.allowed = {std::string(event)};
        e.allowed.insert(e.allowed.end(), forms.begin(), forms.end());
        e.allowed.push_back("");
        break;
    }
    return e;
  };
  std::string data;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!line.starts_with("data:")) return verdict(Verdict::Keep);  // only data lines change
    line.remove_prefix(5);
    if (line.starts_with(' ')) line.remove_prefix(1);
    if (i) data.push_back('\n');
    data.append(line);
  }
  if (event.size() > UsageScanner::kMaxHeldBytes) return verdict(Verdict::Keep);  // never held
  // One data line: where its JSON is in the event, and the event without each candidate member.
  std::vector<std::string> stripped_forms;
  if (lines.size() == 1) {
    const size_t data_begin = static_cast<size_t>(lines[0].data() - event.data()) +
                              (lines[0].starts_with("data: ") ? 6 : 5);
    for (const std::string& d : without_null_usage_members(data)) {
      stripped_forms.push_back(with_data(event, data_begin, data.size(), d));
    }
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(simdjson::padded_string(data)).get(root) != simdjson::SUCCESS) {
    return verdict(Verdict::Either, stripped_forms);
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return verdict(Verdict::Keep);
  int choices_seen = 0, usage_seen = 0;
  bool choices_empty = false, usage_object = false, usage_null = false;
  for (auto member : object) {
    if (member.key == "choices") {
      ++choices_seen;
      simdjson::dom::array a;
      choices_empty = member.value.get_array().get(a) == simdjson::SUCCESS && a.size() == 0;
    } else if (member.key == "usage") {
      ++usage_seen;
      usage_object = member.value.is_object();
      usage_null = member.value.is_null();
    }
  }
  if (choices_seen > 1 || usage_seen > 1) return verdict(Verdict::Either, stripped_forms);
  // The candidates that leave the same document minus the top-level "usage": null.
  std::vector<std::string> valid;
  if (usage_null && lines.size() == 1) {
    const std::string expected = minified(object, true);
    const size_t data_begin = static_cast<size_t>(lines[0].data() - event.data()) +
                              (lines[0].starts_with("data: ") ? 6 : 5);
    for (const std::string& d : without_null_usage_members(data)) {
      simdjson::dom::parser p2;
      simdjson::dom::element r2;
      simdjson::dom::object o2;
      if (p2.parse(simdjson::padded_string(d)).get(r2) != simdjson::SUCCESS) continue;
      if (r2.get_object().get(o2) != simdjson::SUCCESS) continue;
      if (minified(o2, false) == expected) {
        valid.push_back(with_data(event, data_begin, data.size(), d));
      }
    }
  }
  // A streaming reader matches keys as written; the DOM decodes them ("us\u0061ge" is
  // "usage"): with escapes about, the event may stay whole or go whole, but a member may only
  // go if what remains is the same document minus "usage".
  if (data.find('\\') != std::string::npos) return verdict(Verdict::Either, valid);
  if (choices_empty && usage_object) return verdict(Verdict::Remove);
  if (!usage_null || lines.size() != 1) return verdict(Verdict::Keep);
  FUZZ_CHECK(valid.size() == 1);  // the reference itself found the member
  return verdict(Verdict::DropNullUsage, std::move(valid));
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
      if (open) events.push_back(judge(in, begin, next, lines));
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
    bool matched = false;
    for (const std::string& form : e.allowed) {
      if (out.substr(o, form.size()) != form) continue;
      o += form.size();
      matched = true;
      break;
    }
    FUZZ_CHECK(matched);
    i = e.end;
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
    const Transcript stripped_whole = run(scanner, kind, true, input, splits[0]);
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
        FUZZ_CHECK(s.forwarded == stripped_whole.forwarded);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
