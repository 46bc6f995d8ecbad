// libsluice_memory.so: the Memory Orchestrator as two tools (DESIGN §5 "Tools", README.md).
//
//   plugins:
//     memory: {file: ..., config: {db: memory.db, embedding_model: embed,
//                                  knowledge_bases: {handbook: {read: ["*"], write: [admin]}}}}
//   tools:
//     memory.store: {type: plugin}
//     memory.query: {type: plugin}
//
// What a tool plugin does, in the order sluice sees it:
//   - sluice_plugin_init (main thread): read and check the plugin's config, open the database,
//     start the plugin's own thread for it, register the tools. A bad config fails the load
//     with a message naming the key.
//   - each call (tool_hooks.cc): starts on a worker, embeds through sluice, ends on the
//     database thread.
//   - sluice_plugin_fini (a sluice thread, once no call is left): stop the thread, close the
//     database.
#include <sluice/plugin.h>

#include <memory>
#include <string>

#include "memory/memory.h"
#include "memory/memory_store.h"
#include "memory/tool_hooks.h"

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

namespace {

memory::Memory* g_memory = nullptr;  // from init to fini

sluice_status fail(const sluice_host_api* host, sluice_registry* reg, const std::string& why) {
  host->registry_fail(reg, memory::str(why));
  return SLUICE_ERROR;
}

}  // namespace

extern "C" SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* host,
                                                                 sluice_registry* reg) {
  using memory::str;
  using memory::view;
  // sluice refuses a plugin built for a newer ABI than its own, so this holds; checking costs
  // nothing and names the problem if it ever does not.
  if (!SLUICE_HAS(sluice_host_api, host, tool_call_model)) {
    host->registry_fail(reg, str("the memory plugin needs a sluice with plugin ABI 1.2"));
    return SLUICE_UNSUPPORTED;
  }
  try {
    auto m = std::make_unique<memory::Memory>();
    m->host = host;
    std::string error;
    if (!memory::parse_memory_config(view(host->plugin_config(reg)), &m->config, &error)) {
      return fail(host, reg, "config: " + error);
    }
    const std::string path = memory::resolve_db_path(m->config.db, view(host->config_dir(reg)));
    auto store = memory::MemoryStore::open(path, m->config.busy_timeout_ms, &error);
    if (!store) return fail(host, reg, "config: db: " + error);
    m->db = std::make_unique<memory::DbThread>(std::move(store), m->config.queue);

    memory::set_memory(m.get());
    if (host->register_tool(reg, str("memory.store"), &memory::store_tool()) != SLUICE_OK ||
        host->register_tool(reg, str("memory.query"), &memory::query_tool()) != SLUICE_OK) {
      return fail(host, reg, "could not register memory.store and memory.query");
    }
    g_memory = m.release();
    return SLUICE_OK;
  } catch (const std::exception& e) {  // no exception crosses into sluice (plugin.h)
    return fail(host, reg, std::string("memory plugin: ") + e.what());
  }
}

extern "C" SLUICE_PLUGIN_EXPORT void sluice_plugin_fini(void) {
  delete g_memory;  // joins the database thread: every call was finished before this runs
  g_memory = nullptr;
  memory::set_memory(nullptr);
}
