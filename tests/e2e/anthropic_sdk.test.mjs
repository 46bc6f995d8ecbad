// The official Anthropic npm SDK as a client of sluice: what an agent written against
// Anthropic's Messages API sees when its baseURL points at sluice. Two set-ups: sluice in front
// of an `anthropic`-type provider (tests/support's mock provider, a real socket), and sluice
// alone with the built-in offline `mock` provider type.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';

import { startMockProvider, startSluice } from './helpers.mjs';

const AGENT_KEY = 'sk-e2e-anthropic-agent';
const PROVIDER_KEY = 'sk-ant-upstream-e2e-secret';
const PHYSICAL = 'claude-physical-e2e';
const PER_TEST = { timeout: 30000 };

// The Anthropic SDK adds /v1/messages itself: its baseURL is sluice's origin. No retries: a
// test must see what sluice answered the first time.
function client(sluice, auth = { apiKey: AGENT_KEY }) {
  return new Anthropic({ baseURL: `http://127.0.0.1:${sluice.port}`, maxRetries: 0, timeout: 20000, ...auth });
}

function config(providers, physical) {
  return `# written by tests/e2e/anthropic_sdk.test.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
${providers}
models:
  claude:
    targets:
      - {provider: claude, model: ${physical}}
agents:
  e2e:
    keys: ["\${E2E_KEY}"]
filters:
  - auth: {modes: [api_key]}
  - model_alias: {}
state:
  ledger: ""
access_log: {path: stdout, format: json}
`;
}

async function thrown(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected the SDK to throw, but the call succeeded');
}

const ask = (text, extra = {}) => ({
  model: 'claude',
  max_tokens: 256,
  messages: [{ role: 'user', content: text }],
  ...extra,
});

describe('Anthropic SDK → sluice → anthropic-type upstream (mock provider)', () => {
  let mock;
  let sluice;

  before(async () => {
    mock = await startMockProvider();
    const providers = `  claude:
    type: anthropic
    base_url: ${mock.baseURL}
    api_key: ${PROVIDER_KEY}
    timeouts: {connect: 2s, first_byte: 2s, idle: 2s, total: 20s}`;
    sluice = await startSluice(config(providers, PHYSICAL), { E2E_KEY: AGENT_KEY });
  });

  after(async () => {
    await sluice?.stop();
    await mock?.stop();
  });

  test('messages.create returns the text and usage the provider sent', PER_TEST, async () => {
    const message = await client(sluice).messages.create(ask('hello from the sdk'));
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, PHYSICAL);
    assert.equal(message.content[0].type, 'text');
    assert.equal(message.content[0].text, `[${PHYSICAL}] hello from the sdk`);
    assert.equal(message.stop_reason, 'end_turn');
    assert.ok(message.usage.input_tokens > 0);
    assert.equal(message.usage.output_tokens, 5); // one per word of the reply

    const seen = (await mock.requests()).at(-1);
    assert.equal(seen.path, '/v1/messages');
    assert.equal(JSON.parse(seen.body).model, PHYSICAL);
    assert.equal(seen.headers['x-api-key'], PROVIDER_KEY);
    assert.equal(seen.headers['anthropic-version'], '2023-06-01');
    assert.ok(!JSON.stringify(seen).includes(AGENT_KEY), 'the agent key went upstream');
  });

  test('messages.create carries cached token counts through', PER_TEST, async () => {
    const message = await client(sluice).messages.create(ask('cached prompt'), {
      headers: { 'x-mock-behavior': 'cached:900,cache_write:100' },
    });
    assert.equal(message.usage.cache_read_input_tokens, 900);
    assert.equal(message.usage.cache_creation_input_tokens, 100);
  });

  test('messages.stream delivers the text deltas and the final message', PER_TEST, async () => {
    const stream = client(sluice).messages.stream(ask('stream these four words'));
    const deltas = [];
    stream.on('text', (text) => deltas.push(text));
    const message = await stream.finalMessage();
    assert.equal(deltas.join(''), `[${PHYSICAL}] stream these four words`);
    assert.ok(deltas.length > 1, 'the text arrived in several deltas');
    assert.equal(message.content[0].text, deltas.join(''));
    assert.equal(message.model, PHYSICAL);
    assert.ok(message.usage.input_tokens > 0);
    assert.equal(message.usage.output_tokens, deltas.length);
    assert.equal(message.stop_reason, 'end_turn');
  });

  test('stream: true yields Anthropic\'s raw events in order', PER_TEST, async () => {
    const events = await client(sluice).messages.create(ask('raw events', { stream: true }));
    const types = [];
    for await (const event of events) types.push(event.type);
    assert.equal(types[0], 'message_start');
    assert.equal(types[1], 'content_block_start');
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.ok(types.includes('content_block_delta'));
  });

  test('a bad key is an AuthenticationError in Anthropic\'s shape', PER_TEST, async () => {
    const err = await thrown(() => client(sluice, { apiKey: 'sk-not-an-agent' }).messages.create(ask('x')));
    assert.ok(err instanceof Anthropic.AuthenticationError, `got ${err}`);
    assert.equal(err.status, 401);
    assert.equal(err.error?.type, 'error');
    assert.equal(err.error?.error?.type, 'authentication_error');
  });

  test('an unknown model is a NotFoundError in Anthropic\'s shape', PER_TEST, async () => {
    const err = await thrown(() => client(sluice).messages.create({ ...ask('x'), model: 'no-such-model' }));
    assert.ok(err instanceof Anthropic.NotFoundError, `got ${err}`);
    assert.equal(err.status, 404);
    assert.equal(err.error?.error?.type, 'not_found_error');
  });

  test('an Authorization: Bearer key (authToken) is accepted as well as x-api-key', PER_TEST, async () => {
    const message = await client(sluice, { apiKey: null, authToken: AGENT_KEY }).messages.create(ask('bearer'));
    assert.equal(message.content[0].text, `[${PHYSICAL}] bearer`);
    const seen = (await mock.requests()).at(-1);
    assert.equal(seen.headers['x-api-key'], PROVIDER_KEY);
    assert.equal(seen.headers.authorization, undefined);
  });

  test('a provider error reaches the SDK as the provider sent it', PER_TEST, async () => {
    await mock.control('status:529');
    const err = await thrown(() => client(sluice).messages.create(ask('x')));
    assert.equal(err.status, 529);
    assert.equal(err.error?.error?.type, 'overloaded_error');
  });
});

describe('Anthropic SDK → sluice → built-in mock provider', () => {
  let sluice;

  before(async () => {
    const providers = `  claude:
    type: mock
    mock: {reply: "Hello from the built-in mock."}`;
    sluice = await startSluice(config(providers, 'mock-claude'), { E2E_KEY: AGENT_KEY });
  });

  after(async () => {
    await sluice?.stop();
  });

  test('messages.create is answered offline in Anthropic\'s shape', PER_TEST, async () => {
    const message = await client(sluice).messages.create(ask('echo me'));
    assert.equal(message.model, 'mock-claude');
    assert.equal(message.content[0].text, 'echo me');
    assert.equal(message.stop_reason, 'end_turn');
    assert.ok(message.usage.input_tokens > 0);
    assert.equal(message.usage.output_tokens, 2);
  });

  test('messages.stream is answered offline, deltas and final usage', PER_TEST, async () => {
    const stream = client(sluice).messages.stream(ask('one two three'));
    const deltas = [];
    stream.on('text', (text) => deltas.push(text));
    const message = await stream.finalMessage();
    assert.equal(deltas.join(''), 'one two three');
    assert.equal(message.usage.output_tokens, 3);
  });
});
