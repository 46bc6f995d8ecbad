// The official OpenAI npm SDK against sluice's shipped Lua plugins: what an agent sees when a
// policy written in Lua refuses it. keyword_guard's refusal is a 403 in OpenAI's error shape,
// so the SDK raises its PermissionDeniedError with `code` 'policy_blocked' — the same class an
// agent already handles for OpenAI's own refusals; pii_redact's masking shows in the answer of
// the built-in mock provider (it echoes the last user message), i.e. what the model received.
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { startSluice } from './helpers.mjs';

const AGENT_KEY = 'sk-e2e-plugins-agent';
const PER_TEST = { timeout: 30000 };
const pluginsDir = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'plugins/lua');

// The filters sit where DESIGN §2 puts Lua filters: right after auth.
const CONFIG = `# written by tests/e2e/plugins.test.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  demo: {type: mock, mock: {mode: echo}}
models:
  fast:
    targets: [{provider: demo, model: mock-small}]
agents:
  e2e:
    keys: ["\${E2E_KEY}"]
filters:
  - auth: {modes: [api_key]}
  - lua: {file: ${JSON.stringify(join(pluginsDir, 'keyword_guard.lua'))}, config: {words: [pineapple, "project nightingale"]}}
  - lua: {file: ${JSON.stringify(join(pluginsDir, 'pii_redact.lua'))}, config: {}}
  - model_alias: {}
access_log: {path: ""}
state: {ledger: ""}
`;

// Runs `fn`, which must throw; returns the error so the test can look at it.
async function thrown(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected the SDK to throw, but the call succeeded');
}

describe('OpenAI SDK → sluice with Lua plugins', () => {
  let sluice;
  let openai;

  before(async () => {
    sluice = await startSluice(CONFIG, { E2E_KEY: AGENT_KEY });
    openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: AGENT_KEY, maxRetries: 0, timeout: 20000 });
  });

  after(async () => {
    await sluice?.stop();
  });

  test('keyword_guard: a blocked word is a PermissionDeniedError with code policy_blocked', PER_TEST, async () => {
    const err = await thrown(() =>
      openai.chat.completions.create({
        model: 'fast',
        messages: [{ role: 'user', content: 'What is Project Nightingale?' }],
      }),
    );
    assert.ok(err instanceof OpenAI.PermissionDeniedError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 403);
    assert.equal(err.code, 'policy_blocked');
    assert.equal(err.type, 'permission_error');
    assert.match(err.message, /keyword_guard/);
    assert.match(err.message, /project nightingale/);
    assert.ok(err.requestID || err.headers?.get?.('x-request-id'), 'no request id on the refusal');
  });

  test('keyword_guard: a streaming request is refused the same way, before any stream', PER_TEST, async () => {
    const err = await thrown(async () => {
      const stream = await openai.chat.completions.create({
        model: 'fast',
        stream: true,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'a pineapple, please' }] }],
      });
      for await (const _ of stream) {
        // a refusal must not start a stream
      }
    });
    assert.ok(err instanceof OpenAI.PermissionDeniedError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.code, 'policy_blocked');
  });

  test('a clean request is answered; pii_redact masked what the model received', PER_TEST, async () => {
    const completion = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'Apples for jane@example.com, call +1 555 123 4567.' }],
    });
    const content = completion.choices[0].message.content;
    assert.match(content, /Apples for \[email\], call \[phone\]\./);
    assert.doesNotMatch(content, /jane@example\.com|555 123 4567/);
  });
});
