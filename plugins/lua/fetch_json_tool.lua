-- fetch_json_tool: a tool that asks an HTTP service and answers with (part of) its JSON. The
-- URL is a template in the entry's config: each {name} in it is replaced by the argument of
-- that name (URL-encoded), so one file serves many tools:
--
--   tools:
--     weather.now:
--       type: lua
--       file: ../plugins/lua/fetch_json_tool.lua
--       description: The weather now in a city
--       input_schema: {type: object, properties: {city: {type: string}}, required: [city]}
--       timeout: 5s                           # the call's deadline (sluice.http is held to it)
--       config:
--         url: "http://127.0.0.1:7010/weather/{city}"   # required
--         headers: {authorization: "Bearer ${WEATHER_TOKEN}"}   # default none
--         fields: [temperature, wind]         # default all: the answer's keys kept
--         timeout: 2000                       # ms, default 3000: the most one request waits
--
--   POST /v1/tools/weather.now  {"city": "Kyiv"}
--     → GET http://127.0.0.1:7010/weather/Kyiv
--     → {"result": {"temperature": 21, "wind": 3}}
--
-- What the agent gets when it goes wrong (a tool error: MCP isError, REST 502 tool_error), each
-- saying why: the service cannot be reached or times out, answers a non-2xx status (with the
-- start of its body), or answers something that is not a JSON object or array. The request
-- suspends only this call (sluice.http runs on the worker's event loop).

local MAX_ERROR_BODY = 200 -- bytes of a failed answer's body quoted in the error

local function url_encode(value)
  return (tostring(value):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- The URL with each {name} filled from args; nil and the missing name when one is absent.
local function fill(template, args)
  local missing
  local url = template:gsub("{([%w_]+)}", function(name)
    local value = args[name]
    if value == nil or type(value) == "table" then
      missing = missing or name
      return ""
    end
    return url_encode(value)
  end)
  if missing then return nil, missing end
  return url
end

-- The answer's `fields` (all of them when none is named; an array or an empty answer as it is).
local function keep(answer, fields)
  if #fields == 0 or #answer > 0 or next(answer) == nil then return answer end
  local out = {}
  for _, name in ipairs(fields) do out[name] = answer[name] end
  return out
end

return {
  name = "fetch_json_tool",
  version = "1.0.0",
  description = "Fetches a JSON document from a configured HTTP service",
  input_schema = { type = "object" },
  schema = {
    url = { type = "string", required = true },
    headers = { type = "table", default = {} },
    fields = { type = "array", of = "string", default = {} },
    timeout = { type = "integer", min = 1, max = 300000, default = 3000 },
  },
  call = function(args, ctx)
    local config = ctx.config
    local url, missing = fill(config.url, args)
    if not url then return nil, "missing argument \"" .. missing .. "\" (the URL needs it)" end

    local headers = { accept = "application/json" }
    for name, value in pairs(config.headers) do headers[name] = value end
    local response, err = sluice.http({ url = url, headers = headers, timeout = config.timeout })
    if not response then return nil, "the service cannot be reached: " .. err end
    if response.status < 200 or response.status > 299 then
      return nil, "the service answered " .. response.status .. ": "
        .. response.body:sub(1, MAX_ERROR_BODY)
    end
    local answer = sluice.json.decode(response.body)
    if type(answer) ~= "table" then
      return nil, "the service answered something that is not a JSON object or array"
    end
    return keep(answer, config.fields)
  end,
}
