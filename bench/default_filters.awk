# The `filters:` block of conf/sluice.yaml (the default chain), verbatim, for bench/run.sh and
# bench/profile.sh:  awk -f bench/default_filters.awk conf/sluice.yaml
# If the block has no cost filter, one is added right after model_alias (its place in the
# DESIGN §3 chain: auth → rate_limit → model_alias → cost → circuit_breaker → retry), with
# prices for the bench's models, so the default chain always prices answers and holds budgets.
# With -v confdir=DIR, a relative `file:` (a Lua filter's plugin) is made relative to DIR — the
# bench's configs live in a temp dir, conf/sluice.yaml's paths are relative to conf/.
/^filters:/ { on = 1; lines[n++] = $0; next }
on && /^[^ #-]/ { exit }
on && !/^#/ {
  if (confdir != "" && $0 ~ /file: *[^\/ ]/) sub(/file: */, "file: " confdir "/")
  lines[n++] = $0
  if ($0 ~ /^ *- cost:/) has_cost = 1
}
END {
  for (i = 0; i < n; i++) {
    print lines[i]
    if (!has_cost && lines[i] ~ /^ *- model_alias:/)
      print "  - cost: {prices: {mock-fast: {input: 0.15, output: 0.60, cached_input: 0.075}, mock-quality: {input: 2.50, output: 10.00, cached_input: 1.25}}}"
  }
}
