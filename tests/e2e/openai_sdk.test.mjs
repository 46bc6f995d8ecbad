// The official OpenAI npm SDK as a client of sluice: what an agent written against OpenAI sees
// when its baseURL points at sluice. Two set-ups: sluice in front of an OpenAI-compatible
// upstream (tests/support's mock provider, a real socket), and sluice alone with the built-in
// offline `mock` provider type (what conf/sluice.yaml uses).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import {
  configForBuiltinMock,
  configForMockProvider,
  hashKey,
  startMockProvider,
  startSluice,
} from './helpers.mjs';

const AGENT_KEY = 'sk-e2e-agent-key';
const HASHED_AGENT_KEY = 'sk-e2e-hashed-agent-key';
const PER_TEST = { timeout: 30000 };

// No SDK retries: a test must see what sluice answered the first time.
function client(baseURL, apiKey = AGENT_KEY) {
  return new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });
}

// Runs `fn`, which must throw; returns the error so the test can look at it.
async function thrown(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected the SDK to throw, but the call succeeded');
}

// Reads a whole stream; returns its chunks and the content the deltas add up to.
async function collect(stream) {
  const chunks = [];
  let content = '';
  for await (const chunk of stream) {
    chunks.push(chunk);
    content += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return { chunks, content };
}

describe('OpenAI SDK → sluice → OpenAI-compatible upstream (mock provider)', () => {
  let mock;
  let sluice;
  let openai;
  const seenRequestIds = [];

  before(async () => {
    mock = await startMockProvider();
    const yaml = configForMockProvider({ mockBaseURL: mock.baseURL, hashedKey: hashKey(HASHED_AGENT_KEY) });
    sluice = await startSluice(yaml, { E2E_KEY: AGENT_KEY });
    openai = client(sluice.baseURL);
  });

  after(async () => {
    await sluice?.stop();
    await mock?.stop();
  });

  test('chat completion: content, usage, and the physical model in `model`', PER_TEST, async () => {
    const completion = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'Say hello to the end-to-end test.' }],
    });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, 'gpt-4o-mini');
    assert.equal(completion.choices.length, 1);
    assert.equal(completion.choices[0].message.role, 'assistant');
    assert.equal(typeof completion.choices[0].message.content, 'string');
    assert.ok(completion.choices[0].message.content.length > 0, 'empty content');
    assert.ok(completion.usage, 'no usage');
    assert.ok(completion.usage.prompt_tokens > 0, `prompt_tokens ${completion.usage.prompt_tokens}`);
    assert.ok(completion.usage.completion_tokens > 0, `completion_tokens ${completion.usage.completion_tokens}`);
    assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
  });

  test('response headers: x-request-id, x-sluice-provider, x-sluice-model', PER_TEST, async () => {
    const { data, response, request_id } = await openai.chat.completions
      .create({ model: 'fast', messages: [{ role: 'user', content: 'headers' }] })
      .withResponse();
    assert.equal(data.model, 'gpt-4o-mini');
    const id = response.headers.get('x-request-id');
    assert.ok(id && id.length > 0, 'no x-request-id header');
    assert.equal(request_id, id);
    seenRequestIds.push(id);
    assert.equal(response.headers.get('x-sluice-provider'), 'upstream');
    assert.equal(response.headers.get('x-sluice-model'), 'gpt-4o-mini');

    // A client's own request id is kept, so agent and gateway logs can be joined on it.
    const own = await openai.chat.completions
      .create(
        { model: 'fast', messages: [{ role: 'user', content: 'my id' }] },
        { headers: { 'x-request-id': 'e2e-own-request-id-1' } },
      )
      .withResponse();
    assert.equal(own.response.headers.get('x-request-id'), 'e2e-own-request-id-1');
    seenRequestIds.push('e2e-own-request-id-1');
  });

  test('streamed chat completion: several chunks that add up to the reply', PER_TEST, async () => {
    const stream = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'Stream a few words back to me please.' }],
      stream: true,
    });
    const { chunks, content } = await collect(stream);
    assert.ok(chunks.length >= 2, `only ${chunks.length} chunk(s)`);
    assert.ok(content.length > 0, 'the deltas carry no content');
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, 'gpt-4o-mini');
    }
    assert.equal(chunks.at(-1).choices[0]?.finish_reason, 'stop');
    // The client did not ask for usage, so no usage chunk reaches it (OpenAI's behaviour).
    assert.deepEqual(
      chunks.filter((c) => c.usage),
      [],
      'a usage chunk reached a client that did not ask for one',
    );
  });

  test('stream with stream_options.include_usage ends with a usage chunk', PER_TEST, async () => {
    const stream = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'Count my tokens.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks, content } = await collect(stream);
    assert.ok(content.length > 0, 'the deltas carry no content');
    const last = chunks.at(-1);
    assert.ok(last.usage, `last chunk has no usage: ${JSON.stringify(last)}`);
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage.prompt_tokens > 0);
    assert.ok(last.usage.completion_tokens > 0);
    assert.equal(chunks.filter((c) => c.usage).length, 1, 'more than one usage chunk');
  });

  test('upstream gets the provider key and the physical model, never the agent key', PER_TEST, async () => {
    await openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'who am I' }] });
    const seen = await mock.requests();
    const last = seen.filter((r) => r.path.endsWith('/chat/completions')).at(-1);
    assert.ok(last, `the mock saw no chat request: ${JSON.stringify(seen).slice(0, 500)}`);
    assert.equal(last.method, 'POST');
    assert.equal(last.path, '/v1/chat/completions');
    const header = (name) =>
      Object.entries(last.headers).find(([k]) => k.toLowerCase() === name)?.[1];
    assert.equal(header('authorization'), 'Bearer sk-upstream-e2e-secret');
    assert.ok(!JSON.stringify(last.headers).includes(AGENT_KEY), 'the agent key went upstream');
    assert.equal(JSON.parse(last.body).model, 'gpt-4o-mini');
  });

  test('models.list returns the logical models the agent may use', PER_TEST, async () => {
    const ids = [];
    for await (const model of openai.models.list()) {
      assert.equal(model.object, 'model');
      ids.push(model.id);
    }
    assert.deepEqual(ids.sort(), ['embed', 'fast']);

    // An agent with an allow-list sees only its models.
    const limited = client(sluice.baseURL, HASHED_AGENT_KEY);
    const limitedIds = [];
    for await (const model of limited.models.list()) limitedIds.push(model.id);
    assert.deepEqual(limitedIds, ['fast']);
  });

  test('embeddings.create through a logical model', PER_TEST, async () => {
    // encoding_format is explicit: the SDK's default asks for base64, which this upstream
    // (tests/support's mock) does not produce.
    const result = await openai.embeddings.create({
      model: 'embed',
      input: 'a sentence to embed',
      encoding_format: 'float',
    });
    assert.equal(result.object, 'list');
    assert.equal(result.model, 'text-embedding-3-small');
    assert.equal(result.data.length, 1);
    assert.ok(Array.isArray(result.data[0].embedding), 'embedding is not an array');
    assert.ok(result.data[0].embedding.length > 0, 'empty embedding');
    for (const x of result.data[0].embedding) assert.equal(typeof x, 'number');
    assert.ok(result.usage.prompt_tokens > 0);
  });

  test('a key stored as sha256 (from `sluice hash-key`) authenticates', PER_TEST, async () => {
    const hashed = client(sluice.baseURL, HASHED_AGENT_KEY);
    const completion = await hashed.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'hashed key' }],
    });
    assert.equal(completion.model, 'gpt-4o-mini');
  });

  test('a model outside the agent allow-list → PermissionDeniedError (403)', PER_TEST, async () => {
    const hashed = client(sluice.baseURL, HASHED_AGENT_KEY);
    const err = await thrown(() => hashed.embeddings.create({ model: 'embed', input: 'x', encoding_format: 'float' }));
    assert.ok(err instanceof OpenAI.PermissionDeniedError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 403);
    assert.equal(err.type, 'permission_error');
  });

  test('a wrong key → AuthenticationError (401)', PER_TEST, async () => {
    const wrong = client(sluice.baseURL, 'sk-not-a-known-key');
    const err = await thrown(() =>
      wrong.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
    );
    assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 401);
    assert.equal(err.type, 'authentication_error');
    assert.ok(err.message.length > 0);
  });

  test('an unknown model → NotFoundError (404, model_not_found)', PER_TEST, async () => {
    const err = await thrown(() =>
      openai.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    );
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    assert.match(err.message, /no-such-model/);
  });

  test('an upstream reset before any byte → an API error (502), not a hang', PER_TEST, async () => {
    // Per-request behaviour header (sluice forwards it): every connection the attempt uses is
    // reset, including the fresh one sluice opens when a reused keep-alive connection fails.
    const err = await thrown(() =>
      openai.chat.completions.create(
        { model: 'fast', messages: [{ role: 'user', content: 'reset' }] },
        { headers: { 'x-mock-behavior': 'reset' } },
      ),
    );
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 502);
    assert.ok(
      err.type === 'upstream_error' || err.code === 'upstream_error',
      `type ${err.type}, code ${err.code}`,
    );
  });

  test("the provider's own error reaches the SDK as the provider said it", PER_TEST, async () => {
    const err = await thrown(() =>
      openai.chat.completions.create(
        { model: 'fast', messages: [{ role: 'user', content: 'bad' }] },
        { headers: { 'x-mock-behavior': 'status:400' } },
      ),
    );
    assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 400);
    assert.match(err.message, /mock provider failure/);
  });

  test('an upstream that never answers → 504 after first_byte (2s)', PER_TEST, async () => {
    await mock.control('hang', 1);
    const started = Date.now();
    const err = await thrown(() =>
      openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hang' }] }),
    );
    const waited = Date.now() - started;
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 504);
    assert.ok(waited >= 1500 && waited < 15000, `answered after ${waited} ms`);
  });

  test('a stream cut by the upstream ends in an error the SDK raises, not a silent truncation', PER_TEST, async () => {
    await mock.control('cut', 1);
    const stream = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'This stream will be cut by the provider in the middle.' }],
      stream: true,
    });
    const received = [];
    const err = await thrown(async () => {
      for await (const chunk of stream) received.push(chunk);
    });
    assert.ok(received.length >= 1, 'no chunk arrived before the cut');
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
  });

  test('the access log (stdout, JSON) records each request id', PER_TEST, async () => {
    assert.ok(seenRequestIds.length > 0);
    for (const id of seenRequestIds) {
      // The access log is flushed in batches (every 100ms), so wait for the line.
      const line = await sluice.child.waitForLine((l) => l.includes(id) && l, {
        streams: ['stdout'],
        timeoutMs: 5000,
        what: `an access log line with ${id}`,
      });
      let entry;
      assert.doesNotThrow(() => (entry = JSON.parse(line)), `not JSON: ${line}`);
      assert.equal(entry.request_id, id);
      assert.equal(entry.method, 'POST');
      assert.equal(entry.path, '/v1/chat/completions');
      assert.equal(entry.agent, 'e2e');
      assert.equal(entry.model, 'fast');
      assert.equal(entry.provider, 'upstream');
      assert.equal(entry.physical_model, 'gpt-4o-mini');
      assert.equal(entry.status, 200);
      assert.equal(entry.stream, false);
    }
    // The provider key is a secret: never in the access log or the process log.
    const all = sluice.child.lines.stdout.concat(sluice.child.lines.stderr).join('\n');
    assert.ok(!all.includes('sk-upstream-e2e-secret'), 'the provider api_key was logged');
    assert.ok(!all.includes(AGENT_KEY), 'an agent key was logged');
  });

  test('admin /metrics counts the SDK requests', PER_TEST, async () => {
    const res = await fetch(`${sluice.adminURL}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const lines = text.split('\n').filter((l) => l.startsWith('sluice_requests_total{') && l.includes('agent="e2e"'));
    assert.ok(lines.length > 0, `no sluice_requests_total{agent="e2e",...} in:\n${text.slice(0, 2000)}`);
    const total = lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    assert.ok(total >= 5, `sluice_requests_total for agent e2e is ${total}`);
  });

  test('SIGTERM: sluice drains and exits 0', PER_TEST, async () => {
    const { code, signal } = await sluice.stop();
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
  });
});

describe('OpenAI SDK → sluice with the built-in offline mock provider', () => {
  let sluice;
  let openai;

  before(async () => {
    sluice = await startSluice(configForBuiltinMock(), { E2E_KEY: AGENT_KEY });
    openai = client(sluice.baseURL);
  });

  after(async () => {
    await sluice?.stop();
  });

  test('chat completion echoes the last user message, with usage', PER_TEST, async () => {
    const completion = await openai.chat.completions.create({
      model: 'fast',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Echo this sentence back.' },
      ],
    });
    assert.equal(completion.model, 'mock-small');
    assert.equal(completion.choices[0].message.content, 'Echo this sentence back.');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.ok(completion.usage.prompt_tokens > 0);
    assert.ok(completion.usage.completion_tokens > 0);
  });

  test('streamed chat completion: chunks add up to the echoed message', PER_TEST, async () => {
    const stream = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'one two three four five' }],
      stream: true,
    });
    const { chunks, content } = await collect(stream);
    assert.ok(chunks.length >= 2, `only ${chunks.length} chunk(s)`);
    assert.equal(content, 'one two three four five');
    for (const chunk of chunks) assert.equal(chunk.model, 'mock-small');
    assert.deepEqual(
      chunks.filter((c) => c.usage),
      [],
    );
  });

  test('stream with include_usage ends with a usage chunk', PER_TEST, async () => {
    const stream = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'usage please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks, content } = await collect(stream);
    assert.equal(content, 'usage please');
    assert.ok(chunks.at(-1).usage, `last chunk: ${JSON.stringify(chunks.at(-1))}`);
    assert.ok(chunks.at(-1).usage.completion_tokens > 0);
  });

  test('embeddings: the SDK default (base64) decodes to the same vector as float', PER_TEST, async () => {
    const asFloat = await openai.embeddings.create({ model: 'embed', input: 'vector', encoding_format: 'float' });
    assert.equal(asFloat.model, 'mock-embedding');
    const expected = asFloat.data[0].embedding;
    assert.ok(Array.isArray(expected) && expected.length > 0, `float embedding: ${JSON.stringify(expected)}`);

    // What most SDK users run: no encoding_format, so the SDK asks for base64 and decodes it.
    const byDefault = await openai.embeddings.create({ model: 'embed', input: 'vector' });
    const got = byDefault.data[0].embedding;
    assert.equal(got.length, expected.length, `decoded ${JSON.stringify(got)} vs float ${JSON.stringify(expected)}`);
    got.forEach((x, i) => assert.ok(Math.abs(x - expected[i]) < 1e-6, `[${i}] ${x} vs ${expected[i]}`));
  });

  test('legacy completions and the Responses API echo the prompt', PER_TEST, async () => {
    const completion = await openai.completions.create({ model: 'fast', prompt: 'complete me' });
    assert.equal(completion.model, 'mock-small');
    assert.equal(completion.choices[0].text, 'complete me');

    const response = await openai.responses.create({ model: 'fast', input: 'respond to me' });
    assert.equal(response.model, 'mock-small');
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, 'respond to me');
  });

  test('models.list returns the logical models', PER_TEST, async () => {
    const page = await openai.models.list();
    assert.deepEqual(page.data.map((m) => m.id).sort(), ['embed', 'fast']);
  });

  test('errors keep OpenAI shapes: 401 and 404', PER_TEST, async () => {
    const wrong = client(sluice.baseURL, 'sk-wrong');
    const auth = await thrown(() => wrong.models.list());
    assert.ok(auth instanceof OpenAI.AuthenticationError, `got ${auth?.constructor?.name}: ${auth?.message}`);
    const missing = await thrown(() =>
      openai.chat.completions.create({ model: 'gpt-unknown', messages: [{ role: 'user', content: 'x' }] }),
    );
    assert.ok(missing instanceof OpenAI.NotFoundError, `got ${missing?.constructor?.name}: ${missing?.message}`);
    assert.equal(missing.code, 'model_not_found');
  });
});

// Two OpenAI-compatible upstreams behind one logical model, with the retry filter: a failure of
// the first is handled inside sluice, so the SDK (its own retries off) never sees it.
function configForFallback({ primaryBaseURL, secondaryBaseURL }) {
  return `# written by tests/e2e/openai_sdk.test.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  primary:
    type: openai
    base_url: ${primaryBaseURL}
    api_key: sk-primary-e2e
    timeouts: {connect: 2s, first_byte: 2s, idle: 2s, total: 20s}
  secondary:
    type: openai
    base_url: ${secondaryBaseURL}
    api_key: sk-secondary-e2e
    timeouts: {connect: 2s, first_byte: 2s, idle: 2s, total: 20s}
models:
  fast:
    strategy: priority
    targets:
      - {provider: primary, model: gpt-4o-mini}
      - {provider: secondary, model: gpt-4o}
agents:
  e2e:
    keys: ["\${E2E_KEY}"]
filters:
  - auth: {modes: [api_key]}
  - model_alias: {}
  - retry: {attempts: 3, retry_on: [connect_failure, reset, timeout, 5xx, 429], backoff: {base: 100ms, max: 2s}}
state:
  ledger: ""
`;
}

describe('OpenAI SDK → sluice (retry filter) → a failing provider and its fallback', () => {
  let primary;
  let secondary;
  let sluice;
  let openai;

  before(async () => {
    primary = await startMockProvider();
    secondary = await startMockProvider();
    const yaml = configForFallback({ primaryBaseURL: primary.baseURL, secondaryBaseURL: secondary.baseURL });
    sluice = await startSluice(yaml, { E2E_KEY: AGENT_KEY });
    openai = client(sluice.baseURL); // maxRetries: 0 — any retry here is sluice's
  });

  after(async () => {
    await sluice?.stop();
    await secondary?.stop();
    await primary?.stop();
  });

  test('a provider 500 falls back transparently: the call succeeds, served by the second provider', PER_TEST, async () => {
    await primary.control('status:500', 1);
    const { data, response } = await openai.chat.completions
      .create({ model: 'fast', messages: [{ role: 'user', content: 'fall back please' }] })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, 'gpt-4o', 'not the second provider’s physical model');
    assert.ok(data.choices[0].message.content.length > 0, 'empty content');
    assert.equal(response.headers.get('x-sluice-provider'), 'secondary');
    assert.equal(response.headers.get('x-sluice-attempts'), '2');
    assert.equal((await primary.requests()).length, 1);
    assert.equal((await secondary.requests()).length, 1);
  });

  test('a stream whose provider fails before its first token arrives whole from the second', PER_TEST, async () => {
    // (A 503, not a reset: on a kept-alive connection the pool re-sends once after a reset,
    // which would hide the failure from the retry filter.)
    await primary.control('status:503', 1);
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'fast', messages: [{ role: 'user', content: 'one two three four' }], stream: true })
      .withResponse();
    assert.equal(response.headers.get('x-sluice-provider'), 'secondary');
    const { chunks, content } = await collect(stream);
    assert.ok(chunks.length >= 2, `only ${chunks.length} chunks`);
    assert.ok(content.length > 0, 'the deltas add up to nothing');
    for (const chunk of chunks) assert.equal(chunk.model, 'gpt-4o');
  });
});
