// An upstream MCP server federated by sluice (`type: mcp`, DESIGN §4 tools, §5 "Tools"), both
// ends the official MCP TypeScript SDK: the upstream is an McpServer + StreamableHTTPServerTransport
// on node's http module (tools_helpers.mjs), the agent a Client + StreamableHTTPClientTransport.
// Its tools are listed through sluice as `<entry>.<tool>` (only to agents allowed them), called
// with the entry's secret header, its isError passed back, its list changes followed
// (sendToolListChanged), and it going down and coming back — or being down when sluice starts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

import { startSluice } from './helpers.mjs';
import { callRestTool, connectMcp, eventually, freePort, namesOf, upstreamMcpServer } from './tools_helpers.mjs';

const ALICE = 'sk-e2e-fed-alice';
const BOB = 'sk-e2e-fed-bob';
const UPSTREAM_TOKEN = 'upstream-token-never-shown';
const PER_TEST = { timeout: 60000 };

// The upstream's tools, as an MCP server author writes them with the SDK.
function calcTools() {
  return {
    add: {
      config: {
        description: 'Adds two numbers',
        inputSchema: { a: z.number(), b: z.number() },
        outputSchema: { sum: z.number() },
      },
      handler: async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } }),
    },
    fail: {
      config: { description: 'Always fails', inputSchema: { why: z.string().optional() } },
      handler: async ({ why }) => ({ content: [{ type: 'text', text: `upstream refused: ${why ?? 'no reason'}` }], isError: true }),
    },
    greet: {
      config: { description: 'Greets', inputSchema: { name: z.string() } },
      handler: async ({ name }) => ({ content: [{ type: 'text', text: `hello, ${name}` }] }),
    },
  };
}

function config({ calcURL, lateURL }) {
  return `# written by tests/e2e/mcp_federation.test.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  demo: {type: mock}
models:
  fast:
    targets: [{provider: demo, model: mock-small}]
agents:
  alice:
    keys: ["\${ALICE_KEY}"]
    tools: ["calc.*", "late.*"]
  bob:
    keys: ["\${BOB_KEY}"]
    tools: [calc.add, calc.multiply]
filters:
  - auth: {modes: [api_key]}
  - model_alias: {}
tools:
  calc:
    type: mcp
    url: ${calcURL}
    headers: {Authorization: "Bearer \${UPSTREAM_TOKEN}"}
    timeout: 5s
  late:
    type: mcp
    url: ${lateURL}
    timeout: 5s
state: {ledger: ""}
access_log: {path: ""}
`;
}

async function thrown(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw, but the call succeeded');
}

// The suite's options (node:test): none — it once waited for `type: mcp` to land.
const FEDERATION = {};

describe('an upstream MCP server (official SDK) federated through sluice', FEDERATION, () => {
  let calc; // up when sluice starts
  let late; // down when sluice starts (its port reserved), started by a test
  let sluice;
  const open = [];

  async function connect(key) {
    const c = await connectMcp(sluice, key);
    open.push(c.client);
    return c.client;
  }
  // alice's view of sluice's list, once it has `name` (the upstream's list is fetched, and
  // refreshed, in the background).
  async function listedWith(client, name, present = true) {
    return eventually(async () => {
      const names = namesOf(await client.listTools());
      return names.includes(name) === present ? names : null;
    }, { timeoutMs: 20000, what: `${name} ${present ? 'listed' : 'gone'}` });
  }

  before(async () => {
    calc = await upstreamMcpServer({ tools: calcTools(), token: UPSTREAM_TOKEN }).start();
    late = upstreamMcpServer({ tools: { echo: calcTools().greet }, jsonResponse: true, port: await freePort() });
    sluice = await startSluice(config({ calcURL: calc.url, lateURL: late.url }), {
      ALICE_KEY: ALICE,
      BOB_KEY: BOB,
      UPSTREAM_TOKEN,
    });
  });

  after(async () => {
    for (const c of open) await c.close().catch(() => {});
    await sluice?.stop();
    await calc?.stop();
    await late?.stop();
  });

  test('an upstream down at start-up: its tools appear once it is up (JSON responses)', PER_TEST, async () => {
    const client = await connect(ALICE);
    assert.ok(!namesOf(await client.listTools()).some((n) => n.startsWith('late.')));
    await late.start();
    await listedWith(client, 'late.echo');
    const result = await client.callTool({ name: 'late.echo', arguments: { name: 'late' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'hello, late' }]);
    assert.equal(result.isError, false);
  });

  test('its tools are listed as <entry>.<tool>, per agent, with their schemas; the header stays upstream', PER_TEST, async () => {
    const alice = await connect(ALICE);
    const names = await listedWith(alice, 'calc.add');
    assert.deepEqual(names.filter((n) => n.startsWith('calc.')), ['calc.add', 'calc.fail', 'calc.greet']);
    const add = (await alice.listTools()).tools.find((t) => t.name === 'calc.add');
    assert.equal(add.description, 'Adds two numbers');
    assert.deepEqual(add.inputSchema.required, ['a', 'b']);
    assert.equal(add.inputSchema.properties.a.type, 'number');
    assert.ok(!JSON.stringify(await alice.listTools()).includes(UPSTREAM_TOKEN));

    const bob = await connect(BOB);
    assert.deepEqual(namesOf(await bob.listTools()), ['calc.add']);
    // Every request sluice sent upstream carried the entry's header.
    assert.ok(calc.seen.length > 0);
    for (const s of calc.seen) assert.equal(s.authorization, `Bearer ${UPSTREAM_TOKEN}`);
  });

  test('callTool reaches the upstream tool by its own name; content and structuredContent come back', PER_TEST, async () => {
    const client = await connect(BOB);
    await listedWith(client, 'calc.add');
    const result = await client.callTool({ name: 'calc.add', arguments: { a: 2, b: 3 } });
    assert.equal(result.isError, false);
    assert.deepEqual(result.content, [{ type: 'text', text: '5' }]);
    assert.deepEqual(result.structuredContent, { sum: 5 });
    assert.equal(calc.calls().at(-1).tool, 'add');

    // The same tool over REST, by its OpenAI function name.
    const rest = await callRestTool(sluice, BOB, 'calc_add', { a: 20, b: 22 });
    assert.equal(rest.status, 200, rest.text);
    assert.deepEqual(rest.body.result, { sum: 42 });
  });

  test('the upstream’s isError comes back as isError; a forbidden upstream tool is unknown', PER_TEST, async () => {
    const alice = await connect(ALICE);
    await listedWith(alice, 'calc.fail');
    const failed = await alice.callTool({ name: 'calc.fail', arguments: { why: 'nope' } });
    assert.equal(failed.isError, true);
    assert.match(failed.content[0].text, /upstream refused: nope/);

    const rest = await callRestTool(sluice, ALICE, 'calc.fail', { why: 'rest' });
    assert.equal(rest.status, 502);
    assert.equal(rest.body.error.code, 'tool_error');
    assert.match(rest.body.error.message, /upstream refused: rest/);

    const bob = await connect(BOB);
    const err = await thrown(() => bob.callTool({ name: 'calc.fail', arguments: {} }));
    assert.ok(err instanceof McpError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.code, ErrorCode.InvalidParams);
  });

  test('arguments failing the upstream tool’s schema are refused by sluice; the upstream is not called', PER_TEST, async () => {
    const client = await connect(ALICE);
    await listedWith(client, 'calc.add');
    const calls = calc.calls().length;
    const result = await client.callTool({ name: 'calc.add', arguments: { a: 'two', b: 3 } });
    assert.equal(result.isError, true);
    assert.match(result.content[0].text, /"a"/);
    assert.equal(calc.calls().length, calls);
  });

  test('the upstream’s list changes (sendToolListChanged) and sluice’s list follows', PER_TEST, async () => {
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    await listedWith(alice, 'calc.add');

    calc.addTool(
      'multiply',
      { description: 'Multiplies', inputSchema: { a: z.number(), b: z.number() } },
      async ({ a, b }) => ({ content: [{ type: 'text', text: String(a * b) }] }),
    );
    await listedWith(alice, 'calc.multiply');
    await listedWith(bob, 'calc.multiply'); // bob's allow-list named it before it existed
    const product = await bob.callTool({ name: 'calc.multiply', arguments: { a: 6, b: 7 } });
    assert.deepEqual(product.content, [{ type: 'text', text: '42' }]);

    calc.removeTool('multiply');
    await listedWith(alice, 'calc.multiply', false);
    const err = await thrown(() => bob.callTool({ name: 'calc.multiply', arguments: { a: 1, b: 1 } }));
    assert.ok(err instanceof McpError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.code, ErrorCode.InvalidParams);
  });

  test('the upstream going down: calls are isError (unavailable), bounded; back up: calls work again', PER_TEST, async () => {
    const client = await connect(ALICE);
    await listedWith(client, 'calc.add');
    await calc.stop();

    const started = Date.now();
    const down = await client.callTool({ name: 'calc.add', arguments: { a: 1, b: 1 } });
    assert.equal(down.isError, true);
    assert.match(down.content[0].text, /calc\.add/);
    assert.ok(Date.now() - started < 6000, 'a call to a server that is down was not bounded by its timeout');
    // The last list stays: a server that blinks does not make its tools vanish.
    assert.ok(namesOf(await client.listTools()).includes('calc.add'));
    const rest = await callRestTool(sluice, ALICE, 'calc.add', { a: 1, b: 1 });
    assert.ok([502, 503].includes(rest.status), rest.text);

    // Back on the same port, with none of its old sessions: sluice initializes again.
    await calc.start();
    const back = await eventually(async () => {
      const r = await client.callTool({ name: 'calc.add', arguments: { a: 4, b: 5 } });
      return r.isError ? null : r;
    }, { timeoutMs: 30000, everyMs: 250, what: 'calc.add working again' });
    assert.deepEqual(back.structuredContent, { sum: 9 });
    assert.ok(calc.sessions.size >= 1);
  });
});
