#!/usr/bin/env python3
"""Turns the raw measurements of bench/run.sh into the table on stdout, results/latest.json and
the latency chart (gnuplot). Standard library only.

Every figure is the MEDIAN over the rounds of the run (each round measures every contender once,
interleaved), except peak RSS (the maximum) and error counts (the sum). "Added" latency is a
contender's percentile minus the same percentile of `direct` (client straight to the mock).
"""
import argparse
import json
import statistics
import subprocess
import sys
from collections import defaultdict

PCTS = [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9")]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values):
    """[min, max] over rounds: how much the rounds disagreed."""
    values = [v for v in values if v is not None]
    return [round(min(values), 1), round(max(values), 1)] if values else None


def load_raw(path):
    cells = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                cells.append(json.loads(line))
    return cells


def by_key(cells):
    grouped = defaultdict(list)  # (scenario, contender, phase) -> [cell]
    for c in cells:
        grouped[(c["scenario"], c["contender"], c["phase"])].append(c)
    return grouped


def ledger_summary(cells):
    """Spend-ledger rows written and dropped (queue full) over the rounds; None: ledger off."""
    if not cells:
        return None
    return {"written": sum(c["written"] for c in cells), "dropped": sum(c["dropped"] for c in cells)}


def loadgen_summary(cells):
    """Median over rounds of one loadgen phase."""
    datas = [c["data"] for c in cells if "error" not in c["data"]]
    if not datas:
        return None
    out = {"rounds": len(datas)}
    for hist in ("latency_us", "ttfb_us", "send_lag_us"):
        out[hist] = {k: median([d[hist][k] for d in datas]) for k in ("p50", "p90", "p99", "p999", "max")}
    out["rps"] = median([d["rps"] for d in datas])
    out["recorded"] = sum(d["recorded"] for d in datas)
    out["max_in_flight"] = max(d["max_in_flight"] for d in datas)
    errors = defaultdict(int)
    for d in datas:
        for k, v in d["errors"].items():
            errors[k] += v
    out["errors"] = dict(errors)
    out["errors_total"] = sum(errors.values())
    out["cpu_us_per_req"] = median([d.get("proxy", {}).get("cpu_us_per_req") for d in datas])
    out["cpu_us_per_req_range"] = spread([d.get("proxy", {}).get("cpu_us_per_req") for d in datas])
    out["cpu_us_per_req_schedstat"] = median(
        [d.get("proxy", {}).get("cpu_us_per_req_schedstat") for d in datas])
    # What the proxy called (the tools scenario's tool endpoint), and the two together.
    if any("upstream" in d for d in datas):
        up = [d.get("upstream", {}).get("cpu_us_per_req") for d in datas]
        out["upstream_cpu_us_per_req"] = median(up)
        both = [d.get("proxy", {}).get("cpu_us_per_req", 0) + u for d, u in zip(datas, up)
                if u is not None and d.get("proxy", {}).get("cpu_us_per_req") is not None]
        out["path_cpu_us_per_req"] = median(both)
        out["path_cpu_us_per_req_range"] = spread(both)
    events = [d.get("sse_events_per_response") for d in datas]
    if any(e is not None for e in events):
        out["sse_events_per_response"] = median(events)
    return out


def wrk_summary(cells):
    rows = [c for c in cells if "error" not in c["data"]]
    if not rows:
        return None
    rps, cpu, errors = [], [], 0
    for c in rows:
        d = c["data"]
        seconds = d["duration_us"] / 1e6
        rps.append(d["requests"] / seconds if seconds > 0 else None)
        if d["requests"] > 0:
            cpu.append(c["cpu_ticks"] * 1e6 / c["clk_tck"] / d["requests"])
        errors += sum(d["errors"].values())
    return {"rounds": len(rows), "rps": median(rps), "cpu_us_per_req": median(cpu),
            "cpu_us_per_req_range": spread(cpu), "errors": errors,
            "latency_us": {"p50": median([c["data"]["latency_us"]["p50"] for c in rows]),
                           "p99": median([c["data"]["latency_us"]["p99"] for c in rows])}}


def cpu_by_round(cells):
    """round -> CPU us/request of one phase (wrk or loadgen) in that round."""
    out = {}
    for c in cells:
        d = c["data"]
        if "error" in d:
            continue
        if c["phase"] == "wrk":
            if d["requests"] > 0:
                out[c["round"]] = c["cpu_ticks"] * 1e6 / c["clk_tck"] / d["requests"]
        elif d.get("proxy", {}).get("cpu_us_per_req") is not None:
            out[c["round"]] = d["proxy"]["cpu_us_per_req"]
    return out


def ratio_vs(cells, base_cells):
    """Median over rounds of (this CPU/request / the base's in the SAME round). Contenders of a
    round run seconds apart, so slow drift on a shared machine cancels out of the ratio."""
    mine, base = cpu_by_round(cells), cpu_by_round(base_cells)
    ratios = [mine[r] / base[r] for r in mine if r in base and base[r] > 0]
    return {"median": round(median(ratios), 3), "rounds": [round(x, 2) for x in ratios]} if ratios else None


def memory_summary(cells):
    if not cells:
        return None
    return {"idle_rss_kib": median([c["idle_rss_kib"] for c in cells]),
            "peak_rss_kib": max(c["hwm_kib"] for c in cells)}


def added(summary, base, hist="latency_us"):
    if not summary or not base:
        return None
    return {k: round(summary[hist][k] - base[hist][k], 1) for k, _ in PCTS}


TOOLS_KINDS = ("list-mcp", "list-rest", "call-mcp", "call-rest", "call-direct")
TOOLS_MODES = ("c1", "c1_onecpu", "sat")


def path_cpu_by_round(cells):
    """round -> CPU us per call of the whole path: the proxy's and its tool endpoint's (for
    `direct`, the endpoint alone: the loadgen watched it as the proxy)."""
    out = {}
    for c in cells:
        d = c["data"]
        if "error" in d or d.get("proxy", {}).get("cpu_us_per_req") is None:
            continue
        out[c["round"]] = d["proxy"]["cpu_us_per_req"] + d.get("upstream", {}).get("cpu_us_per_req", 0)
    return out


def tools_summary(g, settings):
    """The tools scenario: per contender and request kind, per mode, the loadgen summary; for
    calls, what sluice adds over the direct call (CPU: median over rounds of the per-round
    difference of whole-path CPU; latency: percentile differences of the medians)."""
    out = {}
    for c in settings.get("tools_contenders", "").split():
        for kind in TOOLS_KINDS:
            entry = {m: loadgen_summary(g[("tools", c, f"{kind}/{m}")]) for m in TOOLS_MODES}
            if not any(entry.values()):
                continue
            out[f"{c} {kind}"] = entry
    direct = next((v for k, v in out.items() if k.endswith(" call-direct")), None)
    direct_key = next((k for k in out if k.endswith(" call-direct")), None)
    for key, entry in out.items():
        if not key.split()[1].startswith("call-") or key == direct_key or not direct:
            continue
        contender, kind = key.split()
        for m in TOOLS_MODES:
            mine = path_cpu_by_round(g[("tools", contender, f"{kind}/{m}")])
            base = path_cpu_by_round(g[("tools", direct_key.split()[0], f"call-direct/{m}")])
            diffs = [mine[r] - base[r] for r in mine if r in base]
            entry[f"added_cpu_us_{m}"] = round(median(diffs), 1) if diffs else None
            entry[f"added_cpu_us_{m}_rounds"] = [round(x, 1) for x in diffs]
            entry[f"added_latency_us_{m}"] = added(entry[m], direct[m])
    return out


def aggregate(cells, settings):
    g = by_key(cells)
    contenders = settings["contenders"].split()
    main_contenders = settings.get("main_contenders", settings["contenders"]).split()
    scenarios = settings.get("scenarios", "main stream c1000").split()
    if "main" not in scenarios:
        main_contenders = []
    if "stream" not in scenarios and "c1000" not in scenarios:
        contenders = []
    result = {"main": {}, "stream": {}, "c1000": {}}
    if "tools" in scenarios:
        result["tools"] = tools_summary(g, settings)
    for c in main_contenders:
        result["main"][c] = {
            "wrk": wrk_summary(g[("main", c, "wrk")]),
            "c1": loadgen_summary(g[("main", c, "c1")]),
            "c1_onecpu": loadgen_summary(g[("main", c, "c1_onecpu")]),
            "rate": loadgen_summary(g[("main", c, "rate")]),
            "memory": memory_summary(g[("main", c, "memory")]),
            "ledger": ledger_summary(g[("main", c, "ledger")]),
        }
    for c in contenders:
        s = {
            "c1": loadgen_summary(g[("stream", c, "stream_c1")]),
            "rate": loadgen_summary(g[("stream", c, "stream_rate")]),
            "nonstream_rate": loadgen_summary(g[("stream", c, "nonstream_rate")]),
            "memory": memory_summary(g[("stream", c, "memory")]),
        }
        # Events the client got per stream (a translated stream has more than the upstream's
        # chunks + usage + [DONE]: its role and finish chunks), as the load generator counted.
        events = (s["rate"] or {}).get("sse_events_per_response") or settings["stream_chunks"] + 2
        # Per streamed event: (stream - non-stream CPU per request at the same rate) / events,
        # from schedstat (ns) because the difference of two 10 ms-tick figures is too coarse.
        key = "cpu_us_per_req_schedstat"
        if s["rate"] and s["nonstream_rate"] and s["rate"][key] is not None \
                and s["nonstream_rate"][key] is not None:
            s["cpu_us_per_event"] = round((s["rate"][key] - s["nonstream_rate"][key]) / events, 2)
        result["stream"][c] = s
        up = [x["data"] for x in g[("c1000", c, "upstream")] if x.get("data")]
        result["c1000"][c] = {
            "run": loadgen_summary(g[("c1000", c, "c1000")]),
            "upstream_max_in_flight": max((u["max_in_flight"] for u in up), default=None),
            "memory": memory_summary(g[("c1000", c, "memory")]),
        }
    for c in main_contenders:
        result["main"][c]["cpu_vs_nginx"] = {
            phase: ratio_vs(g[("main", c, phase)], g[("main", "nginx", phase)])
            for phase in ("wrk", "rate", "c1_onecpu")}
    base_main = result["main"].get("direct", {})
    base_stream = result["stream"].get("direct", {})
    for c in main_contenders:
        m = result["main"][c]
        m["added_c1_us"] = added(m["c1"], base_main.get("c1"))
        m["added_c1_onecpu_us"] = added(m["c1_onecpu"], base_main.get("c1_onecpu"))
        m["added_rate_us"] = added(m["rate"], base_main.get("rate"))
    for c in contenders:
        s = result["stream"][c]
        s["added_ttfb_c1_us"] = added(s["c1"], base_stream.get("c1"), "ttfb_us")
        s["added_ttfb_rate_us"] = added(s["rate"], base_stream.get("rate"), "ttfb_us")
    result["translation"] = translation_summary(g, result, "sluice-anthropic", "sluice-default")
    return result


def translation_summary(g, result, translated, passthrough):
    """A translated contender against the same chain passing the same answers through: the
    median over rounds of the per-round CPU ratios, per JSON request and per stream, and the
    ratio of the CPU per stream event."""
    if translated not in result["main"] or passthrough not in result["main"]:
        return None
    out = {"translated": translated, "passthrough": passthrough}
    for name, scenario, phase in (("json_wrk", "main", "wrk"), ("json_rate", "main", "rate"),
                                  ("stream", "stream", "stream_rate"),
                                  ("stream_c1", "stream", "stream_c1")):
        out[name] = ratio_vs(g[(scenario, translated, phase)], g[(scenario, passthrough, phase)])
    t = result["stream"].get(translated, {}).get("cpu_us_per_event")
    p = result["stream"].get(passthrough, {}).get("cpu_us_per_event")
    out["per_event"] = {"translated_us": t, "passthrough_us": p,
                        "ratio": round(t / p, 3) if t is not None and p else None}
    return out


def check_targets(r, settings, who="sluice-default"):
    """The issue's targets for `who` against nginx in the same run."""
    checks = []
    m, n = r["main"].get(who), r["main"].get("nginx")

    def add(name, ok, detail):
        checks.append({"target": name, "ok": ok, "detail": detail})

    labels = {"wrk": "wrk, saturated", "rate": f"at {settings['rate']}/s", "c1_onecpu": "c=1, one core"}
    for phase, label in labels.items():
        ratio = (m or {}).get("cpu_vs_nginx", {}).get(phase)
        if ratio and n and n.get(phase if phase != "c1_onecpu" else "c1_onecpu"):
            a = (m[phase] or {}).get("cpu_us_per_req")
            b = (n[phase] or {}).get("cpu_us_per_req")
            add(f"CPU/request <= 1.0x nginx ({label})", ratio["median"] <= 1.0,
                f"{ratio['median']:.2f}x (median of per-round ratios {ratio['rounds']}; "
                f"medians {fmt(a)} vs {fmt(b)} us)")
    if m and n and m["added_c1_us"] and n["added_c1_us"]:
        a, b = m["added_c1_us"]["p50"], n["added_c1_us"]["p50"]
        add("added p50 at c=1 <= nginx's + 10 us", a <= b + 10, f"{a:.1f} vs {b:.1f} + 10 us")
        a, b = m["added_c1_us"]["p99"], n["added_c1_us"]["p99"]
        add("added p99 at c=1 <= 1.5x nginx's", a <= 1.5 * b, f"{a:.1f} vs 1.5 x {b:.1f} us")
    c = r["c1000"].get(who)
    if c and c["run"]:
        run = c["run"]
        add("1,000 streams: all complete", run["errors_total"] == 0 and run["recorded"] > 0,
            f"{run['recorded']} answered, errors {run['errors']}")
        add("1,000 streams: TTFB p99 < 25 ms", run["ttfb_us"]["p99"] < 25000,
            f"{run['ttfb_us']['p99'] / 1000:.2f} ms (first byte after the mock's "
            f"{settings['c1000_delay_ms']} ms delay)")
    if c and c["memory"]:
        mib = c["memory"]["peak_rss_kib"] / 1024
        add("1,000 streams: RSS < 64 MiB", mib < 64, f"peak {mib:.1f} MiB")
    if m and m["memory"]:
        mib = m["memory"]["idle_rss_kib"] / 1024
        add("idle RSS < 16 MiB", mib < 16, f"{mib:.1f} MiB")
    return checks


# ---- output -----------------------------------------------------------------------------------

def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def table(title, header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = [title, "  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(x).rjust(w) if i else str(x).ljust(w)
                               for i, (x, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def with_range(summary):
    """"24.1 (20.9-26.7)": the median CPU us/request and its range over rounds."""
    v, r = summary.get("cpu_us_per_req"), summary.get("cpu_us_per_req_range")
    if v is None:
        return "-"
    return f"{v:.1f} ({r[0]:.1f}-{r[1]:.1f})" if r and r[0] != r[1] else f"{v:.1f}"


def vs_nginx(main_entry):
    r = main_entry.get("cpu_vs_nginx") or {}
    return "/".join(f"{r[p]['median']:.2f}" if r.get(p) else "-" for p in ("wrk", "rate", "c1_onecpu"))


def pcts(summary, hist="latency_us", keys=("p50", "p99", "p999")):
    if not summary:
        return "-"
    return "/".join(fmt(summary[hist][k]) for k in keys)


def render_tools(tools, settings):
    """The tools scenario's two tables: lists, then calls against the direct call."""
    out = []
    n = settings.get("tools_connections", 8)
    rows = []
    for key, e in tools.items():
        if " list-" not in key:
            continue
        sat, c1 = e["sat"] or {}, e["c1"] or {}
        rows.append([key, fmt(sat.get("rps"), 0), with_range(sat), fmt(c1.get("rps"), 0),
                     with_range(c1), pcts(e["c1"]),
                     str(sat.get("errors_total", 0) + c1.get("errors_total", 0))])
    if rows:
        out.append("")
        out.append(table(f"tools/list for an agent allowed {settings.get('tools_allowed', 100)} of 1,000 "
                         f"http tools (default chain, log + ledger on)",
                         ["contender kind", f"req/s c={n}", f"CPU us/req c={n}", "req/s c=1",
                          "CPU us/req c=1", "c=1 p50/p99/p99.9", "errors"], rows))
    rows = []
    for key, e in tools.items():
        if " call-" not in key:
            continue
        c1, sat, one = e["c1"] or {}, e["sat"] or {}, e["c1_onecpu"] or {}
        direct = key.endswith("call-direct")

        def cpu(s):
            if direct:
                return with_range(s)
            if s.get("path_cpu_us_per_req") is None:
                return "-"
            return f"{fmt(s.get('cpu_us_per_req'))}+{fmt(s.get('upstream_cpu_us_per_req'))}"
        a1 = e.get("added_latency_us_c1") or {}
        ao = e.get("added_latency_us_c1_onecpu") or {}
        rows.append([key, pcts(e["c1"]), "-" if direct else f"{fmt(a1.get('p50'))}/{fmt(a1.get('p99'))}",
                     pcts(e["c1_onecpu"], keys=("p50", "p99")),
                     "-" if direct else f"{fmt(ao.get('p50'))}/{fmt(ao.get('p99'))}",
                     cpu(c1), "-" if direct else fmt(e.get("added_cpu_us_c1")),
                     fmt(sat.get("rps"), 0), cpu(sat), "-" if direct else fmt(e.get("added_cpu_us_sat")),
                     str(c1.get("errors_total", 0) + sat.get("errors_total", 0) + one.get("errors_total", 0))])
    if rows:
        out.append("")
        out.append(table(f"tools/call of {settings.get('tool_called', 'an http tool')} on the mock (loopback) "
                         f"vs calling it directly; CPU = sluice + the tool endpoint",
                         ["contender kind", "c=1 p50/p99/p99.9", "added p50/p99", "1 core p50/p99",
                          "added 1 core", "CPU us/call c=1", "sluice adds", f"calls/s c={n}",
                          f"CPU us/call c={n}", "sluice adds", "errors"], rows))
    return out


def render(result, checks, settings, machine, micro):
    out = []
    out.append(f"sluice bench — {machine['date']} — {machine['nproc']} CPUs, {machine['cpu_model']}, "
               f"Linux {machine['kernel']}, nginx {machine['nginx']}, {machine['sluice']} "
               f"({machine['commit']}); load average {machine['loadavg_start']} at start")
    out.append(f"medians of {settings['rounds']} interleaved rounds; proxy on CPU {settings['proxy_cpu']}, "
               f"mock + load generators on CPU {settings['load_cpu']}, priority {settings.get('priority', 'normal')}; latency in us "
               f"(p50/p99/p99.9), from the intended send time")
    if result["main"]:
        out.extend(render_main(result, settings))
    if result["stream"]:
        out.extend(render_streams(result, settings))
    if result.get("tools"):
        out.extend(render_tools(result["tools"], settings))
    if checks:
        out.append("")
        out.append("targets (sluice-default vs nginx, this run):")
        for ch in checks:
            out.append(f"  [{'PASS' if ch['ok'] else 'MISS'}] {ch['target']}: {ch['detail']}")
    out.extend(render_translation(result, settings))
    if micro:
        out.append("")
        out.append(table("micro-benchmarks (bench_micro)", ["benchmark", "ns/op", "throughput"],
                         [[b["name"], fmt(b["ns"]), b["throughput"]] for b in micro]))
    return "\n".join(out)


def render_main(result, settings):
    out = []
    rows = []
    for c, m in result["main"].items():
        wrk, mem = m["wrk"] or {}, m["memory"] or {}
        rows.append([c, fmt(wrk.get("rps"), 0), with_range(wrk),
                     with_range(m["rate"] or {}), pcts(m["c1"]), pcts(m["c1_onecpu"]),
                     pcts(m["rate"]),
                     vs_nginx(m),
                     fmt(mem.get("idle_rss_kib", 0) / 1024), fmt(mem.get("peak_rss_kib", 0) / 1024),
                     str(((m["rate"] or {}).get("errors_total", 0)) + (wrk.get("errors") or 0))])
    out.append("")
    out.append(table("chat completions (non-stream), 1 worker",
                     ["contender", "req/s (wrk)", "CPU us/req (wrk)", f"CPU us/req @{settings['rate']}/s",
                      "c=1 p50/p99/p99.9", "c=1 one core", f"@{settings['rate']}/s p50/p99/p99.9",
                      "CPU vs nginx wrk/rate/1core", "RSS idle MiB",
                      "RSS peak MiB", "errors"], rows))
    rows = []
    for c, m in result["main"].items():
        if c == "direct":
            continue
        a, b = m["added_c1_us"] or {}, m["added_rate_us"] or {}
        o = m["added_c1_onecpu_us"] or {}
        rows.append([c] + [fmt(a.get(k)) for k, _ in PCTS] + [fmt(o.get(k)) for k in ("p50", "p99")] +
                    [fmt(b.get(k)) for k, _ in PCTS])
    out.append("")
    out.append(table("added latency over direct (us)",
                     ["contender"] + [f"c=1 {n}" for _, n in PCTS] + ["1 core p50", "1 core p99"] +
                     [f"@{settings['rate']}/s {n}" for _, n in PCTS], rows))
    ledgers = [(c, m["ledger"]) for c, m in result["main"].items() if m.get("ledger")]
    if ledgers:
        out.append("")
        out.append("spend ledger (main, all rounds): " + "; ".join(
            f"{c} {l['written']} rows written, {l['dropped']} dropped" for c, l in ledgers))
        if any(l["dropped"] for _, l in ledgers):
            out.append("  rows dropped: the writer did not keep up, so those cells measured less "
                       "work than sluice owes (see bench/README, 'How to read')")
    return out


def render_streams(result, settings):
    out = []
    rows = []
    for c, s in result["stream"].items():
        rows.append([c, pcts(s["c1"], "ttfb_us"), pcts(s["rate"], "ttfb_us"),
                     pcts(s["rate"], "latency_us", ("p50", "p99")),
                     fmt((s["rate"] or {}).get("cpu_us_per_req")), fmt(s.get("cpu_us_per_event"), 2),
                     fmt((s["rate"] or {}).get("sse_events_per_response")),
                     str((s["rate"] or {}).get("errors_total", "-"))])
    out.append("")
    out.append(table(f"streaming: {settings['stream_chunks']} events {settings['stream_chunk_delay_ms']} ms apart "
                     f"(+ usage + [DONE]), {settings['stream_rate']}/s",
                     ["contender", "TTFB c=1 p50/p99/p99.9", "TTFB @rate p50/p99/p99.9",
                      "total @rate p50/p99", "CPU us/stream", "CPU us/event", "events/resp", "errors"],
                     rows))
    rows = []
    for c, x in result["c1000"].items():
        run, mem = x["run"] or {}, x["memory"] or {}
        rows.append([c, str(run.get("recorded", "-")), str(run.get("errors_total", "-")),
                     pcts(run, "ttfb_us") if run else "-",
                     pcts(run, "latency_us", ("p50", "p99")) if run else "-",
                     f"{run.get('max_in_flight', '-')}/{fmt(x['upstream_max_in_flight'])}",
                     fmt(run.get("cpu_us_per_req")), fmt(mem.get("peak_rss_kib", 0) / 1024)])
    out.append("")
    out.append(table(f"{settings['c1000_connections']} connections of streams: {settings['c1000_delay_ms']} ms to "
                     f"first byte, {settings['c1000_chunks']} events {settings['c1000_chunk_delay_ms']} ms apart, "
                     f"{settings['c1000_rate']}/s",
                     ["contender", "answered", "errors", "TTFB p50/p99/p99.9", "total p50/p99",
                      "in flight client/upstream", "CPU us/req", "RSS peak MiB"], rows))
    return out


def render_translation(result, settings):
    out = []
    tr = result.get("translation")
    if tr:
        out.append("")
        out.append(f"translation ({tr['translated']} vs {tr['passthrough']}, CPU ratio, median of "
                   f"per-round ratios):")
        for key, label in (("json_wrk", "per JSON request (wrk)"),
                           ("json_rate", f"per JSON request (@{settings['rate']}/s)"),
                           ("stream", f"per stream (@{settings['stream_rate']}/s)"),
                           ("stream_c1", "per stream (c=1)")):
            r = tr.get(key)
            out.append(f"  {label}: " + (f"{r['median']:.2f}x (rounds {r['rounds']})" if r else "-"))
        pe = tr["per_event"]
        out.append(f"  per stream event: {fmt(pe['translated_us'], 2)} vs {fmt(pe['passthrough_us'], 2)} us"
                   + (f" ({pe['ratio']:.2f}x)" if pe["ratio"] is not None else ""))
        r = tr.get("stream")
        if r:
            ok = r["median"] <= 2.0
            out.append(f"  [{'PASS' if ok else 'MISS'}] a translated stream costs <= 2x the CPU of "
                       f"the same stream passed through: {r['median']:.2f}x")
    return out


def micro_rows(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return []
    rows = []
    for b in doc.get("benchmarks", []):
        unit = {"ns": 1, "us": 1e3, "ms": 1e6}.get(b.get("time_unit", "ns"), 1)
        tp = b.get("bytes_per_second")
        rows.append({"name": b["name"], "ns": b["cpu_time"] * unit,
                     "throughput": f"{tp / 2**20:.0f} MiB/s" if tp else ""})
    return rows


def write_plot(result, plot_dir, png, script):
    panels = [("c1", "main", "c1", "latency_us"), ("rate", "main", "rate", "latency_us"),
              ("stream", "stream", "rate", "ttfb_us")]
    files = []
    if not result["main"] or not result["stream"]:
        return False  # the chart needs the main and stream scenarios
    for name, scenario, phase, hist in panels:
        path = f"{plot_dir}/latency-{name}.dat"
        contenders = [c for c, x in result[scenario].items() if x.get(phase)]
        with open(path, "w") as f:
            f.write("percentile " + " ".join(contenders) + "\n")
            for key, label in PCTS:
                f.write(label + " " + " ".join(fmt(result[scenario][c][phase][hist][key]) for c in contenders) + "\n")
        files.append((path, len(contenders) + 1))
    args = ["gnuplot", "-e", f"c1='{files[0][0]}'; rate='{files[1][0]}'; stream='{files[2][0]}'; "
                             f"n1={files[0][1]}; n2={files[1][1]}; n3={files[2][1]}; out='{png}'", script]
    try:
        subprocess.run(args, check=True, capture_output=True, text=True)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"gnuplot failed: {getattr(e, 'stderr', e)}", file=sys.stderr)
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--settings", required=True)
    ap.add_argument("--micro")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot-dir", required=True)
    ap.add_argument("--png", required=True)
    ap.add_argument("--gnuplot-script", required=True)
    a = ap.parse_args()
    cells = load_raw(a.raw)
    with open(a.machine) as f:
        machine = json.load(f)
    with open(a.settings) as f:
        settings = json.load(f)
    micro = micro_rows(a.micro) if a.micro else []
    result = aggregate(cells, settings)
    checks = check_targets(result, settings)
    text = render(result, checks, settings, machine, micro)
    print(text)
    plotted = write_plot(result, a.plot_dir, a.png, a.gnuplot_script)
    with open(a.out, "w") as f:
        json.dump({"machine": machine, "settings": settings, "results": result, "targets": checks,
                   "micro": micro, "chart": a.png if plotted else None, "cells": cells}, f, indent=1)
        f.write("\n")
    print(f"\nwrote {a.out}" + (f" and {a.png}" if plotted else ""))


if __name__ == "__main__":
    main()
