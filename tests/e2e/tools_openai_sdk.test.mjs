// The official OpenAI npm SDK's function calling with sluice's tools (DESIGN §5 "Tools"):
// GET /v1/tools is passed as-is as `tools` to chat.completions.create, the model's tool call is
// executed through POST /v1/tools/{function name} with the arguments the model wrote, the result
// goes back as a `tool` message, and the model answers. The model is the mock provider behind
// sluice, which calls a tool when a request offers tools and answers in text once the last
// message is a tool result (tests/support/mock/tool_use.h); the tools are `type: http` tools the
// same mock serves under /tools/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { startMockProvider, startSluice } from './helpers.mjs';
import { callRestTool, openaiTools, weatherToolsConfig } from './tools_helpers.mjs';

const AGENT = 'sk-e2e-tools-openai';
const OTHER = 'sk-e2e-tools-other';
const PER_TEST = { timeout: 30000 };

describe('OpenAI SDK function calling with GET /v1/tools and POST /v1/tools/{name}', () => {
  let mock;
  let sluice;
  let openai;

  before(async () => {
    mock = await startMockProvider();
    sluice = await startSluice(weatherToolsConfig(`http://127.0.0.1:${mock.port}`), { AGENT_KEY: AGENT, OTHER_KEY: OTHER });
    openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: AGENT, maxRetries: 0, timeout: 20000 });
  });

  after(async () => {
    await sluice?.stop();
    await mock?.stop();
  });

  test('GET /v1/tools: OpenAI function tools, dots turned to underscores, per agent', PER_TEST, async () => {
    const tools = await openaiTools(sluice, AGENT);
    assert.deepEqual(tools.map((t) => t.function.name).sort(), ['weather_alerts', 'weather_forecast']);
    const forecast = tools.find((t) => t.function.name === 'weather_forecast');
    assert.equal(forecast.type, 'function');
    assert.equal(forecast.function.description, 'The weather for a city, day by day');
    assert.deepEqual(forecast.function.parameters.required, ['city']);
    assert.deepEqual(
      (await openaiTools(sluice, OTHER)).map((t) => t.function.name),
      ['weather_alerts'],
    );
  });

  test('the loop: tools → tool call → POST /v1/tools/{function name} → tool message → answer', PER_TEST, async () => {
    const tools = await openaiTools(sluice, AGENT);
    const messages = [{ role: 'user', content: 'Kyiv' }];
    const first = await openai.chat.completions.create({
      model: 'fast',
      messages,
      tools,
      tool_choice: { type: 'function', function: { name: 'weather_forecast' } },
    });
    // The mock received sluice's tools exactly as GET /v1/tools gave them.
    const sent = (await mock.lastRequest()).json;
    assert.deepEqual(sent.tools, tools);

    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'weather_forecast');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Kyiv', days: 1 });

    // The call, by its function name, with the arguments as the model wrote them.
    const executed = await callRestTool(sluice, AGENT, call.function.name, call.function.arguments);
    assert.equal(executed.status, 200, executed.text);
    assert.deepEqual(executed.body.result, { tool: 'forecast', method: 'POST', arguments: { city: 'Kyiv', days: 1 } });

    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify(executed.body.result) });
    const final = await openai.chat.completions.create({ model: 'fast', messages, tools });
    assert.equal(final.choices[0].finish_reason, 'stop');
    assert.equal(final.choices[0].message.content, `[gpt-4o-mini] ${JSON.stringify(executed.body.result)}`);
  });

  test('the same loop streamed: tool-call deltas assembled, then the call', PER_TEST, async () => {
    const tools = (await openaiTools(sluice, AGENT)).filter((t) => t.function.name === 'weather_forecast');
    const stream = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'Lviv tomorrow' }],
      tools,
      stream: true,
    });
    let name = '';
    let args = '';
    let finish = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      for (const d of choice.delta.tool_calls ?? []) {
        name += d.function?.name ?? '';
        args += d.function?.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(name, 'weather_forecast');
    assert.deepEqual(JSON.parse(args), { city: 'Lviv tomorrow', days: 2 });
    const executed = await callRestTool(sluice, AGENT, name, args);
    assert.equal(executed.status, 200, executed.text);
    assert.equal(executed.body.result.arguments.city, 'Lviv tomorrow');
  });

  test('runTools: the SDK’s own loop with functions that POST to /v1/tools', PER_TEST, async () => {
    const defs = (await openaiTools(sluice, AGENT)).filter((t) => t.function.name === 'weather_forecast');
    const calls = [];
    const runner = openai.chat.completions.runTools({
      model: 'fast',
      messages: [{ role: 'user', content: 'Odesa' }],
      tools: defs.map((t) => ({
        type: 'function',
        function: {
          ...t.function,
          parse: JSON.parse,
          function: async (args) => {
            calls.push(args);
            const r = await callRestTool(sluice, AGENT, t.function.name, args);
            return r.status === 200 ? r.body.result : r.body.error;
          },
        },
      })),
    });
    const answer = await runner.finalContent();
    assert.deepEqual(calls, [{ city: 'Odesa', days: 1 }]);
    assert.match(answer, /^\[gpt-4o-mini\] .*"city":"Odesa"/);
  });

  test('errors an agent sees from POST /v1/tools/{name} in OpenAI’s shape', PER_TEST, async () => {
    const unknown = await callRestTool(sluice, AGENT, 'no_such_tool', {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'tool_not_found');
    // weather.forecast exists, but not for `other`: the same error as a tool that does not.
    const forbidden = await callRestTool(sluice, OTHER, 'weather_forecast', { city: 'Kyiv' });
    assert.equal(forbidden.status, 404);
    assert.equal(forbidden.body.error.code, 'tool_not_found');

    const invalid = await callRestTool(sluice, AGENT, 'weather_forecast', { days: 3 });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'invalid_arguments');
    assert.match(invalid.body.error.message, /city/);

    await mock.control('status:500', 1, '/tools');
    const failed = await callRestTool(sluice, AGENT, 'weather.alerts', { region: 'north' });
    assert.equal(failed.status, 502);
    assert.equal(failed.body.error.code, 'tool_error');

    const noKey = await fetch(`${sluice.baseURL}/tools`);
    assert.equal(noKey.status, 401);
  });
});
