-- bench: the cheapest Lua filter that still runs a hook on every request — what the Lua host
-- itself costs (a pooled coroutine, the handle, the budget hook), with nothing of a plugin's own.
return {
  name = "noop",
  on_request = function(h, config) end,
}
