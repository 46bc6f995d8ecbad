#!/usr/bin/env bash
# A cost-accounting session, start to finish, offline (issue 6's closing note): starts sluice on
# a throw-away config — the built-in mock provider, one priced model, an agent with a small
# daily budget, a spend ledger — sends a handful of requests with curl (JSON, a stream without
# include_usage, a stream with it, embeddings, an Anthropic /v1/messages stream, a client that
# hangs up mid-stream (charged an estimate), one that the budget refuses), stops sluice with
# SIGTERM (which flushes the ledger), then prints the ledger rows and `sluice usage` reports.
#
# Usage: scripts/demo_cost_session.sh        (needs build/sluice: scripts/setup.sh --target sluice)
# Environment: SLUICE_BIN (default build/sluice), KEEP=1 keeps the temp directory.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SLUICE_BIN="${SLUICE_BIN:-build/sluice}"
[[ -x "$SLUICE_BIN" ]] || { echo "no $SLUICE_BIN: build it with scripts/setup.sh --target sluice" >&2; exit 1; }
SLUICE_BIN="$(cd "$(dirname "$SLUICE_BIN")" && pwd)/$(basename "$SLUICE_BIN")"

dir="$(mktemp -d "${TMPDIR:-/tmp}/sluice-cost-demo-XXXXXX")"
sluice_pid=""
cleanup() {
  if [[ -n "$sluice_pid" ]] && kill -0 "$sluice_pid" 2>/dev/null; then kill -TERM "$sluice_pid"; fi
  if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

key="sk-demo-cost-agent"
ledger="$dir/ledger.db"

# Prices are USD per 1M tokens. `demo-4o` is priced inline (the compiled-in conf/prices.yaml
# covers real model names; the inline map overrides or adds entries). A built-in mock provider
# is "local": it costs 0 unless its model is priced, as here.
cat > "$dir/sluice.yaml" <<YAML
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  demo:
    type: mock
  slow:
    type: mock
    mock: {chunk_delay: 150ms}
models:
  chat:
    targets:
      - {provider: demo, model: demo-4o}
  slow-chat:
    targets:
      - {provider: slow, model: demo-4o}
  embed:
    targets:
      - {provider: demo, model: demo-embedding}
agents:
  ada:
    keys: ["$("$SLUICE_BIN" hash-key "$key")"]
    budget: {usd: 0.01, per: day}
filters:
  - auth: {modes: [api_key]}
  - model_alias: {}
  - cost:
      prices:
        demo-4o: {input: 2.5, output: 10, cached_input: 1.25}
        demo-embedding: {input: 0.02, output: 0}
state:
  ledger: $ledger
  flush_interval: 50ms
access_log: {path: "", format: json}
YAML

"$SLUICE_BIN" run -c "$dir/sluice.yaml" 2> "$dir/sluice.log" &
sluice_pid=$!

# The ports sluice bound (it logs "listening on 127.0.0.1:<port>" and "admin listening on ...").
port="" admin=""
for _ in $(seq 1 100); do
  port="$(grep -v 'admin listening' "$dir/sluice.log" | grep -o 'listening on 127.0.0.1:[0-9]*' | head -1 | cut -d: -f2 || true)"
  admin="$(grep -o 'admin listening on 127.0.0.1:[0-9]*' "$dir/sluice.log" | head -1 | cut -d: -f2 || true)"
  [[ -n "$port" && -n "$admin" ]] && break
  kill -0 "$sluice_pid" 2>/dev/null || { echo "sluice did not start:" >&2; cat "$dir/sluice.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" && -n "$admin" ]] || { echo "sluice did not report its ports:" >&2; cat "$dir/sluice.log" >&2; exit 1; }
echo "sluice up: API 127.0.0.1:$port, admin 127.0.0.1:$admin, ledger $ledger"
echo

api="http://127.0.0.1:$port"
# One request: prints what the client got (status, x-request-id, the body or its events).
# A 4th argument is passed to curl (e.g. --max-time 0.5 to hang up early).
send() {
  local title="$1" path="$2" body="$3"
  echo "== $title"
  echo "   POST $path $body ${4:-}"
  curl -sS -N -D "$dir/head" -o "$dir/body" "$api$path" ${4:-} \
    -H "Authorization: Bearer $key" -H "Content-Type: application/json" -d "$body" || true
  echo "   -> $(head -1 "$dir/head" | tr -d '\r')  x-request-id: $(grep -i '^x-request-id:' "$dir/head" | cut -d' ' -f2 | tr -d '\r')"
  grep -i '^retry-after' "$dir/head" | sed 's/^/   -> /' | tr -d '\r' || true
  sed 's/^/   | /' "$dir/body" | grep -v '^   | $' | cut -c1-200
  echo
}

send "1. chat, JSON" /v1/chat/completions \
  '{"model": "chat", "max_tokens": 64, "messages": [{"role": "user", "content": "What does a sluice do?"}]}'
send "2. chat, JSON again" /v1/chat/completions \
  '{"model": "chat", "max_tokens": 64, "messages": [{"role": "user", "content": "And a gateway for AI agents?"}]}'
send "3. chat, stream without include_usage (sluice asks the provider for usage and hides it)" /v1/chat/completions \
  '{"model": "chat", "max_tokens": 64, "stream": true, "messages": [{"role": "user", "content": "Stream me a short answer"}]}'
send "4. chat, stream with include_usage (the client gets the usage chunk)" /v1/chat/completions \
  '{"model": "chat", "max_tokens": 64, "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Stream it with usage"}]}'
send "5. embeddings (input tokens only)" /v1/embeddings \
  '{"model": "embed", "input": ["sluice gates", "count every token"]}'
send "6. Anthropic Messages API (POST /v1/messages), streamed: usage from message_start/message_delta" /v1/messages \
  '{"model": "chat", "max_tokens": 64, "stream": true, "messages": [{"role": "user", "content": "Hello from the Anthropic SDK"}]}'
send "7. a client that hangs up mid-stream (curl --max-time 0.5): charged an estimate" /v1/chat/completions \
  '{"model": "slow-chat", "max_tokens": 64, "stream": true, "messages": [{"role": "user", "content": "one two three four five six seven eight nine ten"}]}' \
  "--max-time 0.5"
sleep 0.2
send "8. a request whose worst case (max_tokens 4000 x \$10/1M = \$0.04) passes the \$0.01 daily budget" /v1/chat/completions \
  '{"model": "chat", "max_tokens": 4000, "messages": [{"role": "user", "content": "Write me a long essay"}]}'

echo "== /metrics (cost and tokens)"
curl -sS "http://127.0.0.1:$admin/metrics" |
  grep -E '^sluice_(tokens_total|cost_usd_total|budget_remaining_usd|rate_limited_total|ledger_rows_total)' |
  sed 's/^/   /' || true
echo

kill -TERM "$sluice_pid"
wait "$sluice_pid" || true
sluice_pid=""
echo "sluice stopped (SIGTERM: every ledger row flushed)"
echo

echo "== ledger rows ($ledger)"
if command -v sqlite3 > /dev/null; then
  sqlite3 -header -column "$ledger" \
    "SELECT request_id, agent, model, physical_model AS physical, status,
            input_tokens AS input, output_tokens AS output, cached_tokens AS cached,
            printf('%.8f', cost_usd) AS cost_usd, estimated, attempts, error_code AS error
       FROM requests ORDER BY id"
else
  echo "(no sqlite3 CLI: the per-request report instead)"
  "$SLUICE_BIN" usage --ledger "$ledger" --by agent --json
fi
echo
echo "== sluice usage --ledger ledger.db --by agent"
"$SLUICE_BIN" usage --ledger "$ledger" --by agent
echo
echo "== sluice usage --ledger ledger.db --by model"
"$SLUICE_BIN" usage --ledger "$ledger" --by model
