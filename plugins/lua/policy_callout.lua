-- policy_callout: asks an external policy service whether each request may go on, and
-- refuses it when the service says no. Fail-closed: when the service cannot be asked (timeout,
-- connection refused, non-2xx, an answer that is not a verdict), the request is refused too.
--
--   filters:
--     - auth: {modes: [api_key]}
--     - lua:
--         file: ../plugins/lua/policy_callout.lua
--         config:
--           url: http://127.0.0.1:7100/check    # required
--           timeout: 500          # ms, default 500: the most a request waits for the verdict
--           headers: {authorization: "Bearer ${POLICY_TOKEN}"}   # default none
--           include_body: false   # default false: true also sends the request's JSON body
--           fail_open: false      # default false; true lets requests through when the service
--                                 # cannot be asked (and logs a warning)
--
-- The call: POST <url>, content-type application/json,
--   {"agent": "sofia", "model": "fast", "endpoint": "chat.completions",
--    "request_id": "…", "body": {…the request…}}      ("body" only with include_body)
-- The verdict: a 2xx answer with a JSON object
--   {"allow": true}                               → the request goes on
--   {"allow": false, "reason": "outside office hours"} → 403 policy_blocked, with the reason
--
-- What the agent sees (OpenAI's error shape; Anthropic's on /v1/messages):
--   denied:      403 {"error": {"message": "Request blocked by policy: outside office hours",
--                 "type": "permission_error", "code": "policy_blocked", "param": null}}
--   unavailable: 503 {"error": {"message": "The policy service could not be asked; the request
--                 was not sent.", "type": "api_error", "code": "policy_unavailable", …}}
-- 503, not 403, because the agent did nothing wrong and may retry: the OpenAI and Anthropic
-- SDKs retry a 503 by themselves. The reason (timeout, refused, status) is in sluice's log.
--
-- The call suspends only this request (sluice.http runs on the worker's event loop), so a slow
-- or hanging policy service delays its own requests by at most `timeout`, never the others.

local plugin = {
  name = "policy_callout",
  version = "1.0.0",
  schema = {
    url = { type = "string", required = true },
    timeout = { type = "integer", min = 1, max = 60000, default = 500 },
    headers = { type = "table", default = {} },
    include_body = { type = "boolean", default = false },
    fail_open = { type = "boolean", default = false },
  },
}

-- Ends the request with an error in the shape its client expects (DESIGN §5).
local function refuse(h, status, error_type, code, message)
  if h.endpoint == "messages" then -- /v1/messages
    h:respond(status, { type = "error", error = { type = error_type, message = message } })
  else
    h:respond(status, {
      error = { message = message, type = error_type, code = code, param = sluice.json.null },
    })
  end
end

local function ask(h, config)
  local question = {
    agent = h.agent,
    model = h.model,
    endpoint = h.endpoint,
    request_id = h.request_id,
  }
  if config.include_body then question.body = h:json() end

  local headers = { ["content-type"] = "application/json" }
  for name, value in pairs(config.headers) do headers[name] = value end

  return sluice.http({
    method = "POST",
    url = config.url,
    headers = headers,
    body = sluice.json.encode(question),
    timeout = config.timeout,
  })
end

-- The service's verdict: true (allow), false + reason (deny), or nil + why it is not one.
local function verdict_of(response, err)
  if not response then return nil, err end
  if response.status < 200 or response.status > 299 then
    return nil, "answered HTTP " .. response.status
  end
  local answer = sluice.json.decode(response.body) -- nil (and an error) when not JSON
  if type(answer) ~= "table" or type(answer.allow) ~= "boolean" then
    return nil, "answered something that is not {\"allow\": true|false}"
  end
  if answer.allow then return true end
  return false, type(answer.reason) == "string" and answer.reason or "denied by the policy service"
end

function plugin.on_request(h, config)
  local allow, reason = verdict_of(ask(h, config))
  if allow then return end

  if allow == false then
    refuse(h, 403, "permission_error", "policy_blocked", "Request blocked by policy: " .. reason)
    return
  end

  -- No verdict: the service could not be asked.
  local outcome = config.fail_open and "let through (fail_open)" or "refused"
  sluice.log("warn", config.url .. " " .. reason .. "; request " ..
    tostring(h.request_id) .. " " .. outcome)
  if config.fail_open then return end
  refuse(h, 503, "api_error", "policy_unavailable",
    "The policy service could not be asked; the request was not sent.")
end

return plugin
