// The official OpenAI npm SDK against sluice's cost accounting (issue 6): a session of requests
// an agent makes — JSON, a stream without include_usage, a stream with it — is charged exactly
// (the mock provider's usage × the configured prices), as the admin GET /usage shows; and an
// agent whose daily budget runs out gets the SDK's RateLimitError with code budget_exceeded and
// a retry-after header.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import OpenAI from 'openai';

import { startMockProvider, startSluice } from './helpers.mjs';

const AGENT_KEY = 'sk-e2e-cost-agent';
const THRIFTY_KEY = 'sk-e2e-thrifty-agent';
const PER_TEST = { timeout: 30000 };

// USD per 1M tokens.
const PRICE = { input: 3, output: 15, cached_input: 0.3 };
const costOf = (input, output, cached = 0) =>
  ((input - cached) * PRICE.input + cached * PRICE.cached_input + output * PRICE.output) / 1e6;

const config = (mockBaseURL, ledger) => `# written by tests/e2e/cost.test.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  upstream:
    type: openai
    base_url: ${mockBaseURL}
    api_key: sk-upstream-e2e-secret
models:
  fast:
    targets: [{provider: upstream, model: gpt-4o-mini}]
agents:
  spender:
    keys: ["\${E2E_KEY}"]
  thrifty:
    keys: ["\${E2E_THRIFTY_KEY}"]
    budget: {usd: 0.001, per: day}
filters:
  - auth: {modes: [api_key]}
  - model_alias: {}
  - cost:
      prices:
        gpt-4o-mini: {input: ${PRICE.input}, output: ${PRICE.output}, cached_input: ${PRICE.cached_input}}
state: {ledger: ${JSON.stringify(ledger)}, flush_interval: 20ms}
access_log: {path: ""}
`;

// Polls GET /usage until `done(report)` holds (the ledger writer commits every flush_interval).
async function usageReport(sluice, by, done) {
  let report;
  for (let i = 0; i < 250; i++) {
    const res = await fetch(`${sluice.adminURL}/usage?by=${by}`);
    assert.equal(res.status, 200, await res.clone().text());
    report = await res.json();
    if (done(report)) return report;
    await new Promise((r) => setTimeout(r, 20));
  }
  return report;
}

describe('OpenAI SDK → sluice cost accounting', () => {
  let mock;
  let sluice;
  let ledgerDir;

  before(async () => {
    mock = await startMockProvider();
    ledgerDir = mkdtempSync(join(tmpdir(), 'sluice-e2e-ledger-'));
    sluice = await startSluice(config(mock.baseURL, join(ledgerDir, 'ledger.db')), {
      E2E_KEY: AGENT_KEY,
      E2E_THRIFTY_KEY: THRIFTY_KEY,
    });
  });

  after(async () => {
    await sluice?.stop();
    await mock?.stop();
    if (ledgerDir) rmSync(ledgerDir, { recursive: true, force: true });
  });

  test('GET /usage shows the exact tokens and cost of JSON and streamed requests', PER_TEST, async () => {
    const openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: AGENT_KEY, maxRetries: 0 });
    const messages = (text) => [{ role: 'user', content: text }];
    let input = 0;
    let output = 0;

    // JSON: the usage the SDK returns.
    const json = await openai.chat.completions.create({ model: 'fast', messages: messages('how much is this one') });
    assert.ok(json.usage.prompt_tokens > 0);
    input += json.usage.prompt_tokens;
    output += json.usage.completion_tokens;

    // A stream with include_usage: the last chunk carries the usage.
    const withUsage = await openai.chat.completions.create({
      model: 'fast',
      messages: messages('stream with the usage chunk'),
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamedUsage;
    for await (const chunk of withUsage) if (chunk.usage) streamedUsage = chunk.usage;
    assert.ok(streamedUsage, 'the client asked for include_usage and got no usage chunk');
    input += streamedUsage.prompt_tokens;
    output += streamedUsage.completion_tokens;

    // A stream without include_usage: the client sees no usage, yet sluice charges the
    // provider's numbers — the same as the identical request with include_usage shows.
    const text = 'stream without asking for usage';
    const twin = await openai.chat.completions.create({
      model: 'fast',
      messages: messages(text),
      stream: true,
      stream_options: { include_usage: true },
    });
    let twinUsage;
    for await (const chunk of twin) if (chunk.usage) twinUsage = chunk.usage;
    input += twinUsage.prompt_tokens;
    output += twinUsage.completion_tokens;
    const plain = await openai.chat.completions.create({ model: 'fast', messages: messages(text), stream: true });
    let content = '';
    for await (const chunk of plain) {
      assert.equal(chunk.usage, undefined, `a chunk carried usage: ${JSON.stringify(chunk)}`);
      assert.ok(chunk.choices.length > 0, `a usage-only chunk reached the client: ${JSON.stringify(chunk)}`);
      content += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.ok(content.length > 0);
    input += twinUsage.prompt_tokens;
    output += twinUsage.completion_tokens;

    const report = await usageReport(sluice, 'agent', (r) => r.rows.find((row) => row.key === 'spender')?.requests === 4);
    const spender = report.rows.find((row) => row.key === 'spender');
    assert.ok(spender, `no spender row in ${JSON.stringify(report)}`);
    assert.equal(spender.requests, 4);
    assert.equal(spender.input_tokens, input);
    assert.equal(spender.output_tokens, output);
    assert.equal(spender.estimated_share, 0, 'every request had the provider\'s usage');
    assert.ok(Math.abs(spender.cost_usd - costOf(input, output)) < 1e-9, `cost ${spender.cost_usd}, expected ${costOf(input, output)}`);

    const byModel = await usageReport(sluice, 'model', () => true);
    const fast = byModel.rows.find((row) => row.key === 'fast');
    assert.ok(Math.abs(fast.cost_usd - costOf(input, output)) < 1e-9, JSON.stringify(byModel));
  });

  test('a budget that runs out: RateLimitError budget_exceeded with retry-after', PER_TEST, async () => {
    const openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: THRIFTY_KEY, maxRetries: 0 });
    const ask = () =>
      openai.chat.completions.create({
        model: 'fast',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'a small question' }],
      });
    // $0.001 a day; each request reserves its worst case (prompt + 16 tokens of output) and
    // is charged its usage: a handful get through, then the budget refuses.
    let answered = 0;
    let error;
    for (let i = 0; i < 30 && !error; i++) {
      try {
        await ask();
        answered++;
      } catch (err) {
        error = err;
      }
    }
    assert.ok(answered >= 1, 'the budget refused the very first request');
    assert.ok(error instanceof OpenAI.RateLimitError, `expected RateLimitError, got ${error}`);
    assert.equal(error.status, 429);
    assert.equal(error.code, 'budget_exceeded');
    const retryAfter = Number(error.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 86400, `retry-after ${error.headers.get('retry-after')}: seconds to the next UTC day`);
    // It stays refused: the budget is for the day.
    await assert.rejects(ask(), (err) => err instanceof OpenAI.RateLimitError && err.code === 'budget_exceeded');
  });
});
