// The official MCP TypeScript SDK (Client + StreamableHTTPClientTransport) against sluice's /mcp,
// as an agent uses it (DESIGN §5 "Tools"): the agent's key in the transport's requestInit
// headers, a session from initialize, tools/list showing only that agent's tools, tools/call
// with text and structuredContent, a failing tool as isError, arguments failing the schema as
// isError naming the field (the tool never called), an unknown or forbidden tool as the SDK's
// McpError -32602, a rate-limit refusal as McpError -32000, a session ended and a new one.
// The tools are `type: http` tools served by the mock provider's /tools/ endpoints.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, LATEST_PROTOCOL_VERSION, McpError } from '@modelcontextprotocol/sdk/types.js';

import { startMockProvider, startSluice } from './helpers.mjs';
import { connectMcp, namesOf } from './tools_helpers.mjs';

const ALICE = 'sk-e2e-mcp-alice';
const BOB = 'sk-e2e-mcp-bob';
const CAROL = 'sk-e2e-mcp-carol';
const TOOL_SECRET = 'tool-secret-never-shown';
const PER_TEST = { timeout: 30000 };

// alice: a glob and a name; bob: one tool; carol: one tool and rpm 2. admin.reset is nobody's.
function config(mockOrigin) {
  return `# written by tests/e2e/mcp_sdk.test.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  upstream: {type: openai, base_url: ${mockOrigin}/v1, api_key: sk-upstream}
models:
  fast:
    targets: [{provider: upstream, model: gpt-4o-mini}]
agents:
  alice:
    keys: ["\${ALICE_KEY}"]
    tools: ["weather.*", text.echo]
  bob:
    keys: ["\${BOB_KEY}"]
    tools: [weather.forecast]
  carol:
    keys: ["\${CAROL_KEY}"]
    tools: [text.echo]
    limits: {rpm: 2}
filters:
  - auth: {modes: [api_key]}
  - rate_limit: {}
  - model_alias: {}
tools:
  weather.forecast:
    type: http
    description: The weather for a city, day by day
    url: ${mockOrigin}/tools/forecast
    timeout: 5s
    headers: {X-Tool-Secret: "\${TOOL_SECRET}"}
    input_schema:
      type: object
      properties:
        city: {type: string}
        days: {type: integer, minimum: 1, maximum: 7}
      required: [city]
  weather.alerts: {type: http, description: Weather alerts, url: ${mockOrigin}/tools/alerts}
  text.echo: {type: http, description: Echoes its arguments as text, url: ${mockOrigin}/tools/text}
  admin.reset: {type: http, url: ${mockOrigin}/tools/admin}
state: {ledger: ""}
access_log: {path: ""}
`;
}

// Runs `fn`, which must throw; returns the error.
async function thrown(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw, but the call succeeded');
}

describe('MCP SDK → sluice /mcp', () => {
  let mock;
  let sluice;
  const open = []; // clients to close after the tests

  async function connect(key, options) {
    const c = await connectMcp(sluice, key, options);
    open.push(c.client);
    return c;
  }
  async function toolRequests(path) {
    return (await mock.requests()).filter((r) => r.path.startsWith(path));
  }

  before(async () => {
    mock = await startMockProvider();
    sluice = await startSluice(config(`http://127.0.0.1:${mock.port}`), {
      ALICE_KEY: ALICE,
      BOB_KEY: BOB,
      CAROL_KEY: CAROL,
      TOOL_SECRET,
    });
  });

  after(async () => {
    for (const c of open) await c.close().catch(() => {});
    await sluice?.stop();
    await mock?.stop();
  });

  test('connect: initialize negotiates the SDK’s newest version and opens a session', PER_TEST, async () => {
    const { client, transport } = await connect(ALICE);
    assert.match(transport.sessionId, /^[0-9a-f]{32}$/);
    assert.equal(transport.protocolVersion, LATEST_PROTOCOL_VERSION);
    assert.equal(client.getServerVersion().name, 'sluice');
    assert.deepEqual(client.getServerCapabilities().tools, { listChanged: false });
    assert.deepEqual(await client.ping(), {});
  });

  test('listTools shows each agent only its allow-list (globs included), secrets never', PER_TEST, async () => {
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    const aliceList = await alice.client.listTools();
    const bobList = await bob.client.listTools();
    assert.deepEqual(namesOf(aliceList), ['text.echo', 'weather.alerts', 'weather.forecast']);
    assert.deepEqual(namesOf(bobList), ['weather.forecast']);

    const forecast = bobList.tools[0];
    assert.equal(forecast.description, 'The weather for a city, day by day');
    assert.deepEqual(forecast.inputSchema.required, ['city']);
    assert.deepEqual(forecast.inputSchema.properties.days, { type: 'integer', minimum: 1, maximum: 7 });
    const shown = JSON.stringify(aliceList);
    assert.ok(!shown.includes(TOOL_SECRET), 'a tool header leaked into tools/list');
    assert.ok(!shown.includes('admin.reset'));
    assert.ok(!shown.includes('/tools/'), 'a tool URL leaked into tools/list');
  });

  test('callTool: a JSON answer is text plus structuredContent; the tool gets its header, not the agent key', PER_TEST, async () => {
    const { client } = await connect(ALICE);
    const result = await client.callTool({ name: 'weather.forecast', arguments: { city: 'Kyiv', days: 3 } });
    assert.equal(result.isError, false);
    assert.equal(result.structuredContent.tool, 'forecast');
    assert.deepEqual(result.structuredContent.arguments, { city: 'Kyiv', days: 3 });
    assert.equal(result.content.length, 1);
    assert.equal(result.content[0].type, 'text');
    assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);

    const seen = (await toolRequests('/tools/forecast')).at(-1);
    assert.equal(seen.method, 'POST');
    assert.deepEqual(JSON.parse(seen.body), { city: 'Kyiv', days: 3 });
    assert.equal(seen.headers['x-tool-secret'], TOOL_SECRET);
    assert.equal(seen.headers['x-sluice-agent'], 'alice');
    assert.equal(seen.headers.authorization, undefined, 'the agent key reached the tool');
  });

  test('callTool: a text answer is text content without structuredContent', PER_TEST, async () => {
    const { client } = await connect(ALICE);
    const result = await client.callTool({ name: 'text.echo', arguments: { say: 'hi' } });
    assert.equal(result.isError, false);
    assert.deepEqual(result.content, [{ type: 'text', text: 'echo: {"say":"hi"}' }]);
    assert.equal(result.structuredContent, undefined);
  });

  test('callTool: a tool answering 500 is a result with isError, not a protocol error', PER_TEST, async () => {
    const { client } = await connect(ALICE);
    await mock.control('status:500', 1, '/tools');
    const result = await client.callTool({ name: 'text.echo', arguments: {} });
    assert.equal(result.isError, true);
    assert.equal(result.content[0].type, 'text');
    assert.match(result.content[0].text, /text\.echo failed/);
    // Nothing is stuck: the next call works.
    const next = await client.callTool({ name: 'text.echo', arguments: { n: 1 } });
    assert.equal(next.isError, false);
  });

  test('callTool: arguments failing the schema are isError naming the field; the tool is not called', PER_TEST, async () => {
    const { client } = await connect(ALICE);
    const before = (await toolRequests('/tools/forecast')).length;

    const missing = await client.callTool({ name: 'weather.forecast', arguments: { days: 3 } });
    assert.equal(missing.isError, true);
    assert.match(missing.content[0].text, /Invalid arguments for weather\.forecast/);
    assert.match(missing.content[0].text, /city/);

    const wrongType = await client.callTool({ name: 'weather.forecast', arguments: { city: 'Kyiv', days: 'three' } });
    assert.equal(wrongType.isError, true);
    assert.match(wrongType.content[0].text, /days/);

    const tooMany = await client.callTool({ name: 'weather.forecast', arguments: { city: 'Kyiv', days: 30 } });
    assert.equal(tooMany.isError, true);
    assert.match(tooMany.content[0].text, /days/);

    assert.equal((await toolRequests('/tools/forecast')).length, before, 'a call failing the schema reached the tool');
  });

  test('callTool: an unknown and a forbidden tool are the same McpError -32602', PER_TEST, async () => {
    const { client } = await connect(BOB);
    const unknown = await thrown(() => client.callTool({ name: 'no.such', arguments: {} }));
    const forbidden = await thrown(() => client.callTool({ name: 'weather.alerts', arguments: {} }));
    for (const err of [unknown, forbidden]) {
      assert.ok(err instanceof McpError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.code, ErrorCode.InvalidParams);
    }
    // Only the name differs: nothing tells bob that weather.alerts exists.
    assert.equal(forbidden.message.replace('weather.alerts', 'X'), unknown.message.replace('no.such', 'X'));
    assert.equal((await toolRequests('/tools/alerts')).length, 0);
  });

  test('a rate-limited call is McpError -32000 with {status, type, code}; listing still works', PER_TEST, async () => {
    const { client } = await connect(CAROL);
    for (let i = 0; i < 2; i++) {
      const ok = await client.callTool({ name: 'text.echo', arguments: { i } });
      assert.equal(ok.isError, false, JSON.stringify(ok));
    }
    const refused = await thrown(() => client.callTool({ name: 'text.echo', arguments: { i: 2 } }));
    assert.ok(refused instanceof McpError, `got ${refused?.constructor?.name}: ${refused}`);
    assert.equal(refused.code, -32000);
    assert.equal(refused.data.status, 429);
    assert.equal(refused.data.code, 'rate_limit_exceeded');
    assert.equal(typeof refused.data.type, 'string');
    assert.deepEqual(namesOf(await client.listTools()), ['text.echo']);
  });

  test('a wrong key: connect fails with HTTP 401', PER_TEST, async () => {
    const err = await thrown(() => connectMcp(sluice, 'sk-not-an-agent'));
    assert.ok(err instanceof StreamableHTTPError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.code, 401);
  });

  test('a session is bound to its agent: another agent cannot use it', PER_TEST, async () => {
    const alice = await connect(ALICE);
    // The SDK skips initialize when given a session id, as when resuming one.
    const bob = await connect(BOB, { sessionId: alice.transport.sessionId });
    const err = await thrown(() => bob.client.listTools());
    assert.ok(err instanceof StreamableHTTPError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.code, 404);
    // alice's session is untouched.
    assert.equal((await alice.client.listTools()).tools.length, 3);
  });

  test('terminateSession ends the session (DELETE); the old id is unknown; a new connect works', PER_TEST, async () => {
    const { client, transport } = await connect(ALICE);
    const ended = transport.sessionId;
    await transport.terminateSession();
    assert.equal(transport.sessionId, undefined);
    await client.close();

    // The ended session is gone for anyone who still holds its id.
    const stale = await connect(ALICE, { sessionId: ended });
    const err = await thrown(() => stale.client.listTools());
    assert.ok(err instanceof StreamableHTTPError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.code, 404);

    // Reconnecting: initialize again, a new session, everything works.
    const again = await connect(ALICE);
    assert.notEqual(again.transport.sessionId, ended);
    assert.equal((await again.client.callTool({ name: 'text.echo', arguments: { back: true } })).isError, false);
  });

  test('client.close() leaves sluice serving; the same agent reconnects at once', PER_TEST, async () => {
    for (let i = 0; i < 3; i++) {
      const { client } = await connectMcp(sluice, BOB);
      assert.deepEqual(namesOf(await client.listTools()), ['weather.forecast']);
      await client.close();
    }
  });
});
