// memory.store and memory.query, as one call flows through them:
//
//   worker      call(): read the arguments, resolve the scope for the calling agent (refusing
//               what it may not reach), and ask the embedding model for the text's vector with
//               host->tool_call_model — routed, limited and costed as that agent's request.
//   worker      on_embedding(): the vector arrived (or an error: finish with it). Hand the rest
//               to the database thread; when its queue is full, finish with "busy".
//   db thread   store or rank in SQLite, then finish the call with its JSON — from this thread;
//               sluice hands it back to the worker.
//
// Every path finishes the call exactly once, and every wait is bounded (the model call by the
// call's deadline, the queue by its capacity), so no cancel hook is needed: a cancelled call
// still ends soon, and sluice ignores its late result.
#include "memory/tool_hooks.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "memory/embedding.h"
#include "memory/memory.h"
#include "memory/results.h"
#include "memory/scope.h"
#include "memory/tool_arguments.h"

namespace memory {
namespace {

// One call between call() and the database thread.
struct PendingCall {
  Memory* memory = nullptr;
  sluice_tool_call* call = nullptr;
  Scope scope;
  bool is_store = false;
  StoreArguments store;  // memory.store
  QueryArguments query;  // memory.query
};

void finish_error(const Memory& m, sluice_tool_call* c, const std::string& message) {
  m.host->tool_finish_error(c, str(message));
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint32_t bound_of(const MemoryConfig& config, ScopeKind kind) {
  switch (kind) {
    case ScopeKind::Channel:
      return config.channel_items;
    case ScopeKind::KnowledgeBase:
      return config.kb_items;
    case ScopeKind::Agent:
      break;
  }
  return config.agent_items;
}

// On the database thread: the blocking part, then the finish.
void run_in_database(std::unique_ptr<PendingCall> p, std::vector<float> vector, MemoryStore& db) {
  Memory& m = *p->memory;
  std::string error;
  if (p->is_store) {
    StoreResult stored;
    if (!db.store(p->scope, p->store.content, tags_json(p->store.tags), vector,
                  view(m.host->tool_call_agent(p->call)), now_unix_ms(),
                  bound_of(m.config, p->scope.kind), &stored, &error)) {
      finish_error(m, p->call, "memory could not store it: " + error);
      return;
    }
    const std::string json = store_result_json(p->scope, stored);
    m.host->tool_finish_json(p->call, str(json));
    return;
  }
  std::vector<FoundItem> found;
  if (!db.query(p->scope, vector, p->query.limit, &found, &error)) {
    finish_error(m, p->call, "memory could not search: " + error);
    return;
  }
  const std::string json = query_result_json(p->scope, found);
  m.host->tool_finish_json(p->call, str(json));
}

// On the worker: the embedding model answered (always called once; see plugin.h).
void on_embedding(void* user, const sluice_model_response* response) {
  std::unique_ptr<PendingCall> p(static_cast<PendingCall*>(user));
  Memory& m = *p->memory;
  const std::string& model = m.config.embedding_model;
  if (response->error.len > 0) {
    finish_error(m, p->call,
                 "the embedding model \"" + model +
                     "\" did not answer: " + std::string(view(response->error)));
    return;
  }
  std::vector<float> vector;
  std::string error;
  if (!read_embedding(response->status, view(response->body), &vector, &error)) {
    finish_error(m, p->call, "the embedding model \"" + model + "\" " + error);
    return;
  }
  if (m.host->tool_call_remaining_ms(p->call) <= 0) {
    finish_error(m, p->call, "the call's deadline passed before memory could use the database");
    return;
  }
  sluice_tool_call* call = p->call;
  // std::function must be copyable: the pending call travels as a shared_ptr, released once.
  auto shared = std::make_shared<std::unique_ptr<PendingCall>>(std::move(p));
  auto job = [shared, vector = std::move(vector)](MemoryStore& db) mutable {
    run_in_database(std::move(*shared), std::move(vector), db);
  };
  if (!m.db->push(std::move(job))) {
    finish_error(m, call,
                 "memory is busy (" + std::to_string(m.config.queue) +
                     " calls are waiting for its database): try again shortly");
  }
}

// On the worker: the start of both tools, once the arguments are read.
void embed_then_run(std::unique_ptr<PendingCall> p, std::string_view text) {
  Memory& m = *p->memory;
  sluice_tool_call* c = p->call;
  const int64_t left = m.host->tool_call_remaining_ms(c);
  if (left <= 0) {
    finish_error(m, c, "the call's deadline passed before it started");
    return;
  }
  const std::string body = embedding_request_body(m.config.embedding_model, text);
  sluice_model_request request{};
  request.size = sizeof request;
  request.endpoint = str("embeddings");
  request.body = str(body);
  request.timeout_ms = static_cast<uint32_t>(left);
  const sluice_status status = m.host->tool_call_model(c, &request, &on_embedding, p.get());
  if (status != SLUICE_OK) {
    finish_error(m, c,
                 "memory could not ask the embedding model \"" + m.config.embedding_model +
                     "\" (status " + std::to_string(status) + ")");
    return;
  }
  (void)p.release();  // on_embedding owns it now
}

void call_store(void* config, sluice_tool_call* c) {
  auto p = std::make_unique<PendingCall>();
  p->memory = static_cast<Memory*>(config);
  p->call = c;
  p->is_store = true;
  Memory& m = *p->memory;
  std::string error;
  if (!parse_store_arguments(view(m.host->tool_call_arguments(c)), m.config.max_content_bytes,
                             &p->store, &error) ||
      !resolve_scope(p->store.scope, view(m.host->tool_call_agent(c)), Access::Write,
                     m.config.knowledge_bases, &p->scope, &error)) {
    finish_error(m, c, error);
    return;
  }
  const std::string text = p->store.content;
  embed_then_run(std::move(p), text);
}

void call_query(void* config, sluice_tool_call* c) {
  auto p = std::make_unique<PendingCall>();
  p->memory = static_cast<Memory*>(config);
  p->call = c;
  Memory& m = *p->memory;
  std::string error;
  if (!parse_query_arguments(view(m.host->tool_call_arguments(c)), &p->query, &error) ||
      !resolve_scope(p->query.scope, view(m.host->tool_call_agent(c)), Access::Read,
                     m.config.knowledge_bases, &p->scope, &error)) {
    finish_error(m, c, error);
    return;
  }
  const std::string text = p->query.query;
  embed_then_run(std::move(p), text);
}

// The settings are the plugin's (plugins: {memory: {config: ...}}), shared by both tools, so a
// tools: entry takes no config of its own. The per-entry object is the plugin's Memory.
Memory* g_memory = nullptr;  // set by sluice_plugin_init (plugin.cc), main thread

sluice_status create_config(const sluice_host_api* host, sluice_str config_json, void** out,
                            sluice_buf* error) {
  const std::string_view json = view(config_json);
  if (!json.empty() && json != "null") {
    host->buf_set(error, str("memory's tools take no config: its settings go under plugins: "
                             "{memory: {config: {db, embedding_model, knowledge_bases, ...}}}"));
    return SLUICE_ERROR;
  }
  *out = g_memory;
  return SLUICE_OK;
}

sluice_tool_vtable make_table(const char* description, const char* schema,
                              void (*call)(void*, sluice_tool_call*)) {
  sluice_tool_vtable t{};
  t.size = sizeof t;
  t.description = description;
  t.input_schema = schema;
  t.create_config = &create_config;
  t.destroy_config = nullptr;  // the Memory is freed in sluice_plugin_fini
  t.call = call;
  t.cancel = nullptr;  // every call ends by itself, soon (see the top of this file)
  return t;
}

}  // namespace

void set_memory(Memory* memory) {
  g_memory = memory;
}

const sluice_tool_vtable& store_tool() {
  static const sluice_tool_vtable table = make_table(
      "Remember a text for later: in your own memory (default), a channel's recent context, or "
      "a shared knowledge base you may write. Found again by meaning with memory.query.",
      kStoreInputSchema, &call_store);
  return table;
}

const sluice_tool_vtable& query_tool() {
  static const sluice_tool_vtable table = make_table(
      "Find remembered texts by meaning: the most similar ones first, with their scores. "
      "Searches your own memory (default), a channel's recent context, or a knowledge base you "
      "may read.",
      kQueryInputSchema, &call_query);
  return table;
}

}  // namespace memory
