// Any client to any model (issue 12): the official OpenAI SDK asking for a model served by an
// `anthropic`-type provider, and the official Anthropic SDK asking for a model served by an
// `openai`-type provider, through sluice and the anthropic plugin (plugins/anthropic, a .so),
// against tests/support's mock provider in `strict` mode (it refuses what the real APIs refuse:
// an unknown field, a tool result that answers no call, ...). Each test asserts what the SDK
// gets back and what the provider received — the translation's output as the provider saw it.
//
// Every test that needs an anthropic-type provider or a translation waits on plugins/anthropic
// (the core wiring is on main): while <build>/plugins/libsluice_anthropic.so is not built they
// run as `todo` (their failures are reported, not counted). The baseline suite — each SDK
// against a provider of its own dialect, no translation — proves the mock's tool calls, error
// events and usage are what the official SDKs parse, so a failure of a translated test points
// at the translation; its OpenAI half runs now.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { sluiceBinary, startMockProvider, startSluice } from './helpers.mjs';

const AGENT_KEY = 'sk-e2e-translation-agent';
const ANTHROPIC_KEY = 'sk-ant-upstream-translation-secret';
const OPENAI_KEY = 'sk-openai-upstream-translation-secret';
const CLAUDE = 'claude-physical-e2e'; // model `claude` → anthropic-type provider
const GPT = 'gpt-physical-e2e'; // model `gpt` → openai-type provider

// The plugin sits next to the sluice binary the helpers run (<build>/plugins/).
const PLUGIN = process.env.SLUICE_ANTHROPIC_PLUGIN || join(dirname(sluiceBinary), 'plugins', 'libsluice_anthropic.so');
const HAVE_PLUGIN = existsSync(PLUGIN);
const WAITS = HAVE_PLUGIN ? false : `waits on plugins/anthropic (issue 12): ${PLUGIN} is not built`;
const PER_TEST = { timeout: 20000 };
const TRANSLATED = { ...PER_TEST, todo: WAITS };

// One tool, in each SDK's shape, with a schema whose arguments the mock derives from the prompt
// (tests/support/mock/tool_use.h): string → the prompt, integer → its word count, enum → the
// first value.
const WEATHER_SCHEMA = {
  type: 'object',
  properties: {
    city: { type: 'string', description: 'City name' },
    days: { type: 'integer' },
    units: { type: 'string', enum: ['celsius', 'fahrenheit'] },
  },
  required: ['city'],
};
const OPENAI_TOOLS = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather forecast', parameters: WEATHER_SCHEMA } },
];
const ANTHROPIC_TOOLS = [{ name: 'get_weather', description: 'Weather forecast', input_schema: WEATHER_SCHEMA }];
const expectedArgs = (prompt) => ({ city: prompt, days: prompt.split(/\s+/).filter(Boolean).length, units: 'celsius' });

// Without the plugin a config naming `type: anthropic` does not load at all, so until it is
// built the claude provider and its models are left out (their tests, todo, then get 404).
function config(mockBaseURL) {
  const timeouts = '{connect: 2s, first_byte: 5s, idle: 5s, total: 15s}';
  const claude = HAVE_PLUGIN
    ? {
        plugins: `plugins:\n  anthropic: {file: ${JSON.stringify(PLUGIN)}}\n`,
        provider: `  claude_up:
    type: anthropic
    base_url: ${mockBaseURL}
    api_key: ${ANTHROPIC_KEY}
    timeouts: ${timeouts}
`,
        models: `  claude:
    targets:
      - {provider: claude_up, model: ${CLAUDE}}
  claude_or_gpt:
    targets:
      - {provider: claude_up, model: ${CLAUDE}}
    fallbacks: [gpt]
`,
      }
    : { plugins: '', provider: '', models: '' };
  return `# written by tests/e2e/translation.test.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
${claude.plugins}providers:
${claude.provider}  openai_up:
    type: openai
    base_url: ${mockBaseURL}
    api_key: ${OPENAI_KEY}
    timeouts: ${timeouts}
models:
${claude.models}  gpt:
    targets:
      - {provider: openai_up, model: ${GPT}}
agents:
  e2e:
    keys: ["\${E2E_KEY}"]
filters:
  - auth: {modes: [api_key]}
  - model_alias: {}
  - retry: {attempts: 2, backoff: {base: 5ms, max: 20ms}, fallback: true}
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

// The text of an Anthropic `system` or `content`: a string, or its text blocks joined.
const anthropicText = (v) => (typeof v === 'string' ? v : (v ?? []).filter((b) => b.type === 'text').map((b) => b.text).join(''));
// The text of an OpenAI message `content`: a string, or its text parts joined.
const openaiText = (v) => (typeof v === 'string' ? v : (v ?? []).filter((p) => p.type === 'text').map((p) => p.text).join(''));

let mock;
let sluice;
let openai;
let anthropic;

before(async () => {
  mock = await startMockProvider({ behavior: 'strict' });
  sluice = await startSluice(config(mock.baseURL), { E2E_KEY: AGENT_KEY });
  // No SDK retries: a test must see what sluice answered the first time.
  openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: AGENT_KEY, maxRetries: 0, timeout: 15000 });
  anthropic = new Anthropic({ baseURL: `http://127.0.0.1:${sluice.port}`, apiKey: AGENT_KEY, maxRetries: 0, timeout: 15000 });
});

// Rules a failed test left queued must not steer the next one.
beforeEach(async () => {
  await mock?.reset();
});

after(async () => {
  await sluice?.stop();
  await mock?.stop();
});

// The statuses the mock answered on `path` since the last reset, in order.
async function attempts(path) {
  return (await mock.requests()).filter((r) => r.path === path).map((r) => r.reply_status);
}

// What every request that reached a provider must show: its own key, never the agent's.
function assertProviderAuth(seen, dialect) {
  if (dialect === 'anthropic') {
    assert.equal(seen.path, '/v1/messages');
    assert.equal(seen.headers['x-api-key'], ANTHROPIC_KEY);
    assert.equal(seen.headers['anthropic-version'], '2023-06-01');
    assert.equal(seen.headers.authorization, undefined);
  } else {
    assert.equal(seen.path, '/v1/chat/completions');
    assert.equal(seen.headers.authorization, `Bearer ${OPENAI_KEY}`);
    assert.equal(seen.headers['x-api-key'], undefined);
  }
  assert.ok(!JSON.stringify(seen.headers).includes(AGENT_KEY), 'the agent key went upstream');
}

describe('baseline: each SDK against a provider of its own dialect (no translation)', () => {
  test('OpenAI SDK → gpt: tool call round trip and streamed tool calls', PER_TEST, async () => {
    const prompt = 'Weather in Lisbon';
    const first = await openai.chat.completions.create({
      model: 'gpt',
      messages: [{ role: 'user', content: prompt }],
      tools: OPENAI_TOOLS,
    });
    const call = first.choices[0].message.tool_calls?.[0];
    assert.equal(first.choices[0].finish_reason, 'tool_calls');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), expectedArgs(prompt));

    const stream = openai.chat.completions.stream({
      model: 'gpt',
      messages: [
        { role: 'user', content: prompt },
        first.choices[0].message,
        { role: 'tool', tool_call_id: call.id, content: 'sunny, 21C' },
      ],
      tools: OPENAI_TOOLS,
    });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].message.content, `[${GPT}] sunny, 21C`);

    await mock.control('arg_chunk:3', 1, '/v1/chat');
    const streamed = await openai.chat.completions
      .stream({ model: 'gpt', messages: [{ role: 'user', content: prompt }], tools: OPENAI_TOOLS })
      .finalChatCompletion();
    const args = streamed.choices[0].message.tool_calls[0].function.arguments;
    assert.deepEqual(JSON.parse(args), expectedArgs(prompt));
  });

  // An anthropic-type provider is the plugin's too (native /v1/messages): it waits as well.
  test('Anthropic SDK → claude: streamed tool_use, and an error event mid-stream', TRANSLATED, async () => {
    const prompt = 'Weather in Oslo';
    await mock.control('tool_preamble,arg_chunk:4', 1, '/v1/messages');
    const message = await anthropic.messages
      .stream({ model: 'claude', max_tokens: 256, messages: [{ role: 'user', content: prompt }], tools: ANTHROPIC_TOOLS })
      .finalMessage();
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal(message.content[0].text, 'Let me call get_weather.');
    assert.equal(message.content[1].type, 'tool_use');
    assert.deepEqual(message.content[1].input, expectedArgs(prompt));

    await mock.control('error_event', 1, '/v1/messages');
    const err = await thrown(() =>
      anthropic.messages.stream({ model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'a b c' }] }).finalMessage(),
    );
    assert.ok(err instanceof Anthropic.APIError, `got ${err}`);
    assert.equal(err.error?.error?.type, 'overloaded_error');
  });
});

describe('OpenAI SDK → claude (an anthropic-type provider, translated by the plugin)', () => {
  test('chat completion: content, usage with cache tokens, and what Anthropic received', TRANSLATED, async () => {
    await mock.control('cached:900,cache_write:100', 1, '/v1/messages');
    const completion = await openai.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello from the openai sdk' },
      ],
    });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, CLAUDE);
    assert.equal(completion.choices[0].message.role, 'assistant');
    assert.equal(completion.choices[0].message.content, `[${CLAUDE}] hello from the openai sdk`);
    assert.equal(completion.choices[0].finish_reason, 'stop');
    // Anthropic's input_tokens is the uncached rest: OpenAI's prompt_tokens counts all three.
    assert.ok(completion.usage.prompt_tokens >= 1001, `prompt_tokens ${completion.usage.prompt_tokens}`);
    assert.equal(completion.usage.prompt_tokens_details?.cached_tokens, 900);
    assert.equal(completion.usage.completion_tokens, 6); // one per word of the reply
    assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);

    const seen = await mock.lastRequest();
    assertProviderAuth(seen, 'anthropic');
    assert.equal(seen.reply_status, 200, `the mock refused the translation: ${seen.reply_body}`);
    assert.equal(seen.json.model, CLAUDE);
    assert.equal(anthropicText(seen.json.system), 'Be brief.', 'the system prompt goes in `system`');
    assert.deepEqual(seen.json.messages.map((m) => m.role), ['user']);
    assert.equal(anthropicText(seen.json.messages[0].content), 'hello from the openai sdk');
    assert.ok(Number.isInteger(seen.json.max_tokens) && seen.json.max_tokens >= 1, 'max_tokens has a default');
    assert.equal(seen.json.stream ?? false, false);
  });

  test('stream: deltas add up, the usage chunk only when asked', TRANSLATED, async () => {
    const ask = (extra) =>
      openai.chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: 'stream these words back' }],
        stream: true,
        ...extra,
      });
    let content = '';
    const chunks = [];
    for await (const chunk of await ask({ stream_options: { include_usage: true } })) {
      chunks.push(chunk);
      content += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(content, `[${CLAUDE}] stream these words back`);
    assert.ok(chunks.length > 3, `${chunks.length} chunks`);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, CLAUDE);
    }
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    assert.equal(finish?.choices[0].finish_reason, 'stop');
    const usage = chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.ok(usage.usage.prompt_tokens > 0);
    assert.equal(usage.usage.completion_tokens, 5);

    const seen = await mock.lastRequest();
    assertProviderAuth(seen, 'anthropic');
    assert.equal(seen.json.stream, true);
    assert.equal(seen.json.stream_options, undefined, 'stream_options is not an Anthropic field');

    const plain = [];
    for await (const chunk of await ask({})) plain.push(chunk);
    assert.ok(plain.every((c) => !c.usage), 'a usage chunk the client did not ask for');
  });

  test('tool call round trip: tool_calls out, the tool result back as a tool_result block', TRANSLATED, async () => {
    const prompt = 'Weather in Paris';
    const messages = [{ role: 'user', content: prompt }];
    const first = await openai.chat.completions.create({ model: 'claude', messages, tools: OPENAI_TOOLS });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls?.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.ok(call.id.length > 0);
    assert.deepEqual(JSON.parse(call.function.arguments), expectedArgs(prompt));

    let seen = await mock.lastRequest();
    assert.equal(seen.reply_status, 200, `the mock refused the translation: ${seen.reply_body}`);
    assert.deepEqual(
      seen.json.tools.map(({ name, description, input_schema }) => ({ name, description, input_schema })),
      ANTHROPIC_TOOLS,
      'tools in Anthropic\'s shape',
    );
    const toolUse = JSON.parse(seen.reply_body).content.find((b) => b.type === 'tool_use');
    assert.equal(call.id, toolUse.id, 'the tool call id is the tool_use id');

    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21C' });
    const second = await openai.chat.completions.create({ model: 'claude', messages, tools: OPENAI_TOOLS });
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.equal(second.choices[0].message.content, `[${CLAUDE}] sunny, 21C`);

    seen = await mock.lastRequest();
    assert.equal(seen.reply_status, 200, `the mock refused the translation: ${seen.reply_body}`);
    const [user, assistant, result] = seen.json.messages;
    assert.equal(user.role, 'user');
    assert.equal(assistant.role, 'assistant');
    const sentUse = assistant.content.find((b) => b.type === 'tool_use');
    assert.equal(sentUse?.id, call.id, JSON.stringify(assistant.content));
    assert.equal(sentUse.name, 'get_weather');
    assert.deepEqual(sentUse.input, expectedArgs(prompt), 'the arguments go back as a parsed object');
    assert.equal(result.role, 'user');
    const block = result.content.find((b) => b.type === 'tool_result');
    assert.equal(block.tool_use_id, call.id);
    assert.equal(anthropicText(block.content), 'sunny, 21C');
  });

  test('streamed tool calls: two calls after some text, assembled from many deltas', TRANSLATED, async () => {
    const prompt = 'Weather in Rome';
    const tools = [...OPENAI_TOOLS, { type: 'function', function: { name: 'noop', parameters: { type: 'object' } } }];
    await mock.control('tool_calls:2,tool_preamble,arg_chunk:3', 1, '/v1/messages');
    const stream = await openai.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: prompt }],
      tools,
      stream: true,
      stream_options: { include_usage: true },
    });
    const calls = [];
    let content = '';
    let finish;
    let usage;
    let argumentDeltas = 0;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      content += choice.delta?.content ?? '';
      if (choice.finish_reason) finish = choice.finish_reason;
      for (const tc of choice.delta?.tool_calls ?? []) {
        calls[tc.index] ??= { id: '', name: '', arguments: '' };
        if (tc.id) calls[tc.index].id = tc.id;
        if (tc.function?.name) calls[tc.index].name = tc.function.name;
        if (tc.function?.arguments) {
          calls[tc.index].arguments += tc.function.arguments;
          argumentDeltas++;
        }
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(content, 'Let me call get_weather.');
    assert.equal(calls.length, 2, JSON.stringify(calls));
    assert.equal(calls[0].name, 'get_weather');
    assert.deepEqual(JSON.parse(calls[0].arguments), expectedArgs(prompt));
    assert.equal(calls[1].name, 'noop');
    assert.deepEqual(JSON.parse(calls[1].arguments), { input: prompt });
    assert.notEqual(calls[0].id, calls[1].id);
    assert.ok(argumentDeltas > 10, `${argumentDeltas} argument deltas: the stream was not relayed as it came`);
    assert.ok(usage?.completion_tokens > 0, 'no usage chunk');

    // The ids are the provider's tool_use ids.
    const seen = await mock.lastRequest();
    assert.match(seen.reply_body, new RegExp(`"id":"${calls[0].id}"`));
  });

  test('the provider overloaded (529): an APIError ≥ 500; with a fallback, gpt answers', TRANSLATED, async () => {
    await mock.control('status:529', 2, '/v1/messages');
    const err = await thrown(() =>
      openai.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }),
    );
    assert.ok(err instanceof OpenAI.APIError, `got ${err}`);
    // Both attempts failed and no candidate is left: 503 all_providers_unavailable (policies.md).
    assert.equal(err.status, 503, `status ${err.status}`);
    assert.ok(err.error?.message, 'an OpenAI-shaped error body');
    assert.deepEqual(await attempts('/v1/messages'), [529, 529], 'two attempts reached the provider');

    await mock.control('status:529', 1, '/v1/messages');
    const { data, response } = await openai.chat.completions
      .create({ model: 'claude_or_gpt', messages: [{ role: 'user', content: 'fall back please' }] })
      .withResponse();
    assert.equal(data.choices[0].message.content, `[${GPT}] fall back please`);
    assert.equal(response.headers.get('x-sluice-provider'), 'openai_up');
    assert.equal(response.headers.get('x-sluice-attempts'), '2');

    await mock.control('status:429', 1, '/v1/messages'); // retry-after: 1 > backoff.max: next candidate
    const fell = await openai.chat.completions.create({
      model: 'claude_or_gpt',
      messages: [{ role: 'user', content: 'rate limited' }],
    });
    assert.equal(fell.model, GPT);
  });
});

describe('Anthropic SDK → gpt (an openai-type provider, translated by the plugin)', () => {
  test('messages.create: text, usage, and what OpenAI received', TRANSLATED, async () => {
    const message = await anthropic.messages.create({
      model: 'gpt',
      max_tokens: 300,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hello from the anthropic sdk' }],
    });
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, GPT);
    assert.equal(message.content.length, 1);
    assert.equal(message.content[0].type, 'text');
    assert.equal(message.content[0].text, `[${GPT}] hello from the anthropic sdk`);
    assert.equal(message.stop_reason, 'end_turn');
    assert.ok(message.usage.input_tokens > 0);
    assert.equal(message.usage.output_tokens, 6);

    const seen = await mock.lastRequest();
    assertProviderAuth(seen, 'openai');
    assert.equal(seen.reply_status, 200, `the mock refused the translation: ${seen.reply_body}`);
    assert.equal(seen.json.model, GPT);
    assert.deepEqual(
      seen.json.messages.map((m) => [m.role, openaiText(m.content)]),
      [
        ['system', 'Be brief.'],
        ['user', 'hello from the anthropic sdk'],
      ],
    );
    assert.equal(seen.json.max_tokens ?? seen.json.max_completion_tokens, 300);
  });

  test('messages.stream: text deltas, the final message with usage', TRANSLATED, async () => {
    const stream = anthropic.messages.stream({
      model: 'gpt',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'stream these words back' }],
    });
    const deltas = [];
    stream.on('text', (text) => deltas.push(text));
    const message = await stream.finalMessage();
    assert.equal(deltas.join(''), `[${GPT}] stream these words back`);
    assert.ok(deltas.length > 1);
    assert.equal(message.content[0].text, deltas.join(''));
    assert.equal(message.stop_reason, 'end_turn');
    assert.ok(message.usage.input_tokens > 0, 'input_tokens from the usage chunk');
    assert.equal(message.usage.output_tokens, 5);

    const seen = await mock.lastRequest();
    assertProviderAuth(seen, 'openai');
    assert.equal(seen.json.stream, true);
    assert.equal(seen.json.stream_options?.include_usage, true, 'the translation asks for usage');
  });

  test('tool use round trip: a tool_use block out, the tool_result back as a tool message', TRANSLATED, async () => {
    const prompt = 'Weather in Madrid';
    const messages = [{ role: 'user', content: prompt }];
    const first = await anthropic.messages.create({ model: 'gpt', max_tokens: 256, messages, tools: ANTHROPIC_TOOLS });
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    assert.ok(use, JSON.stringify(first.content));
    assert.equal(use.name, 'get_weather');
    assert.deepEqual(use.input, expectedArgs(prompt));

    let seen = await mock.lastRequest();
    assert.equal(seen.reply_status, 200, `the mock refused the translation: ${seen.reply_body}`);
    assert.deepEqual(
      seen.json.tools.map(({ type, function: { name, description, parameters } }) => ({
        type,
        function: { name, description, parameters },
      })),
      OPENAI_TOOLS,
      'tools in OpenAI\'s shape',
    );
    const sentCall = JSON.parse(seen.reply_body).choices[0].message.tool_calls[0];
    assert.equal(use.id, sentCall.id, 'the tool_use id is the tool call id');

    messages.push(
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 21C' }] },
    );
    const second = await anthropic.messages.create({ model: 'gpt', max_tokens: 256, messages, tools: ANTHROPIC_TOOLS });
    assert.equal(second.stop_reason, 'end_turn');
    assert.equal(second.content[0].text, `[${GPT}] sunny, 21C`);

    seen = await mock.lastRequest();
    assert.equal(seen.reply_status, 200, `the mock refused the translation: ${seen.reply_body}`);
    const [user, assistant, tool] = seen.json.messages;
    assert.equal(user.role, 'user');
    assert.equal(assistant.role, 'assistant');
    assert.equal(assistant.tool_calls?.[0]?.id, use.id);
    assert.equal(assistant.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(assistant.tool_calls[0].function.arguments), expectedArgs(prompt));
    assert.equal(tool.role, 'tool');
    assert.equal(tool.tool_call_id, use.id);
    assert.equal(openaiText(tool.content), 'sunny, 21C');
  });

  test('streamed tool_use: input_json deltas, finalMessage has the parsed input', TRANSLATED, async () => {
    const prompt = 'Weather in Vienna';
    await mock.control('arg_chunk:2', 1, '/v1/chat');
    const stream = anthropic.messages.stream({
      model: 'gpt',
      max_tokens: 256,
      messages: [{ role: 'user', content: prompt }],
      tools: ANTHROPIC_TOOLS,
    });
    const partials = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const message = await stream.finalMessage();
    assert.equal(message.stop_reason, 'tool_use');
    const use = message.content.find((b) => b.type === 'tool_use');
    assert.ok(use, JSON.stringify(message.content));
    assert.equal(use.name, 'get_weather');
    assert.ok(use.id.length > 0);
    assert.deepEqual(use.input, expectedArgs(prompt));
    assert.equal(partials.join(''), JSON.stringify(expectedArgs(prompt)));
    assert.ok(partials.length > 10, `${partials.length} input_json deltas`);
    assert.ok(message.usage.output_tokens > 0);
  });

  test('the provider fails (503 twice): an Anthropic-shaped APIError', TRANSLATED, async () => {
    await mock.control('status:503', 2, '/v1/chat');
    const err = await thrown(() =>
      anthropic.messages.create({ model: 'gpt', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }),
    );
    assert.ok(err instanceof Anthropic.APIError, `got ${err}`);
    assert.deepEqual(await attempts('/v1/chat/completions'), [503, 503], 'two attempts reached the provider');
    assert.equal(err.status, 503);
    assert.equal(err.error?.type, 'error');
    assert.equal(err.error?.error?.type, 'api_error');
  });
});
