# bench/tools_scenario.sh — the tools scenario's requests and config, sourced by bench/run.sh
# (SCENARIOS=tools) and bench/profile.sh (TOOLS=1). sluice-tools is sluice-default (the default
# chain of conf/sluice.yaml, access log and ledger on) with 1,000 `type: http` tools on the bench
# mock's /tools/, 100 of them allowed to the bench's agent by 4 globs and 40 names
# (tools_config.py). What is measured, per request:
#   list-mcp    POST /mcp tools/list (in an MCP session, as SDK clients send it)
#   list-rest   GET /v1/tools
#   call-mcp    POST /mcp tools/call of kb.search_document (3 arguments, checked against its
#               input_schema), which POSTs them to the mock's /tools/kb.search_document
#   call-rest   POST /v1/tools/kb.search_document, the same call over REST
#   call-direct the client POSTs the same arguments to the mock's /tools/kb.search_document
#               itself: the floor, as `direct` is for chat completions
# shellcheck shell=bash

TOOLS_BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
{ read -r TOOL_CALLED; read -r TOOL_ARGS; } < <(python3 "$TOOLS_BENCH_DIR/tools_config.py" --print-call)
TOOLS_ALLOWED=100
TOOLS_MCP_VERSION=2025-06-18
TOOLS_LIST_MCP_BODY='{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}'
TOOLS_CALL_MCP_BODY='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"'$TOOL_CALLED'","arguments":'$TOOL_ARGS'}}'

# tools_render DEFAULT_CONFIG OUT TOOL_BASE_URL — sluice-tools' config from sluice-default's.
tools_render() {
  python3 "$TOOLS_BENCH_DIR/tools_config.py" --config "$1" --tool-base "$3" >"$2"
}

# tools_mcp_session HOST:PORT AUTH_HEADER_VALUE — initializes an MCP session, prints its id.
tools_mcp_session() {
  curl -s --max-time 20 -D - -o /dev/null -H "Authorization: $2" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    "http://$1/mcp" -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'$TOOLS_MCP_VERSION'","capabilities":{},"clientInfo":{"name":"sluice-bench","version":"1"}}}' |
    tr -d '\r' | awk -F': ' 'tolower($1) == "mcp-session-id" { print $2 }'
}

# tools_request_args KIND SESSION — bench_loadgen's --method/--path/--header/--body for a kind
# (list-mcp, list-rest, call-mcp, call-rest, call-direct), into the array TOOLS_ARGS_OUT. The
# Authorization header is the caller's.
tools_request_args() {
  local mcp_headers=(--header 'Accept: application/json, text/event-stream'
    --header "Mcp-Session-Id: $2" --header "MCP-Protocol-Version: $TOOLS_MCP_VERSION")
  case $1 in
    list-mcp) TOOLS_ARGS_OUT=(--path /mcp "${mcp_headers[@]}" --body "$TOOLS_LIST_MCP_BODY") ;;
    list-rest) TOOLS_ARGS_OUT=(--method GET --path /v1/tools) ;;
    call-mcp) TOOLS_ARGS_OUT=(--path /mcp "${mcp_headers[@]}" --body "$TOOLS_CALL_MCP_BODY") ;;
    call-rest) TOOLS_ARGS_OUT=(--path "/v1/tools/$TOOL_CALLED" --body "$TOOL_ARGS") ;;
    call-direct) TOOLS_ARGS_OUT=(--path "/tools/$TOOL_CALLED" --body "$TOOL_ARGS") ;;
    *) return 1 ;;
  esac
}

# tools_probe HOST:PORT AUTH SESSION — one request of each kind, checked for what a client
# would check (bench_loadgen only sees the HTTP status, and /mcp answers JSON-RPC errors with
# 200): both lists have exactly the agent's 100 tools, both calls the tool's result. Prints
# what is wrong and returns 1.
tools_probe() {
  local base="http://$1" auth=$2 session=$3 out
  local mcp=(-H "Authorization: $auth" -H 'Content-Type: application/json'
    -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $session"
    -H "MCP-Protocol-Version: $TOOLS_MCP_VERSION")
  out=$({
    curl -s --max-time 20 "${mcp[@]}" "$base/mcp" -d "$TOOLS_LIST_MCP_BODY"
    echo
    curl -s --max-time 20 -H "Authorization: $auth" "$base/v1/tools"
    echo
    curl -s --max-time 20 "${mcp[@]}" "$base/mcp" -d "$TOOLS_CALL_MCP_BODY"
    echo
    curl -s --max-time 20 -H "Authorization: $auth" -H 'Content-Type: application/json' \
      "$base/v1/tools/$TOOL_CALLED" -d "$TOOL_ARGS"
    echo
  } | python3 -c '
import json, sys
want = int(sys.argv[1])
lines = sys.stdin.read().splitlines()
try:
    mcp_list, rest_list, mcp_call, rest_call = (json.loads(x) for x in lines[:4])
    n = len(mcp_list["result"]["tools"])
    assert n == want, f"tools/list has {n} tools, not {want}"
    n = len(rest_list["data"])
    assert n == want, f"GET /v1/tools has {n} tools, not {want}"
    r = mcp_call["result"]
    assert r["isError"] is False and "results" in r["structuredContent"], f"tools/call: {r}"
    assert "results" in rest_call["result"], f"POST /v1/tools: {rest_call}"
except Exception as e:  # noqa: BLE001 - any surprise is a failed probe
    print(f"{type(e).__name__}: {e}; answers: {[x[:300] for x in lines]}")
    sys.exit(1)
' "$TOOLS_ALLOWED")
  [[ -z $out ]] || { printf '%s\n' "$out"; return 1; }
}
