// The agent frameworks people build with, using sluice's tools (DESIGN §5 "Tools"): the Vercel
// AI SDK (`ai` + `@ai-sdk/openai` pointed at sluice's /v1, tools from GET /v1/tools executed
// through POST /v1/tools/{name}; and `@ai-sdk/mcp`'s client on /mcp) and LangChain.js
// (`@langchain/openai` ChatOpenAI.bindTools with GET /v1/tools; `@langchain/mcp-adapters` on
// /mcp). One small loop each: the model (the mock provider behind sluice) calls the tool, the
// framework runs it through sluice, the model answers with the result.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createMCPClient } from '@ai-sdk/mcp';
import { createOpenAI } from '@ai-sdk/openai';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';

import { startMockProvider, startSluice } from './helpers.mjs';
import { callRestTool, openaiTools, weatherToolsConfig } from './tools_helpers.mjs';

const AGENT = 'sk-e2e-tools-frameworks';
const PER_TEST = { timeout: 30000 };

// What the mock's /tools/forecast answers for `args` (tests/support/mock/tool_endpoint.h).
const forecastResult = (args) => ({ tool: 'forecast', method: 'POST', arguments: args });

describe('agent frameworks with sluice tools', () => {
  let mock;
  let sluice;
  let mcpURL;
  let forecast; // GET /v1/tools's weather_forecast

  before(async () => {
    mock = await startMockProvider();
    sluice = await startSluice(weatherToolsConfig(`http://127.0.0.1:${mock.port}`), { AGENT_KEY: AGENT, OTHER_KEY: 'sk-unused' });
    mcpURL = `http://127.0.0.1:${sluice.port}/mcp`;
    forecast = (await openaiTools(sluice, AGENT)).find((t) => t.function.name === 'weather_forecast');
    assert.ok(forecast);
  });

  after(async () => {
    await sluice?.stop();
    await mock?.stop();
  });

  async function forecastCalls() {
    return (await mock.requests()).filter((r) => r.path === '/tools/forecast').map((r) => JSON.parse(r.body));
  }

  test('Vercel AI SDK: generateText with tools from GET /v1/tools, executed by POST /v1/tools', PER_TEST, async () => {
    const openai = createOpenAI({ baseURL: sluice.baseURL, apiKey: AGENT });
    const tools = {
      [forecast.function.name]: tool({
        description: forecast.function.description,
        inputSchema: jsonSchema(forecast.function.parameters),
        execute: async (args) => {
          const r = await callRestTool(sluice, AGENT, forecast.function.name, args);
          if (r.status !== 200) throw new Error(r.body?.error?.message ?? r.text);
          return r.body.result;
        },
      }),
    };
    const result = await generateText({
      model: openai.chat('fast'),
      tools,
      prompt: 'Kyiv',
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    assert.equal(result.steps.length, 2);
    assert.equal(result.steps[0].toolCalls[0].toolName, 'weather_forecast');
    assert.deepEqual(result.steps[0].toolResults[0].output, forecastResult({ city: 'Kyiv', days: 1 }));
    assert.equal(result.text, `[gpt-4o-mini] ${JSON.stringify(forecastResult({ city: 'Kyiv', days: 1 }))}`);
  });

  test('Vercel AI SDK: createMCPClient over Streamable HTTP on /mcp', PER_TEST, async () => {
    const client = await createMCPClient({
      transport: { type: 'http', url: mcpURL, headers: { Authorization: `Bearer ${AGENT}` } },
    });
    try {
      const tools = await client.tools();
      assert.deepEqual(Object.keys(tools).sort(), ['weather.alerts', 'weather.forecast']);
      const out = await tools['weather.forecast'].execute({ city: 'Dnipro', days: 2 }, { toolCallId: 't1', messages: [] });
      assert.equal(out.isError, false);
      assert.deepEqual(out.structuredContent, forecastResult({ city: 'Dnipro', days: 2 }));
      assert.deepEqual((await forecastCalls()).at(-1), { city: 'Dnipro', days: 2 });
    } finally {
      await client.close();
    }
  });

  test('LangChain.js: ChatOpenAI.bindTools with GET /v1/tools, the call by POST /v1/tools', PER_TEST, async () => {
    const model = new ChatOpenAI({
      model: 'fast',
      apiKey: AGENT,
      configuration: { baseURL: sluice.baseURL },
      maxRetries: 0,
    }).bindTools([forecast]);
    const question = new HumanMessage('Kharkiv');
    const ai = await model.invoke([question]);
    assert.ok(ai instanceof AIMessage);
    assert.equal(ai.tool_calls.length, 1);
    const call = ai.tool_calls[0];
    assert.equal(call.name, 'weather_forecast');
    assert.deepEqual(call.args, { city: 'Kharkiv', days: 1 });

    const r = await callRestTool(sluice, AGENT, call.name, call.args);
    assert.equal(r.status, 200, r.text);
    const final = await model.invoke([question, ai, new ToolMessage({ content: JSON.stringify(r.body.result), tool_call_id: call.id })]);
    assert.equal(final.content, `[gpt-4o-mini] ${JSON.stringify(forecastResult({ city: 'Kharkiv', days: 1 }))}`);
  });

  test('LangChain.js: @langchain/mcp-adapters tools from /mcp', PER_TEST, async () => {
    const client = new MultiServerMCPClient({
      mcpServers: {
        sluice: { transport: 'http', url: mcpURL, headers: { Authorization: `Bearer ${AGENT}` } },
      },
    });
    try {
      const tools = await client.getTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['weather.alerts', 'weather.forecast']);
      const out = await tools.find((t) => t.name === 'weather.forecast').invoke({ city: 'Poltava' });
      // The adapter hands back the text block, with the result's structuredContent beside it.
      assert.equal(out.type, 'text');
      assert.deepEqual(JSON.parse(out.text), forecastResult({ city: 'Poltava' }));
      assert.deepEqual(out.structuredContent, forecastResult({ city: 'Poltava' }));
    } finally {
      await client.close();
    }
  });
});
