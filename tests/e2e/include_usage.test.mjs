// include_usage as the official OpenAI SDK sees it (DESIGN §8): sluice asks every OpenAI-type
// stream for usage so it can charge it, but a client that did not ask must get what OpenAI
// would have sent it — no usage chunk, no `usage` key in any chunk — and a client that asked
// gets the provider's usage chunk with the provider's numbers. Against tests/support's mock
// provider (an `openai`-type upstream) and the built-in offline `mock` provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { configForBuiltinMock, configForMockProvider, hashKey, startMockProvider, startSluice } from './helpers.mjs';

const AGENT_KEY = 'sk-e2e-include-usage-key';
const PER_TEST = { timeout: 30000 };

function client(baseURL) {
  return new OpenAI({ baseURL, apiKey: AGENT_KEY, maxRetries: 0, timeout: 20000 });
}

async function chunksOf(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

// What a client that did not ask must never see.
function assertNoUsageAnywhere(chunks) {
  assert.ok(chunks.length >= 2, `only ${chunks.length} chunk(s)`);
  for (const chunk of chunks) {
    assert.ok(!Object.hasOwn(chunk, 'usage'), `a chunk carries a usage key: ${JSON.stringify(chunk)}`);
    assert.ok(chunk.choices.length > 0, `a chunk with empty choices: ${JSON.stringify(chunk)}`);
  }
}

// The usage-only chunk in a body the mock provider recorded as its reply.
function providerUsage(replyBody) {
  for (const event of replyBody.split('\n\n')) {
    if (!event.startsWith('data: {')) continue;
    const data = JSON.parse(event.slice(6));
    if (Array.isArray(data.choices) && data.choices.length === 0 && data.usage) return data.usage;
  }
  return null;
}

describe('include_usage: OpenAI SDK → sluice → OpenAI-compatible upstream', () => {
  let mock;
  let sluice;
  let openai;

  before(async () => {
    mock = await startMockProvider();
    const yaml = configForMockProvider({ mockBaseURL: mock.baseURL, hashedKey: hashKey('sk-unused') });
    sluice = await startSluice(yaml, { E2E_KEY: AGENT_KEY });
    openai = client(sluice.baseURL);
  });

  after(async () => {
    await sluice?.stop();
    await mock?.stop();
  });

  async function lastChatRequest() {
    const seen = await mock.requests();
    return seen.filter((r) => r.path.endsWith('/chat/completions')).at(-1);
  }

  test('a stream without stream_options: no usage key, no empty-choices chunk', PER_TEST, async () => {
    const chunks = await chunksOf(
      await openai.chat.completions.create({
        model: 'fast',
        messages: [{ role: 'user', content: 'Tell me five words.' }],
        stream: true,
      }),
    );
    assertNoUsageAnywhere(chunks);
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    // sluice asked the provider for usage all the same, and the provider sent it.
    const upstream = await lastChatRequest();
    assert.equal(JSON.parse(upstream.body).stream_options?.include_usage, true);
    assert.ok(providerUsage(upstream.reply_body), 'the provider sent no usage chunk');
  });

  test('include_usage: false is treated as not asked', PER_TEST, async () => {
    const chunks = await chunksOf(
      await openai.chat.completions.create({
        model: 'fast',
        messages: [{ role: 'user', content: 'No usage for me.' }],
        stream: true,
        stream_options: { include_usage: false },
      }),
    );
    assertNoUsageAnywhere(chunks);
  });

  test('with stream_options.include_usage the last chunk has the provider numbers', PER_TEST, async () => {
    const chunks = await chunksOf(
      await openai.chat.completions.create({
        model: 'fast',
        messages: [{ role: 'user', content: 'Count my tokens, please.' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    const sent = providerUsage((await lastChatRequest()).reply_body);
    assert.ok(sent, 'the provider sent no usage chunk');
    assert.deepEqual(last.usage, sent);
    // Every other chunk carries usage: null, as OpenAI sends them.
    for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null);
  });
});

describe('include_usage: OpenAI SDK → sluice with the built-in mock provider', () => {
  let sluice;
  let openai;

  before(async () => {
    sluice = await startSluice(configForBuiltinMock(), { E2E_KEY: AGENT_KEY });
    openai = client(sluice.baseURL);
  });

  after(async () => {
    await sluice?.stop();
  });

  test('a stream without stream_options: no usage key, no empty-choices chunk', PER_TEST, async () => {
    const chunks = await chunksOf(
      await openai.chat.completions.create({
        model: 'fast',
        messages: [{ role: 'user', content: 'one two three' }],
        stream: true,
      }),
    );
    assertNoUsageAnywhere(chunks);
    assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), 'one two three');
  });

  test('with stream_options.include_usage the last chunk has the mock numbers', PER_TEST, async () => {
    const chunks = await chunksOf(
      await openai.chat.completions.create({
        model: 'fast',
        messages: [{ role: 'user', content: 'one two three' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage.prompt_tokens > 0, JSON.stringify(last.usage));
    assert.equal(last.usage.completion_tokens, 3); // a chunk per word of the echo
    assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + 3);
    for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null);
  });
});
