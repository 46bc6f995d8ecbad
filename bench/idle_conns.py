#!/usr/bin/env python3
"""bench/idle_conns.py — the client side of bench/idle_conns.sh: many keep-alive connections
that each made one request and then sit idle.

  idle_conns.py --port P --connections N [--concurrency C] [--body JSON] [--auth 'Bearer ...']

Opens N connections to 127.0.0.1:P, sends one POST /v1/chat/completions on each (at most C
requests in flight, so the proxy's upstream pool stays small and what remains afterwards is
the cost of the idle downstream connections), then prints "ready OK FAILED" and waits for a
command on stdin, one per line:
  again  — one more request on every connection (they must all still work): "again OK FAILED"
  quit   — closes everything and exits.
Only the standard library: it runs wherever bench/run.sh does.
"""

import argparse
import asyncio
import sys


async def read_response(reader):
    """Reads one HTTP/1.1 response with a Content-Length body; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


class Connection:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    async def request(self, payload):
        self.writer.write(payload)
        await self.writer.drain()
        return await read_response(self.reader)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connections", type=int, required=True)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--body", default='{"model":"fast","messages":[{"role":"user",'
                    '"content":"Say hello in one word."}],"max_tokens":16}')
    ap.add_argument("--auth", default="Bearer sk-sluice-demo")
    args = ap.parse_args()

    body = args.body.encode()
    payload = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Authorization: " + args.auth.encode() + b"\r\n"
               b"Content-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    gate = asyncio.Semaphore(args.concurrency)
    conns = []

    async def open_and_ask():
        async with gate:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
                conn = Connection(reader, writer)
                status = await asyncio.wait_for(conn.request(payload), 30)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                return False
            conns.append(conn)
            return status == 200

    async def ask(conn):
        async with gate:
            try:
                return await asyncio.wait_for(conn.request(payload), 30) == 200
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                return False

    results = await asyncio.gather(*(open_and_ask() for _ in range(args.connections)))
    ok = sum(results)
    print(f"ready {ok} {args.connections - ok}", flush=True)

    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        command = line.strip()
        if command == "again":
            results = await asyncio.gather(*(ask(c) for c in conns))
            ok = sum(results)
            print(f"again {ok} {args.connections - ok}", flush=True)
        else:  # "quit" or EOF
            break
    for conn in conns:
        conn.writer.close()


if __name__ == "__main__":
    asyncio.run(main())
