-- shout_tool: the tool text.shout (DESIGN §4) — answers its `text` argument upper-cased. The
-- smallest complete Lua tool: a description and an input_schema that agents see in tools/list
-- (MCP) and GET /v1/tools (OpenAI function tools), a schema for the entry's config:, and call.
--
--   tools:
--     text.shout:
--       type: lua
--       file: ../plugins/lua/shout_tool.lua
--       config: {suffix: "!"}      # default "": appended to the answer
--
--   POST /v1/tools/text.shout  {"text": "hello"}   →  {"result": "HELLO!"}
--
-- The arguments were checked against input_schema before call runs (a call without `text`, or
-- with a number, is refused with a clear error and never reaches it).

return {
  name = "shout_tool",
  version = "1.0.0",
  description = "Answers the given text in upper case",
  input_schema = {
    type = "object",
    properties = {
      text = { type = "string", description = "The text to shout" },
    },
    required = { "text" },
  },
  schema = {
    suffix = { type = "string", default = "" },
  },
  call = function(args, ctx)
    return args.text:upper() .. ctx.config.suffix
  end,
}
