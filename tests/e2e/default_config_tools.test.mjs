// The tools of the shipped conf/sluice.yaml, offline, as docs/tools.md and the README show them:
// the demo agent gets text.shout (a Lua tool) and memory.store / memory.query (the memory plugin,
// embeddings from the built-in mock provider) over MCP (the official SDK) and REST. The file is
// run as shipped except for what a test must change: ephemeral ports, no ledger, absolute plugin
// paths (the copy lives in a temp directory, where the memory database goes too).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { startSluice } from './helpers.mjs';
import { callRestTool, connectMcp, namesOf, openaiTools } from './tools_helpers.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEMO_KEY = 'sk-sluice-demo'; // the file's default for ${SLUICE_DEMO_KEY}
const PER_TEST = { timeout: 30000 };

function shippedConfig() {
  const text = readFileSync(join(repoRoot, 'conf/sluice.yaml'), 'utf8');
  const swaps = [
    [/^listen: 127\.0\.0\.1:8080$/m, 'listen: 127.0.0.1:0'],
    [/^admin: 127\.0\.0\.1:9901$/m, 'admin: 127.0.0.1:0'],
    [/^workers: auto$/m, 'workers: 1'],
    [/^  ledger: sluice-ledger\.db$/m, '  ledger: ""'],
  ];
  let out = text;
  for (const [pattern, replacement] of swaps) {
    assert.match(out, pattern, `conf/sluice.yaml changed: ${pattern} not found`);
    out = out.replace(pattern, replacement);
  }
  return out.replaceAll('../plugins/', `${join(repoRoot, 'plugins')}/`);
}

describe('the tools of the shipped conf/sluice.yaml', () => {
  let sluice;
  let mcp;

  before(async () => {
    sluice = await startSluice(shippedConfig(), {});
    mcp = await connectMcp(sluice, DEMO_KEY);
  });

  after(async () => {
    await mcp?.client.close();
    await sluice?.stop();
  });

  test('the demo agent lists text.shout, memory.store and memory.query, over MCP and REST', PER_TEST, async () => {
    assert.deepEqual(namesOf(await mcp.client.listTools()), ['memory.query', 'memory.store', 'text.shout']);
    const functions = (await openaiTools(sluice, DEMO_KEY)).map((t) => t.function.name).sort();
    assert.deepEqual(functions, ['memory_query', 'memory_store', 'text_shout']);
  });

  test('text.shout over MCP and REST', PER_TEST, async () => {
    const result = await mcp.client.callTool({ name: 'text.shout', arguments: { text: 'hello' } });
    assert.equal(result.isError, false);
    assert.match(result.content[0].text, /^HELLO/);
    const rest = await callRestTool(sluice, DEMO_KEY, 'text_shout', { text: 'hi' });
    assert.equal(rest.status, 200, rest.text);
    assert.match(rest.body.result, /^HI/);
  });

  test('memory.store then memory.query finds it, offline', PER_TEST, async () => {
    const fact = 'The staging database is rebuilt every Friday at noon.';
    const stored = await mcp.client.callTool({ name: 'memory.store', arguments: { content: fact, tags: ['ops'] } });
    assert.equal(stored.isError, false, JSON.stringify(stored));
    assert.equal(stored.structuredContent.stored, true);
    await mcp.client.callTool({ name: 'memory.store', arguments: { content: 'Lunch is at one.' } });

    const found = await mcp.client.callTool({ name: 'memory.query', arguments: { query: fact, limit: 2 } });
    assert.equal(found.isError, false, JSON.stringify(found));
    const { results } = found.structuredContent;
    assert.ok(results.length >= 1);
    assert.equal(results[0].content, fact);
    assert.deepEqual(results[0].tags, ['ops']);
  });
});
