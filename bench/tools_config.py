#!/usr/bin/env python3
"""The tools scenario's config (bench/run.sh, bench/profile.sh): a sluice config (the default
chain's, as rendered from configs/sluice-default.yaml.in) plus 1,000 `type: http` tools, of which
the bench's agent (`demo`) may use 100 — allowed by a mix of globs and names, as users write
allow-lists:

    tools:
      - "docs.*"              # 25 tools
      - "search.*"            # 25
      - "crm.get_*"           # 5
      - "tickets.list_*"      # 5
      - analytics.get_document   # ... and 40 single names from 20 other services

40 services x 25 tools (5 verbs x 5 nouns: "crm.get_record"), each with a description and an
input_schema of the size real tools have (3-4 properties with descriptions; an enum, bounds,
`required`), every one calling the bench mock's /tools/<name> (which answers any of them with
the same JSON). Standard library only.

    tools_config.py --config sluice-default.yaml --tool-base http://127.0.0.1:18101 > tools.yaml
    tools_config.py --print-call      # the tool the bench calls, and its arguments (JSON)
"""
import argparse
import json
import sys

SERVICES = [
    "analytics", "billing", "calendar", "cms", "crm", "deploy", "docs", "drive", "email", "erp",
    "events", "files", "finance", "forms", "github", "hr", "inventory", "invoices", "jira", "kb",
    "logs", "maps", "marketing", "metrics", "notes", "orders", "payments", "people", "projects",
    "search", "shipping", "slack", "sql", "storage", "support", "tasks", "tickets", "translate",
    "vault", "wiki",
]
VERBS = ["get", "list", "search", "create", "update"]
NOUNS = ["document", "record", "comment", "attachment", "label"]

# The agent's allow-list: 4 globs (60 tools) and 40 names (2 from each of 20 other services).
GLOBS = ["docs.*", "search.*", "crm.get_*", "tickets.list_*"]
NAMED_SERVICES = [s for s in SERVICES if s not in ("docs", "search", "crm", "tickets")][:20]
NAMED_TOOLS = [f"{s}.{v}_document" for s in NAMED_SERVICES for v in ("get", "search")]

# The tool the bench calls: allowed by name (the 40th of the 44 patterns), in the middle of the
# config's 1,000 tools (the 476th by name).
CALL_TOOL = "kb.search_document"
CALL_ARGUMENTS = {"query": "quarterly revenue", "limit": 5, "order": "desc"}

COUNT = len(SERVICES) * len(VERBS) * len(NOUNS)


def schema_of(service, verb, noun):
    """A JSON Schema of the size real tools have."""
    noun_id = {"type": "string", "description": f"The {noun}'s id in {service}, e.g. \"{noun[:3]}-1042\"."}
    if verb == "get":
        props = {"id": noun_id,
                 "fields": {"type": "array", "items": {"type": "string"},
                            "description": "Only these fields (default: all)."}}
        required = ["id"]
    elif verb in ("list", "search"):
        props = {"query": {"type": "string", "description": f"Words to look for in the {noun}s."},
                 "limit": {"type": "integer", "minimum": 1, "maximum": 100,
                           "description": "At most this many results (default 20)."},
                 "order": {"type": "string", "enum": ["asc", "desc"],
                           "description": "By last update."},
                 "cursor": {"type": "string", "description": "From a previous page's next_cursor."}}
        required = ["query"] if verb == "search" else []
    elif verb == "create":
        props = {"title": {"type": "string", "description": f"The new {noun}'s title."},
                 "body": {"type": "string", "description": "Its text (Markdown)."},
                 "labels": {"type": "array", "items": {"type": "string"}, "maxItems": 10,
                            "description": "Labels to attach."}}
        required = ["title"]
    else:  # update
        props = {"id": noun_id,
                 "title": {"type": "string", "description": "A new title."},
                 "status": {"type": "string", "enum": ["open", "closed", "archived"],
                            "description": "A new status."}}
        required = ["id"]
    schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def tools_block(tool_base):
    lines = ["", "# bench/tools_config.py: 1,000 http tools on the bench mock's /tools/.", "tools:"]
    for service in SERVICES:
        for verb in VERBS:
            for noun in NOUNS:
                name = f"{service}.{verb}_{noun}"
                lines.append(f"  {name}:")
                lines.append("    type: http")
                lines.append(f"    description: {json.dumps(f'{verb.capitalize()} {noun}s in {service}.')}")
                lines.append(f"    url: {tool_base}/tools/{name}")
                lines.append("    timeout: 5s")
                lines.append("    headers: {Authorization: \"Bearer bench-tool-token\"}")
                lines.append(f"    input_schema: {json.dumps(schema_of(service, verb, noun))}")
    return lines


def allow_list():
    return ["    tools:"] + [f"      - \"{p}\"" for p in GLOBS + NAMED_TOOLS]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", help="the sluice config to add the tools to")
    ap.add_argument("--tool-base", help="http://HOST:PORT of the tools' endpoint")
    ap.add_argument("--agent", default="demo")
    ap.add_argument("--print-call", action="store_true",
                    help="print the called tool's name and its arguments (JSON), one per line")
    a = ap.parse_args()
    if a.print_call:
        print(CALL_TOOL)
        print(json.dumps(CALL_ARGUMENTS, separators=(",", ":")))
        return
    if not a.config or not a.tool_base:
        ap.error("--config and --tool-base are required")
    assert CALL_TOOL in NAMED_TOOLS and len(NAMED_TOOLS) == 40 and COUNT == 1000
    with open(a.config) as f:
        lines = f.read().splitlines()
    # The allow-list goes right after the agent's `keys:` line.
    out, in_agents, in_agent, placed = [], False, False, False
    for line in lines:
        out.append(line)
        if line.startswith("agents:"):
            in_agents = True
        elif line and not line.startswith(" ") and not line.startswith("#"):
            in_agents = False
        if in_agents and line == f"  {a.agent}:":
            in_agent = True
        if in_agent and not placed and line.strip().startswith("keys:"):
            out.extend(allow_list())
            placed = True
    if not placed:
        sys.exit(f"tools_config.py: no agent {a.agent!r} with keys: in {a.config}")
    out.extend(tools_block(a.tool_base.rstrip("/")))
    print("\n".join(out))


if __name__ == "__main__":
    main()
