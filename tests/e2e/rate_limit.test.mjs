// The official OpenAI npm SDK against sluice's own per-agent rate limit: what an agent sees
// when it runs over `agents.*.limits` — the SDK's RateLimitError (HTTP 429) with the error
// shape, retry-after and OpenAI's x-ratelimit-* headers it knows from OpenAI itself — and that
// the SDK's own retry loop, honouring sluice's retry-after, gets through once the bucket refills.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { startSluice } from './helpers.mjs';

const AGENT_KEY = 'sk-e2e-limited-agent';
const PER_TEST = { timeout: 30000 };

// 30 requests per minute: one more request every 2 s, so the bucket refills within the test.
const CONFIG = `# written by tests/e2e/rate_limit.test.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 2
providers:
  demo: {type: mock}
models:
  fast:
    targets: [{provider: demo, model: mock-small}]
agents:
  limited:
    keys: ["\${E2E_KEY}"]
    limits: {rpm: 30, tpm: 1000000}
filters:
  - auth: {modes: [api_key]}
  - rate_limit: {}
  - model_alias: {}
access_log: {path: ""}
state: {ledger: ""}
`;

describe('OpenAI SDK → sluice rate_limit', () => {
  let sluice;

  before(async () => {
    sluice = await startSluice(CONFIG, { E2E_KEY: AGENT_KEY });
  });

  after(async () => {
    await sluice?.stop();
  });

  test('over rpm: RateLimitError with retry-after and x-ratelimit-* headers', PER_TEST, async () => {
    const openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: AGENT_KEY, maxRetries: 0 });
    const ask = () =>
      openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }).withResponse();

    // Within the limit: answered, and told how much is left.
    const first = await ask();
    assert.equal(first.response.headers.get('x-ratelimit-limit-requests'), '30');
    assert.equal(first.response.headers.get('x-ratelimit-remaining-requests'), '29');
    assert.ok(first.response.headers.get('x-ratelimit-reset-requests'), 'no x-ratelimit-reset-requests');
    assert.equal(first.response.headers.get('x-ratelimit-limit-tokens'), '1000000');
    await Promise.all(Array.from({ length: 29 }, ask));

    let error;
    try {
      await ask();
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof OpenAI.RateLimitError, `expected RateLimitError, got ${error}`);
    assert.equal(error.status, 429);
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.match(error.message, /rpm/);
    const retryAfter = Number(error.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 2, `retry-after ${retryAfter}`);
    assert.equal(error.headers.get('x-ratelimit-remaining-requests'), '0');
  });

  test("the SDK's own retry honours retry-after and then succeeds", PER_TEST, async () => {
    // The bucket is empty after the test above; rpm 30 refills one request every 2 s, which is
    // what retry-after says. The SDK waits that long (it honours retry-after up to 60 s).
    const openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: AGENT_KEY, maxRetries: 2, timeout: 25000 });
    const { data, response } = await openai.chat.completions
      .create({ model: 'fast', messages: [{ role: 'user', content: 'patience' }] })
      .withResponse();
    assert.equal(data.choices[0].message.content, 'patience');
    assert.equal(response.status, 200);
  });
});
