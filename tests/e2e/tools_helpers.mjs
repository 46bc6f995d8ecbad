// Helpers of the tools end-to-end tests (DESIGN §5 "Tools"): connecting the official MCP SDK's
// client to sluice's /mcp as an agent, calling sluice's REST tool endpoints, and an upstream MCP
// server written with the same SDK (McpServer + StreamableHTTPServerTransport on node's http
// module) for sluice's `type: mcp` tools to federate.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

// An MCP client of sluice's /mcp, authenticated as the agent whose key is `key` (the same
// "Authorization: Bearer" an agent sends to /v1/chat/completions). `sessionId` resumes a session.
export async function connectMcp(sluice, key, { sessionId, name = 'sluice-e2e' } = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${sluice.port}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
    ...(sessionId ? { sessionId } : {}),
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

// The names in a tools/list result, sorted.
export function namesOf(listResult) {
  return listResult.tools.map((t) => t.name).sort();
}

// GET /v1/tools as the agent `key`: the OpenAI function tools (the `data` of the list).
export async function openaiTools(sluice, key) {
  const res = await fetch(`${sluice.baseURL}/tools`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200, `GET /v1/tools: ${res.status} ${await res.clone().text()}`);
  const body = await res.json();
  assert.equal(body.object, 'list');
  return body.data;
}

// POST /v1/tools/{name} as the agent `key`; resolves with {status, body} (body parsed).
export async function callRestTool(sluice, key, name, args) {
  const res = await fetch(`${sluice.baseURL}/tools/${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof args === 'string' ? args : JSON.stringify(args),
  });
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, text };
}

// Polls `probe` (async) until it returns a truthy value; rejects with `what` after `timeoutMs`.
export async function eventually(probe, { timeoutMs = 15000, everyMs = 100, what = 'the condition' } = {}) {
  const until = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) {
      throw new Error(`${what} did not happen within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// A free loopback port: bound, read and released. For a server that must come up later on a
// port sluice already knows (an upstream MCP server down at sluice's start-up).
export async function freePort() {
  const server = createServer();
  await new Promise((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  return port;
}

// An upstream MCP server written with the official SDK, in the shape of the SDK's own
// stateful Streamable HTTP example: one McpServer and transport per session, sessions by
// Mcp-Session-Id, POST/GET/DELETE on /mcp. Every session offers the same tools, `tools` here:
// {name: {config, handler}} for McpServer.registerTool. addTool/removeTool change them for every
// live session (each McpServer then sends notifications/tools/list_changed on its GET stream)
// and for the sessions to come. stop() closes the port and every connection (the server going
// down); start() listens again on the same port with no session (it coming back: a client's
// old session id is then unknown, 404).
export function upstreamMcpServer({ tools, token, jsonResponse = false, port = 0 }) {
  const defs = new Map(Object.entries(tools));
  const sessions = new Map(); // session id → {transport, server, registered: Map name → RegisteredTool}
  const seen = []; // every request: {method, session, authorization, rpc} (rpc: the JSON-RPC method)
  let httpServer = null;

  function newServer() {
    const server = new McpServer({ name: 'upstream-e2e', version: '1.0.0' });
    const registered = new Map();
    for (const [name, def] of defs) registered.set(name, server.registerTool(name, def.config, def.handler));
    return { server, registered };
  }

  async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {}
    const sessionId = req.headers['mcp-session-id'];
    seen.push({
      method: req.method,
      session: sessionId,
      authorization: req.headers.authorization,
      rpc: body?.method,
      tool: body?.params?.name,
    });
    if (new URL(req.url, 'http://x').pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Unauthorized' } }));
      return;
    }
    let entry = sessionId ? sessions.get(sessionId) : undefined;
    if (!entry) {
      if (sessionId || req.method !== 'POST' || !isInitializeRequest(body)) {
        // An unknown session (the server restarted): 404, so the client initializes again.
        res.writeHead(sessionId ? 404 : 400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: sessionId ? 'Session not found' : 'Bad Request: no session' } }));
        return;
      }
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: jsonResponse,
        onsessioninitialized: (id) => sessions.set(id, entry),
      });
      entry = { transport, ...newServer() };
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await entry.server.connect(transport);
    }
    await entry.transport.handleRequest(req, res, body);
  }

  const upstream = {
    port,
    seen,
    sessions,
    get url() {
      return `http://127.0.0.1:${this.port}/mcp`;
    },
    async start() {
      httpServer = createServer((req, res) => {
        handle(req, res).catch((err) => {
          if (!res.headersSent) res.writeHead(500).end(String(err));
        });
      });
      await new Promise((resolveListen, rejectListen) => {
        httpServer.once('error', rejectListen);
        httpServer.listen(this.port, '127.0.0.1', resolveListen);
      });
      this.port = httpServer.address().port;
      return this;
    },
    async stop() {
      if (!httpServer) return;
      const closing = new Promise((resolveClose) => httpServer.close(resolveClose));
      httpServer.closeAllConnections();
      for (const { transport } of [...sessions.values()]) await transport.close().catch(() => {});
      sessions.clear();
      await closing;
      httpServer = null;
    },
    addTool(name, config, handler) {
      defs.set(name, { config, handler });
      for (const entry of sessions.values()) entry.registered.set(name, entry.server.registerTool(name, config, handler));
    },
    removeTool(name) {
      defs.delete(name);
      for (const entry of sessions.values()) {
        entry.registered.get(name)?.remove();
        entry.registered.delete(name);
      }
    },
    // The tools/call requests the upstream received, for a test that must know whether sluice
    // reached it.
    calls() {
      return seen.filter((s) => s.rpc === 'tools/call');
    },
  };
  return upstream;
}

// A config with two `type: http` tools served by the mock provider (at mockOrigin) and two
// agents: AGENT_KEY may use "weather.*", OTHER_KEY only weather.alerts.
export function weatherToolsConfig(mockOrigin) {
  return `# written by tests/e2e/tools_helpers.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  upstream: {type: openai, base_url: ${mockOrigin}/v1, api_key: sk-upstream}
models:
  fast:
    targets: [{provider: upstream, model: gpt-4o-mini}]
agents:
  agent:
    keys: ["\${AGENT_KEY}"]
    tools: ["weather.*"]
  other:
    keys: ["\${OTHER_KEY}"]
    tools: [weather.alerts]
filters:
  - auth: {modes: [api_key]}
  - rate_limit: {}
  - model_alias: {}
tools:
  weather.forecast:
    type: http
    description: The weather for a city, day by day
    url: ${mockOrigin}/tools/forecast
    input_schema:
      type: object
      properties:
        city: {type: string, description: The city}
        days: {type: integer, minimum: 1, maximum: 7}
      required: [city]
  weather.alerts:
    type: http
    description: Weather alerts for a region
    url: ${mockOrigin}/tools/alerts
    input_schema: {type: object, properties: {region: {type: string}}, required: [region]}
state: {ledger: ""}
access_log: {path: ""}
`;
}
