// The tables of memory.store and memory.query (sluice_tool_vtable): how a call flows from the
// worker through the embedding model to the database thread (tool_hooks.cc).
#pragma once

#include <sluice/plugin.h>

namespace memory {

struct Memory;

// The plugin's state, handed to both tools as their config (main thread, in init).
void set_memory(Memory* memory);

const sluice_tool_vtable& store_tool();
const sluice_tool_vtable& query_tool();

}  // namespace memory
