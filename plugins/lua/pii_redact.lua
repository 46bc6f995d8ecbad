-- pii_redact: masks e-mail addresses and phone numbers in the messages of a request before it
-- leaves for the provider, so they never reach it (nor its logs). The agent is not told; the
-- model simply sees "[email]" where the address was.
--
--   filters:
--     - auth: {modes: [api_key]}
--     - lua:
--         file: ../plugins/lua/pii_redact.lua
--         config:
--           kinds: [email, phone]     # default both; what to mask
--           email_mask: "[email]"     # default "[email]"
--           phone_mask: "[phone]"     # default "[phone]"
--           phone_min_digits: 9       # default 9: shorter digit runs are left alone
--
-- Masked text: chat `messages[].content` (strings and the text of content parts), `prompt`,
-- `input`, `instructions`, and Anthropic's `system` and `messages` — the text a model reads.
-- Other fields (`user`, `metadata`, numbers like max_tokens) are left as they are.
--
-- What counts as
--   an e-mail address: name@domain.tld (letters, digits and . _ % + - in the name);
--   a phone number: phone_min_digits to 15 digits (E.164's maximum), optionally starting with
--     +, in groups separated by single spaces, dashes, dots or parentheses — "+1 (555)
--     123-4567", "0171 2345678", "555.123.4567" — and not part of a longer word or number.
--     A decimal number ("3.14159265") and an IPv4 address are not phone numbers.
-- These are heuristics, not a PII classifier: they catch the common forms and miss others.
--
-- A request with nothing to mask is not decoded (a cheap scan of the raw body comes first)
-- and its body goes upstream byte for byte; only a request that had something masked is
-- re-encoded (h:set_json).

local plugin = {
  name = "pii_redact",
  version = "1.0.0",
  schema = {
    kinds = { type = "array", of = "string", one_of = { "email", "phone" },
              default = { "email", "phone" } },
    email_mask = { type = "string", default = "[email]" },
    phone_mask = { type = "string", default = "[phone]" },
    phone_min_digits = { type = "integer", min = 1, max = 15, default = 9 },
  },
}

local EMAIL = "[%w%._%%%+%-]+@[%w%-]+%.[%w%.%-]*%w"
-- A candidate phone number: a digit (maybe after "+" or "("), then digits and separators,
-- ending on a digit. looks_like_phone() decides.
local PHONE = "()(%+?%(?%d[%d %-%.%(%)]*%d)()"

local function count_digits(s)
  return select(2, s:gsub("%d", ""))
end

local function looks_like_phone(candidate, min_digits)
  local digits = count_digits(candidate)
  if digits < min_digits or digits > 15 then return false end
  if candidate:find("[ %-%.][ %-%.]") then return false end -- "1 - 2", "1..2": not one number
  if candidate:find("^%d+%.%d+$") then return false end -- a decimal number
  local ipv4 = candidate:find("^%d+%.%d+%.%d+%.%d+$") and #candidate <= 15
  return not ipv4
end

-- What each config enables, worked out once: { email = true, phone = true, digit_run = pattern }
-- (weak keys: a reload's new config gets its own entry, the old one goes with it).
local prepared = setmetatable({}, { __mode = "k" })

local function kinds_of(config)
  local kinds = prepared[config]
  if not kinds then
    kinds = {}
    for _, kind in ipairs(config.kinds) do kinds[kind] = true end
    -- phone_min_digits digits, separators allowed between them: the raw-body pre-check.
    kinds.digit_run = ("%d[ %-%.%(%)]*"):rep(config.phone_min_digits - 1) .. "%d"
    prepared[config] = kinds
  end
  return kinds
end

-- A candidate must stand alone: not glued to a letter, digit, ".", "-", "_" or "/" before it
-- (an id such as "sk-123456789012"), nor to a letter or digit after it.
local function stands_alone(text, first, after)
  return not text:sub(first - 1, first - 1):find("^[%w%.%-_/]")
    and not text:sub(after, after):find("^%w")
end

local function mask_phones(text, config)
  return (text:gsub(PHONE, function(first, candidate, after)
    local min_digits = config.phone_min_digits
    if stands_alone(text, first, after) and looks_like_phone(candidate, min_digits) then
      return config.phone_mask
    end
    return nil -- nil: gsub keeps the candidate as it was
  end))
end

local function mask_emails(text, config)
  -- A function, not the mask itself, as the replacement: a "%" in a mask stays a "%".
  return (text:gsub(EMAIL, function() return config.email_mask end))
end

-- `text` with every match masked.
local function redact(text, config, kinds)
  if kinds.email then text = mask_emails(text, config) end
  if kinds.phone then text = mask_phones(text, config) end
  return text
end

-- The cheap test on the raw body: false only when no message can contain anything to mask.
-- (A phone number is written in JSON as it is; only its surroundings may be escaped.)
local function may_contain_pii(body, kinds)
  if kinds.email and body:find("@", 1, true) then return true end
  if kinds.phone and body:find(kinds.digit_run) then return true end
  return false
end

-- Replaces, in place, every piece of text a model would read under container[key]; true when
-- something changed.
local function redact_field(container, key, config, kinds)
  local value = container[key]
  if type(value) == "string" then
    local masked = redact(value, config, kinds)
    if masked == value then return false end
    container[key] = masked
    return true
  elseif type(value) == "table" then
    local changed = false
    for i = 1, #value do -- arrays of messages or content parts
      changed = redact_field(value, i, config, kinds) or changed
    end
    changed = redact_field(value, "content", config, kinds) or changed -- a message
    changed = redact_field(value, "text", config, kinds) or changed -- a content part
    return changed
  end
  return false
end

function plugin.on_request(h, config)
  local body = h:body()
  if body == nil or body == "" then return end
  local kinds = kinds_of(config)
  if not may_contain_pii(body, kinds) then return end

  local request = h:json()
  if type(request) ~= "table" then return end -- not JSON: sluice answers 400 for it anyway
  local changed = false
  for _, field in ipairs({ "messages", "system", "prompt", "input", "instructions" }) do
    changed = redact_field(request, field, config, kinds) or changed
  end
  if changed then
    h:set_json(request)
    sluice.log("debug", "masked personal data in request " .. tostring(h.request_id))
  end
end

return plugin
