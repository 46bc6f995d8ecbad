// The official Anthropic npm SDK's tool use with sluice's tools (DESIGN §5 "Tools"): the OpenAI
// function tools of GET /v1/tools become Anthropic tools ({name, description, input_schema} —
// the function names, which have no dots, fit Anthropic's name rules), the model's tool_use block
// is executed through POST /v1/tools/{name} with its input, and the result goes back as a
// tool_result. The model is an `anthropic`-type provider: the mock provider behind sluice, which
// answers tool_use when a request offers tools (tests/support/mock/tool_use.h).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';

import { startMockProvider, startSluice } from './helpers.mjs';
import { callRestTool, openaiTools } from './tools_helpers.mjs';

const AGENT = 'sk-e2e-tools-anthropic';
const PHYSICAL = 'claude-physical-e2e';
const PER_TEST = { timeout: 30000 };

function config(mock) {
  return `# written by tests/e2e/tools_anthropic_sdk.test.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  claude: {type: anthropic, base_url: ${mock.baseURL}, api_key: sk-ant-upstream}
models:
  claude:
    targets: [{provider: claude, model: ${PHYSICAL}}]
agents:
  agent:
    keys: ["\${AGENT_KEY}"]
    tools: ["weather.*"]
filters:
  - auth: {modes: [api_key]}
  - model_alias: {}
tools:
  weather.forecast:
    type: http
    description: The weather for a city, day by day
    url: http://127.0.0.1:${mock.port}/tools/forecast
    input_schema:
      type: object
      properties:
        city: {type: string}
        days: {type: integer, minimum: 1, maximum: 7}
      required: [city]
state: {ledger: ""}
access_log: {path: ""}
`;
}

describe('Anthropic SDK tool use with GET /v1/tools and POST /v1/tools/{name}', () => {
  let mock;
  let sluice;
  let anthropic;

  before(async () => {
    mock = await startMockProvider();
    sluice = await startSluice(config(mock), { AGENT_KEY: AGENT });
    anthropic = new Anthropic({ baseURL: `http://127.0.0.1:${sluice.port}`, apiKey: AGENT, maxRetries: 0, timeout: 20000 });
  });

  after(async () => {
    await sluice?.stop();
    await mock?.stop();
  });

  test('tools → tool_use → POST /v1/tools/{name} → tool_result → answer', PER_TEST, async () => {
    const tools = (await openaiTools(sluice, AGENT)).map(({ function: f }) => ({
      name: f.name,
      description: f.description,
      input_schema: f.parameters,
    }));
    const question = { role: 'user', content: 'Kyiv' };
    const first = await anthropic.messages.create({ model: 'claude', max_tokens: 256, tools, messages: [question] });
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    assert.equal(use.name, 'weather_forecast');
    assert.deepEqual(use.input, { city: 'Kyiv', days: 1 });

    const executed = await callRestTool(sluice, AGENT, use.name, use.input);
    assert.equal(executed.status, 200, executed.text);
    const result = JSON.stringify(executed.body.result);

    const final = await anthropic.messages.create({
      model: 'claude',
      max_tokens: 256,
      tools,
      messages: [
        question,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: result }] },
      ],
    });
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.content[0].type, 'text');
    assert.equal(final.content[0].text, `[${PHYSICAL}] ${result}`);
  });
});
