-- agent_quota: a daily request quota per agent. An agent's requests are counted per UTC day;
-- once it has made its quota, the rest of the day's requests get 429 until midnight UTC.
--
--   filters:
--     - auth: {modes: [api_key]}   # the quota is per agent: put it after auth
--     - lua:
--         file: ../plugins/lua/agent_quota.lua
--         config:
--           requests_per_day: 1000           # required: every agent's quota...
--           per_agent: {sofia: 5000, ci: 50} # ...unless named here
--
-- Every request that reaches this filter counts, answered or not. The count lives in
-- sluice.shared, the dictionary every worker shares, so the quota holds exactly across
-- workers and concurrent requests (one atomic incr per request), and it survives config
-- reloads: raising a quota on reload lets the agent continue from the count it has.
-- Requests with no agent (no auth filter before this one) share one quota, under "-".
--
-- Answered requests carry x-quota-limit, x-quota-remaining and x-quota-reset (seconds to
-- midnight UTC). A refused one gets, in OpenAI's error shape (Anthropic's on /v1/messages):
--   429 {"error": {"message": "Agent sofia has used its quota of 5000 requests for today
--        (UTC); it resets in 3600s.", "type": "rate_limit_error",
--        "code": "daily_quota_exceeded", "param": null}}
--   with retry-after: <seconds to midnight UTC> and the x-quota-* headers.

local plugin = {
  name = "agent_quota",
  version = "1.0.0",
  schema = {
    requests_per_day = { type = "integer", min = 0, required = true },
    per_agent = { type = "table", default = {} }, -- agent name = its own quota
  },
}

local SECONDS_PER_DAY = 86400

local function quota_of(agent, config)
  return tonumber(config.per_agent[agent]) or config.requests_per_day
end

-- Ends the request with an error in the shape its client expects (DESIGN §5).
local function refuse(h, status, error_type, code, message, headers)
  if h.endpoint == "messages" then -- /v1/messages
    h:respond(status, { type = "error", error = { type = error_type, message = message } }, headers)
  else
    h:respond(status, {
      error = { message = message, type = error_type, code = code, param = sluice.json.null },
    }, headers)
  end
end

local function quota_headers(limit, used, reset_in)
  return {
    ["x-quota-limit"] = tostring(limit),
    ["x-quota-remaining"] = tostring(math.max(limit - used, 0)),
    ["x-quota-reset"] = tostring(reset_in),
  }
end

function plugin.on_request(h, config)
  local agent = h.agent or "-"
  local limit = quota_of(agent, config)
  local now = os.time()
  local day = os.date("!%Y-%m-%d", now) -- "!": UTC
  local reset_in = SECONDS_PER_DAY - now % SECONDS_PER_DAY

  -- The key names the day, so a new day starts from 0; the TTL reclaims old days.
  local key = "agent_quota:" .. agent .. ":" .. day
  local used, err = sluice.shared:incr(key, 1, 2 * SECONDS_PER_DAY)
  -- Cannot count (the key is not a number): fail the hook, and the filter's on_error decides
  -- (fail: 500 plugin_error; continue: the request goes on uncounted).
  if not used then error("cannot count the request: " .. err) end
  local headers = quota_headers(limit, used, reset_in)

  if used > limit then
    headers["retry-after"] = tostring(reset_in)
    refuse(h, 429, "rate_limit_error", "daily_quota_exceeded",
      "Agent " .. agent .. " has used its quota of " .. limit .. " requests for today (UTC); " ..
      "it resets in " .. reset_in .. "s.", headers)
    return
  end
  h:ctx().quota_headers = headers -- for on_response
end

function plugin.on_response(h, config)
  local headers = h:ctx().quota_headers
  if not headers then return end
  for name, value in pairs(headers) do h:set_header(name, value) end
end

return plugin
