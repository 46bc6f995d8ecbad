#!/usr/bin/env python3
"""Fault driver of scripts/soak.sh (python3 standard library only).

Sends a few chat completions per second through sluice, each asking the mock providers for a
fault with the `x-mock-behavior` header (sluice forwards it to every attempt, so retries and the
fallback to provider b meet the same fault). These requests may fail; what is checked is that
each one ENDS -- an answer, or the connection closed -- within its bound, so a fault can never
leave a client hanging on sluice.

  soak_faults.py --target 127.0.0.1:PORT --key KEY --model MODEL --seconds S --rate R --out FILE

Writes one JSON object to FILE: per kind, how many were sent and how they ended.
"""
import argparse
import json
import socket
import threading
import time

# (kind, x-mock-behavior, stream?, how the client ends it). "hang" and "abort" are ended by the
# client on purpose (a client timeout; a client that goes away in the middle of a slow stream):
# they test that sluice lets go of the upstream side, not that it answers.
KINDS = [
    ("reset", "reset", False, None),
    ("status_500", "status:500", False, None),
    ("status_429", "status:429", False, None),
    ("hang", "hang", False, "timeout"),
    ("cut", "cut", False, None),
    ("client_abort", "slow_chunks:200", True, "abort"),
    ("stream_cut_after_3", "cut_after:3", True, None),
]
HANG_TIMEOUT_S = 2.0   # the client's timeout for "hang"
ABORT_AFTER_S = 0.5    # the client closes a slow stream this long after its first byte
# Every other request must end within this: retry (3 attempts, backoff up to 2 s, a 429's
# retry-after of 1 s honoured) plus a fallback stays well under it.
BOUND_S = 20.0


def body_complete(data):
    """Whether an HTTP/1.1 answer arrived whole: its Content-Length, or the last chunk."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            return len(body) >= int(value.strip())
        if name == b"transfer-encoding" and b"chunked" in value.lower():
            return body.endswith(b"0\r\n\r\n")
    return True  # delimited by the close itself


def one_request(target, key, model, kind, behavior, stream, ending):
    host, port = target.rsplit(":", 1)
    body = {"model": model, "messages": [{"role": "user", "content": "soak fault " + kind}],
            "max_tokens": 16}
    if stream:
        body["stream"] = True
    payload = json.dumps(body).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {target}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"x-mock-behavior: {behavior}\r\nConnection: close\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode()
    started = time.monotonic()
    limit = HANG_TIMEOUT_S if ending == "timeout" else BOUND_S
    data = b""
    outcome = None
    try:
        s = socket.create_connection((host, int(port)), timeout=5)
    except OSError as e:
        return "connect_error:" + type(e).__name__, time.monotonic() - started
    try:
        s.sendall(head + payload)
        first_byte_at = None
        while True:
            now = time.monotonic()
            deadline = started + limit
            if ending == "abort" and first_byte_at is not None:
                deadline = min(deadline, first_byte_at + ABORT_AFTER_S)
            if now >= deadline:
                if ending == "abort" and first_byte_at is not None:
                    outcome = "client_abort"
                elif ending == "timeout":
                    outcome = "client_timeout"
                else:
                    outcome = "OVER_BOUND"
                break
            s.settimeout(deadline - now)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            if first_byte_at is None:
                first_byte_at = time.monotonic()
            data += chunk
    except OSError as e:  # a reset from sluice is an ending too
        outcome = "closed_" + type(e).__name__
    finally:
        s.close()
    if outcome is None or outcome.startswith("closed_"):
        status = data[9:12].decode(errors="replace") if data.startswith(b"HTTP/1.1 ") else None
        if status:
            prefix = "status_" + status + ("" if body_complete(data) else "_truncated")
            if stream and status == "200":
                # How a stream ended for the client: [DONE], an error event, or neither.
                if b"data: [DONE]" in data:
                    prefix += "_done"
                elif b'"error"' in data:
                    prefix += "_error_event"
                else:
                    prefix += "_no_done"
            outcome = prefix if outcome is None else prefix + "+" + outcome
        elif outcome is None:
            outcome = "closed_no_answer"
    return outcome, time.monotonic() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--rate", type=float, default=4.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    lock = threading.Lock()
    results = {k[0]: {"sent": 0, "ended": {}, "max_s": 0.0} for k in KINDS}
    threads = []

    def run(spec):
        outcome, took = one_request(args.target, args.key, args.model, *spec)
        with lock:
            r = results[spec[0]]
            r["ended"][outcome] = r["ended"].get(outcome, 0) + 1
            r["max_s"] = max(r["max_s"], round(took, 3))

    start = time.monotonic()
    i = 0
    # Fixed schedule (not "one after the other"): a slow fault must not slow the others down.
    while True:
        due = start + i / args.rate
        if due >= start + args.seconds:
            break
        time.sleep(max(0.0, due - time.monotonic()))
        spec = KINDS[i % len(KINDS)]
        with lock:
            results[spec[0]]["sent"] += 1
        t = threading.Thread(target=run, args=(spec,), daemon=True)
        t.start()
        threads.append(t)
        threads = [t for t in threads if t.is_alive()]
        i += 1
    for t in threads:
        t.join(BOUND_S + 5)
    with open(args.out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
