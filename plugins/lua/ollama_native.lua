-- ollama_native: a provider type for Ollama's native chat API (POST /api/chat), written in Lua.
-- It is the reference for provider plugins: sdk/lua/README.md "Providers" has the API, and
-- docs/plugins.md "Write a provider in Lua" walks through writing one.
--
--   plugins:
--     ollama_native: {file: ../plugins/lua/ollama_native.lua}
--   providers:
--     local:
--       type: ollama_native                 # the plugins: key is the provider type
--       base_url: http://127.0.0.1:11434    # the default; without /v1 (this is not its OpenAI API)
--       config: {keep_alive: 10m, options: {num_ctx: 8192}}
--   models:
--     fast: {targets: [{provider: local, model: "qwen3:8b"}]}
--
-- Agents keep speaking OpenAI's chat completions. sluice calls transform_request to build
-- Ollama's request, sends it (pool, TLS, timeouts, retries and accounting are sluice's), and
-- hands each answer back: the whole JSON to transform_response, or each line of the NDJSON
-- stream to transform_chunk. Ollama's token counts (prompt_eval_count, eval_count) become the
-- usage sluice charges.
--
-- Why the native API when `type: openai` reaches Ollama's /v1 too? It takes what the OpenAI
-- layer drops: options such as num_ctx, keep_alive, `think` for thinking models.
--
-- What it translates:
--   request  messages (system/developer, user, assistant with tool_calls, tool results),
--            images as data: URLs → base64 `images`, tools, response_format → format,
--            temperature/top_p/seed/stop/max_tokens/penalties → options, stream
--   answer   message.content (+ thinking), tool_calls (arguments as JSON text),
--            done_reason → finish_reason, counts → usage
--   stream   one chunk per line: the role first, content deltas, tool calls, and the
--            finish_reason chunk on `done: true` (whose counts are the usage)
--   errors   {"error": "..."} → OpenAI's {"error": {"message", "type", ...}}

local json = sluice.json
-- JSON null decodes to sluice.json.null, a value (and a true one in Lua): `present` tells it
-- from a real value.
local null = json.null

local plugin = {
  name = "ollama_native",
  version = "1.0.0",
  stream = "ndjson", -- Ollama streams one JSON document per line
  default_base_url = "http://127.0.0.1:11434",
  -- Checked at load against each provider's `config:` (over the plugins: entry's `config:`).
  schema = {
    keep_alive = { type = "string" }, -- how long Ollama keeps the model loaded: "10m", "-1"
    options = { type = "table" }, -- Ollama options for every request: {num_ctx = 8192}
    think = { type = "boolean" }, -- thinking models: ask for thinking (or turn it off)
  },
}

local function present(v)
  return v ~= nil and v ~= null
end

-- Field paths in refusals are 0-based like the JSON the client sent: messages[2].content[0].
local function at(path, i)
  return path .. "[" .. (i - 1) .. "]"
end

---------------------------------------------------------------------------------------------
-- The request: OpenAI chat → Ollama /api/chat
---------------------------------------------------------------------------------------------

local ROLES = { system = "system", developer = "system", user = "user", assistant = "assistant", tool = "tool" }

-- A message's content (a string, or a list of text and image parts) → Ollama's text and its
-- base64 images; or nil and a refusal naming the part.
local function convert_content(content, path)
  if not present(content) then
    return ""
  end
  if type(content) == "string" then
    return content
  end
  if type(content) ~= "table" then
    return nil, path .. ": must be a string or a list of content parts"
  end
  local texts, images = {}, json.array()
  for j, part in ipairs(content) do
    local where = at(path, j)
    if part.type == "text" then
      texts[#texts + 1] = part.text
    elseif part.type == "image_url" then
      local url = type(part.image_url) == "table" and part.image_url.url or part.image_url
      local data = type(url) == "string" and url:match("^data:image/[%w.+-]+;base64,(.+)$")
      if not data then
        return nil, where .. ".image_url.url: ollama_native takes images as data: URLs (base64)"
      end
      images[#images + 1] = data
    else
      return nil, where .. '.type: "' .. tostring(part.type) .. '" has no Ollama equivalent'
    end
  end
  return table.concat(texts, "\n"), images
end

-- An assistant message's OpenAI tool calls → Ollama's (arguments as an object, not JSON text).
-- `names` learns each call's id, for the tool results that answer it.
local function convert_tool_calls_out(calls, path, names)
  local out = json.array()
  for j, call in ipairs(calls) do
    local fn = type(call["function"]) == "table" and call["function"] or {}
    local args = fn.arguments
    if type(args) == "string" then
      args = args == "" and {} or json.decode(args)
      if type(args) ~= "table" then
        return nil, at(path, j) .. ".function.arguments: not a JSON object"
      end
    end
    out[#out + 1] = { ["function"] = { name = fn.name, arguments = args or {} } }
    if present(call.id) then
      names[call.id] = fn.name
    end
  end
  return out
end

local function convert_messages(messages)
  if type(messages) ~= "table" or #messages == 0 then
    return nil, "messages: required, a non-empty list"
  end
  local out = json.array()
  local tool_names = {} -- tool_call_id → the function it called (Ollama's tool_name)
  for i, m in ipairs(messages) do
    local path = at("messages", i)
    local role = ROLES[m.role]
    if not role then
      return nil, path .. '.role: "' .. tostring(m.role) .. '" is not a chat role'
    end
    local text, images = convert_content(m.content, path .. ".content")
    if not text then
      return nil, images -- the refusal
    end
    local msg = { role = role, content = text }
    if images and #images > 0 then
      msg.images = images
    end
    if role == "assistant" and present(m.tool_calls) then
      local calls, err = convert_tool_calls_out(m.tool_calls, path .. ".tool_calls", tool_names)
      if not calls then
        return nil, err
      end
      msg.tool_calls = calls
    end
    if role == "tool" and present(m.tool_call_id) then
      msg.tool_name = tool_names[m.tool_call_id]
    end
    out[#out + 1] = msg
  end
  return out
end

local function convert_tools(tools)
  if not present(tools) then
    return nil
  end
  local out = json.array()
  for i, t in ipairs(tools) do
    if t.type ~= "function" or type(t["function"]) ~= "table" then
      return nil, at("tools", i) .. '.type: only "function" tools reach Ollama'
    end
    out[#out + 1] = { type = "function", ["function"] = t["function"] }
  end
  return out
end

-- Sampling parameters → Ollama's options, over the provider's configured options.
local function convert_options(body, config)
  local options = {}
  for k, v in pairs(config.options or {}) do
    options[k] = v
  end
  local max_tokens = present(body.max_completion_tokens) and body.max_completion_tokens or body.max_tokens
  if present(max_tokens) then
    options.num_predict = max_tokens
  end
  if type(body.stop) == "string" then
    options.stop = { body.stop }
  elseif present(body.stop) then
    options.stop = body.stop
  end
  for _, name in ipairs({ "temperature", "top_p", "seed", "frequency_penalty", "presence_penalty" }) do
    if present(body[name]) then
      options[name] = body[name]
    end
  end
  return next(options) ~= nil and options or nil
end

-- response_format → format: "json", or the JSON schema itself.
local function convert_format(rf)
  if not present(rf) or rf.type == "text" then
    return nil
  end
  if rf.type == "json_object" then
    return "json"
  end
  if rf.type == "json_schema" and type(rf.json_schema) == "table" and present(rf.json_schema.schema) then
    return rf.json_schema.schema
  end
  return nil, 'response_format.type: "' .. tostring(rf.type) .. '" is not supported by Ollama'
end

-- req: {endpoint, model, stream, stream_usage, body, raw, request_id, provider = {name,
-- base_url, api_key}}. Returns the upstream request, or nil and a message: the client gets 400
-- with that message, and nothing is sent.
function plugin.transform_request(req, config, ctx)
  local body = req.body
  if present(body.n) and body.n ~= 1 then
    return nil, "n: Ollama returns one choice (n must be 1)"
  end
  local messages, err = convert_messages(body.messages)
  if not messages then
    return nil, err
  end
  local tools, tools_err = convert_tools(body.tools)
  if tools_err then
    return nil, tools_err
  end
  local format, format_err = convert_format(body.response_format)
  if format_err then
    return nil, format_err
  end

  -- What every chunk of the answer repeats, kept for this attempt's later hooks.
  ctx.id = "chatcmpl-" .. req.request_id
  ctx.model = req.model
  ctx.created = os.time()

  local headers = {}
  if req.provider.api_key ~= "" then -- an Ollama behind an authenticating proxy
    headers["Authorization"] = "Bearer " .. req.provider.api_key
  end
  return {
    path = "/api/chat", -- after base_url's own path
    headers = headers,
    body = { -- a table is sent as JSON (keys sorted); nil fields are left out
      model = req.model, -- the target's model, not the logical one the agent asked for
      messages = messages,
      stream = req.stream, -- always said: Ollama streams unless told not to
      tools = tools,
      format = format,
      options = convert_options(body, config),
      keep_alive = config.keep_alive,
      think = config.think,
    },
  }
end

---------------------------------------------------------------------------------------------
-- The answer: Ollama → OpenAI
---------------------------------------------------------------------------------------------

local FINISH_REASONS = { stop = "stop", length = "length" }

local function finish_reason(done_reason, called_tools)
  if called_tools then
    return "tool_calls"
  end
  return FINISH_REASONS[done_reason] or "stop"
end

-- Ollama's tool calls → OpenAI's: arguments as JSON text, and ids (Ollama gives none), counted
-- across the attempt so a stream's ids never repeat. A stream's calls carry their index.
local function convert_tool_calls_in(calls, ctx, streaming)
  local out = json.array()
  for _, call in ipairs(calls) do
    local fn = type(call["function"]) == "table" and call["function"] or {}
    local n = (ctx.tool_calls or 0) + 1
    ctx.tool_calls = n
    local args = present(fn.arguments) and fn.arguments or {}
    out[#out + 1] = {
      index = streaming and (n - 1) or nil,
      id = "call_" .. n,
      type = "function",
      ["function"] = { name = fn.name, arguments = type(args) == "string" and args or json.encode(args) },
    }
  end
  return out
end

-- Ollama's counts → sluice's usage (nil when the document has none). prompt_eval_count is
-- absent when Ollama reused its whole prompt cache: that prompt then counts 0.
local function usage_of(doc)
  if not present(doc.prompt_eval_count) and not present(doc.eval_count) then
    return nil
  end
  return { input = tonumber(doc.prompt_eval_count) or 0, output = tonumber(doc.eval_count) or 0 }
end

local ERROR_TYPES = {
  [400] = "invalid_request_error",
  [401] = "authentication_error",
  [403] = "permission_error",
  [404] = "not_found_error",
  [429] = "rate_limit_exceeded",
}

-- Ollama's {"error": "..."} (or any failing answer) → OpenAI's error shape.
local function error_answer(status, doc, raw)
  local message = type(doc) == "table" and present(doc.error) and doc.error or raw:sub(1, 512)
  if type(message) ~= "string" then
    message = json.encode(message)
  end
  return {
    status = status,
    body = {
      error = {
        message = "ollama: " .. message,
        type = ERROR_TYPES[status] or (status >= 500 and "upstream_error" or "invalid_request_error"),
        code = null,
        param = null,
      },
    },
  }
end

-- res: {status, body, json}. Returns {status, body, usage} (status: the provider's when
-- absent), or nil and a message: the attempt fails with 502 naming this plugin.
function plugin.transform_response(res, config, ctx)
  local doc = res.json
  if res.status >= 400 then
    return error_answer(res.status, doc, res.body)
  end
  if type(doc) == "table" and present(doc.error) then -- an error with a 200: upstream failed
    return error_answer(502, doc, res.body)
  end
  if type(doc) ~= "table" or type(doc.message) ~= "table" then
    return nil, "the answer is not an Ollama chat response: " .. res.body:sub(1, 200)
  end
  local m = doc.message
  local message = { role = "assistant", content = present(m.content) and m.content or "" }
  if present(m.tool_calls) and #m.tool_calls > 0 then
    message.tool_calls = convert_tool_calls_in(m.tool_calls, ctx, false)
    if message.content == "" then
      message.content = null -- as OpenAI answers a tool call
    end
  end
  if present(m.thinking) and m.thinking ~= "" then
    message.reasoning_content = m.thinking
  end
  local usage = usage_of(doc)
  return {
    body = {
      id = ctx.id,
      object = "chat.completion",
      created = ctx.created,
      model = ctx.model,
      choices = {
        {
          index = 0,
          message = message,
          logprobs = null,
          finish_reason = finish_reason(doc.done_reason, message.tool_calls ~= nil),
        },
      },
      usage = usage and {
        prompt_tokens = usage.input,
        completion_tokens = usage.output,
        total_tokens = usage.input + usage.output,
      } or nil,
    },
    usage = usage, -- what sluice charges
  }
end

local function chunk(ctx, delta, finish)
  return {
    id = ctx.id,
    object = "chat.completion.chunk",
    created = ctx.created,
    model = ctx.model,
    choices = { { index = 0, delta = delta, logprobs = null, finish_reason = finish } },
  }
end

-- ev: {data, json} — one NDJSON line. Returns the list of OpenAI chunks it becomes (sluice
-- writes each as `data: <json>`), or nil and a message: the stream ends with an error event.
function plugin.transform_chunk(ev, config, ctx)
  local doc = ev.json
  if type(doc) ~= "table" then
    return nil, "Ollama sent a line that is not JSON: " .. ev.data:sub(1, 200)
  end
  if present(doc.error) then
    return nil, "ollama: " .. (type(doc.error) == "string" and doc.error or json.encode(doc.error))
  end
  local chunks = {}
  local m = type(doc.message) == "table" and doc.message or {}
  local delta = {}
  if not ctx.started then -- OpenAI's first chunk says who speaks
    delta.role = "assistant"
    ctx.started = true
  end
  if present(m.content) and m.content ~= "" then
    delta.content = m.content
  end
  if present(m.thinking) and m.thinking ~= "" then
    delta.reasoning_content = m.thinking
  end
  if present(m.tool_calls) and #m.tool_calls > 0 then
    delta.tool_calls = convert_tool_calls_in(m.tool_calls, ctx, true)
  end
  if next(delta) ~= nil then
    chunks[#chunks + 1] = chunk(ctx, delta, null)
  end
  if doc.done == true then
    chunks[#chunks + 1] = chunk(ctx, {}, finish_reason(doc.done_reason, ctx.tool_calls ~= nil))
    ctx.usage = usage_of(doc) -- sluice charges it, and sends the usage chunk if asked
    ctx.done = true
  end
  return chunks
end

-- The stream ended cleanly. Ollama's last line is `done: true`; a stream that ends without it
-- was cut short, and must not look complete: failing here ends the client's stream with an
-- error event instead of [DONE].
function plugin.transform_end(config, ctx)
  if not ctx.done then
    return nil, "the stream ended before Ollama's done line"
  end
  return nil
end

return plugin
