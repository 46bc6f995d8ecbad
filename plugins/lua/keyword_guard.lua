-- keyword_guard: refuses a request whose message text contains one of a list of words or
-- phrases, with 403 `policy_blocked` — before the request reaches any provider.
--
--   filters:
--     - auth: {modes: [api_key]}
--     - lua:
--         file: ../plugins/lua/keyword_guard.lua
--         config:
--           words: ["project nightingale", "acme-internal"]   # required
--           case_sensitive: false   # default false: ASCII letters match in either case
--           whole_words: true       # default true: "cat" does not match inside "concat"
--           reveal_word: true       # default true: the refusal says which word it found
--
-- What is searched is the text a model would read: chat `messages[].content` (strings and
-- the text of content parts), `prompt` (/v1/completions), `input` and `instructions`
-- (/v1/responses, /v1/embeddings), and Anthropic's `system` and `messages` (/v1/messages).
-- The same word elsewhere in the body (a `user` id, `metadata`) is not a match.
--
-- The refusal, in OpenAI's error shape (Anthropic's on /v1/messages):
--   403 {"error": {"message": "Request blocked by policy keyword_guard: the messages contain
--        \"acme-internal\".", "type": "permission_error", "code": "policy_blocked", "param": null}}
--
-- Cost on the hot path: the raw body is searched first with a plain string.find, and the JSON
-- is decoded only when one of the words occurs somewhere in it (or when JSON escapes such as
-- \u00e9 could hide one), so a request that mentions none of the words is never decoded.

local plugin = {
  name = "keyword_guard",
  version = "1.0.0",
  schema = {
    words = { type = "array", of = "string", required = true },
    case_sensitive = { type = "boolean", default = false },
    whole_words = { type = "boolean", default = true },
    reveal_word = { type = "boolean", default = true },
  },
}

-- Each filter's config table → its word list, compiled once (weak keys: a reload's new config
-- compiles anew, the old entry goes with the old config).
local compiled = setmetatable({}, { __mode = "k" })

local function escape_pattern(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- One entry per non-empty word: the word as configured (for the message), the needle the raw
-- body is searched for, and the Lua pattern that confirms a match in message text.
local function compile(config)
  local words = {}
  for _, word in ipairs(config.words) do
    if word ~= "" then
      local needle = config.case_sensitive and word or word:lower()
      local pattern = escape_pattern(needle)
      if config.whole_words then
        -- %f is a frontier: the word must not continue a longer word on either side.
        if needle:find("^%w") then pattern = "%f[%w]" .. pattern end
        if needle:find("%w$") then pattern = pattern .. "%f[%W]" end
      end
      words[#words + 1] = {
        word = word,
        needle = needle,
        pattern = pattern,
        -- JSON may write these characters escaped, so the raw body cannot rule this word out.
        escapable = needle:find('[%c"\\/]') ~= nil,
      }
    end
  end
  return words
end

local function words_of(config)
  local words = compiled[config]
  if not words then
    words = compile(config)
    compiled[config] = words
  end
  return words
end

-- The cheap test: false only when no word can be in the request at all.
local function may_contain_a_word(body, words, case_sensitive)
  local haystack = case_sensitive and body or body:lower()
  for _, w in ipairs(words) do
    if w.escapable or haystack:find(w.needle, 1, true) then return true end
  end
  return haystack:find("\\u", 1, true) ~= nil -- a \uXXXX escape could spell any letter
end

-- Every piece of text a model would read in the decoded request, in a flat list.
local function message_texts(request)
  local texts = {}
  local function collect(value)
    if type(value) == "string" then
      texts[#texts + 1] = value
    elseif type(value) == "table" then
      for _, item in ipairs(value) do collect(item) end -- arrays of messages or parts
      collect(value.content) -- a message
      collect(value.text) -- a content part {type = "text", text = ...}
    end
  end
  collect(request.messages)
  collect(request.system)
  collect(request.prompt)
  collect(request.input)
  collect(request.instructions)
  return texts
end

local function find_word(texts, words, case_sensitive)
  for _, text in ipairs(texts) do
    local haystack = case_sensitive and text or text:lower()
    for _, w in ipairs(words) do
      if haystack:find(w.pattern) then return w.word end
    end
  end
  return nil
end

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

function plugin.on_request(h, config)
  local body = h:body()
  if body == nil or body == "" then return end
  local words = words_of(config)
  if not may_contain_a_word(body, words, config.case_sensitive) then return end

  local request = h:json()
  if type(request) ~= "table" then return end -- not JSON: sluice answers 400 for it anyway
  local word = find_word(message_texts(request), words, config.case_sensitive)
  if not word then return end

  local message = "Request blocked by policy keyword_guard"
  if config.reveal_word then
    message = message .. ": the messages contain \"" .. word .. "\"."
  else
    message = message .. ": the messages contain a blocked word."
  end
  sluice.log("info", "blocked request " .. tostring(h.request_id) ..
    " from agent " .. tostring(h.agent) .. " (word \"" .. word .. "\")")
  refuse(h, 403, "permission_error", "policy_blocked", message)
end

return plugin
