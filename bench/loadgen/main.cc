// bench_loadgen: open-loop (fixed rate) or closed-loop HTTP/1.1 load with latency measured from
// each request's intended send time, at microsecond resolution. Prints one JSON object.
//
//   bench_loadgen --target 127.0.0.1:8080 --path /v1/chat/completions
//       --body '{"model":"fast","messages":[...]}' --header 'Authorization: Bearer sk-...'
//       --connections 32 --rate 5000 --warmup 1 --duration 5 [--sse --expect-events 22]
//       [--watch-pid PID] [--label sluice-default]
//   bench_loadgen --target 127.0.0.1:8080 --method GET --path /v1/tools ...
//       [--watch-upstream-pid MOCK_PID]   # also the CPU of what the proxy calls
//
// --rate 0 is the closed loop (each connection sends its next request when the answer is in).
// See load_driver.h for the timeline and what each number means.
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/load_driver.h"
#include "bench/loadgen/proc_stats.h"

namespace {

using sluice::bench::LatencyHistogram;
using sluice::bench::LoadDriver;
using sluice::bench::LoadOptions;
using sluice::bench::LoadReport;

[[noreturn]] void usage(const char* why) {
  std::fprintf(
      stderr,
      "bench_loadgen: %s\n"
      "usage: bench_loadgen --target HOST:PORT [--method M (POST)] [--path P]\n"
      "         [--body JSON | --body-file F] [--header 'Name: value']... [--connections N]\n"
      "         [--rate R (0 = closed loop)] [--warmup S] [--duration S] [--drain S] [--sse]\n"
      "         [--expect-events N] [--watch-pid PID] [--watch-upstream-pid PID] [--label TEXT]\n",
      why);
  std::exit(2);
}

double number(const std::string& flag, const char* text) {
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || v < 0) usage(("bad number for " + flag).c_str());
  return v;
}

std::string quantiles_json(const LatencyHistogram& h) {
  auto us = [&](uint64_t ns) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", static_cast<double>(ns) / 1000.0);
    return std::string(b);
  };
  return "{\"p50\":" + us(h.quantile_ns(0.50)) + ",\"p90\":" + us(h.quantile_ns(0.90)) +
         ",\"p99\":" + us(h.quantile_ns(0.99)) + ",\"p999\":" + us(h.quantile_ns(0.999)) +
         ",\"max\":" + us(h.max_ns()) + ",\"min\":" + us(h.min_ns()) +
         ",\"mean\":" + us(static_cast<uint64_t>(h.mean_ns())) + "}";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  LoadOptions options;
  std::string host_port, method = "POST", path = "/v1/chat/completions", body, label;
  std::vector<std::string> headers;
  bool sse = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h")
      usage("open/closed-loop HTTP load, latency from intended send time");
    if (flag == "--sse") {
      sse = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value for " + flag).c_str());
    const char* v = argv[++i];
    if (flag == "--target")
      host_port = v;
    else if (flag == "--method")
      method = v;
    else if (flag == "--path")
      path = v;
    else if (flag == "--body")
      body = v;
    else if (flag == "--body-file") {
      std::ifstream in(v);
      if (!in) usage("cannot read --body-file");
      std::stringstream ss;
      ss << in.rdbuf();
      body = ss.str();
    } else if (flag == "--header")
      headers.push_back(v);
    else if (flag == "--connections")
      options.connections = static_cast<uint32_t>(number(flag, v));
    else if (flag == "--rate")
      options.rate = number(flag, v);
    else if (flag == "--warmup")
      options.warmup_s = number(flag, v);
    else if (flag == "--duration")
      options.duration_s = number(flag, v);
    else if (flag == "--drain")
      options.drain_s = number(flag, v);
    else if (flag == "--expect-events")
      options.expect_events = static_cast<uint32_t>(number(flag, v));
    else if (flag == "--watch-pid")
      options.watch_pid = static_cast<pid_t>(number(flag, v));
    else if (flag == "--watch-upstream-pid")
      options.watch_upstream_pid = static_cast<pid_t>(number(flag, v));
    else if (flag == "--label")
      label = v;
    else
      usage(("unknown flag " + flag).c_str());
  }
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) usage("--target HOST:PORT is required");
  if (uv_ip4_addr(host_port.substr(0, colon).c_str(), std::atoi(host_port.c_str() + colon + 1),
                  &options.target) != 0) {
    usage("--target must be an IPv4 address and port");
  }
  if (options.connections == 0 || options.duration_s <= 0) usage("need connections and duration");
  // Bounded: every run ends (warm-up + window + drain), whatever the server does.
  if (options.warmup_s + options.duration_s + options.drain_s > 600)
    usage("runs are capped at 600 s");

  options.request = method + " " + path + " HTTP/1.1\r\nHost: " + host_port + "\r\n";
  // A GET or DELETE without a body says nothing about one, as clients send them.
  if (!body.empty() || (method != "GET" && method != "DELETE" && method != "HEAD")) {
    options.request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (sse) options.request += "Accept: text/event-stream\r\n";
  for (const std::string& h : headers) options.request += h + "\r\n";
  options.request += "\r\n" + body;

  uv_loop_t* loop = uv_default_loop();
  LoadReport report;
  LoadDriver driver(loop, options);
  if (!driver.run(&report)) {
    std::printf("{\"label\":%s,\"error\":\"no connection to %s\"}\n", json_string(label).c_str(),
                host_port.c_str());
    return 1;
  }

  double rps = report.window_s > 0 ? report.recorded / report.window_s : 0;
  std::string out = "{\"label\":" + json_string(label) + ",\"mode\":\"" +
                    (options.rate > 0 ? "open" : "closed") +
                    "\",\"rate\":" + std::to_string(options.rate) +
                    ",\"connections\":" + std::to_string(options.connections) +
                    ",\"window_s\":" + std::to_string(report.window_s) +
                    ",\"recorded\":" + std::to_string(report.recorded) +
                    ",\"completed_in_window\":" + std::to_string(report.completed_in_window) +
                    ",\"rps\":" + std::to_string(rps) +
                    ",\"responses_total\":" + std::to_string(report.responses_total) +
                    ",\"non_2xx_total\":" + std::to_string(report.non_2xx_total) +
                    ",\"max_in_flight\":" + std::to_string(report.max_in_flight) +
                    ",\"errors\":{\"connect\":" + std::to_string(report.errors.connect) +
                    ",\"lost\":" + std::to_string(report.errors.lost) +
                    ",\"non_2xx\":" + std::to_string(report.errors.non_2xx) +
                    ",\"short_stream\":" + std::to_string(report.errors.short_stream) +
                    ",\"incomplete\":" + std::to_string(report.errors.incomplete) + "}" +
                    ",\"latency_us\":" + quantiles_json(report.latency) +
                    ",\"ttfb_us\":" + quantiles_json(report.ttfb) +
                    ",\"send_lag_us\":" + quantiles_json(report.send_lag);
  if (sse && report.recorded > 0) {
    out += ",\"sse_events_per_response\":" +
           std::to_string(static_cast<double>(report.sse_events) / report.recorded);
  }
  if (options.watch_pid > 0) {
    out += ",\"proxy\":{\"pid\":" + std::to_string(options.watch_pid);
    if (report.cpu_ticks) {
      double cpu_us = static_cast<double>(*report.cpu_ticks) * 1e6 /
                      static_cast<double>(sluice::bench::ticks_per_second());
      out += ",\"cpu_us\":" + std::to_string(cpu_us);
      if (report.completed_in_window > 0) {
        out += ",\"cpu_us_per_req\":" + std::to_string(cpu_us / report.completed_in_window);
      }
    }
    if (report.cpu_ns && report.completed_in_window > 0) {
      out += ",\"cpu_us_per_req_schedstat\":" +
             std::to_string(static_cast<double>(*report.cpu_ns) / 1e3 / report.completed_in_window);
    }
    if (report.memory) {
      out += ",\"rss_kib\":" + std::to_string(report.memory->rss_kib) +
             ",\"hwm_kib\":" + std::to_string(report.memory->hwm_kib);
    }
    out += "}";
  }
  if (options.watch_upstream_pid > 0) {
    out += ",\"upstream\":{\"pid\":" + std::to_string(options.watch_upstream_pid);
    if (report.upstream_cpu_ticks && report.completed_in_window > 0) {
      double cpu_us = static_cast<double>(*report.upstream_cpu_ticks) * 1e6 /
                      static_cast<double>(sluice::bench::ticks_per_second());
      out += ",\"cpu_us\":" + std::to_string(cpu_us) +
             ",\"cpu_us_per_req\":" + std::to_string(cpu_us / report.completed_in_window);
    }
    if (report.upstream_cpu_ns && report.completed_in_window > 0) {
      out += ",\"cpu_us_per_req_schedstat\":" +
             std::to_string(static_cast<double>(*report.upstream_cpu_ns) / 1e3 /
                            report.completed_in_window);
    }
    out += "}";
  }
  out += "}";
  std::printf("%s\n", out.c_str());
  return 0;
}
