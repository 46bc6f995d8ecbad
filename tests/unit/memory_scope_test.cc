// plugins/memory scopes: what an agent may reach (README.md "Isolation"). Pure logic.
#include <gtest/gtest.h>

#include "memory/memory_config.h"
#include "memory/scope.h"

namespace memory {
namespace {

KnowledgeBases bases() {
  KnowledgeBases kb;
  kb["handbook"] = KnowledgeBaseAccess{{"*"}, {"admin"}};
  kb["finance"] = KnowledgeBaseAccess{{"alice"}, {"alice"}};
  return kb;
}

struct Resolved {
  bool ok = false;
  Scope scope;
  std::string error;
};

Resolved resolve(std::string_view text, std::string_view agent, Access access) {
  Resolved r;
  r.ok = resolve_scope(text, agent, access, bases(), &r.scope, &r.error);
  return r;
}

TEST(MemoryScope, TheDefaultIsTheAgentsOwnMemory) {
  for (std::string_view text : {"", "agent"}) {
    Resolved r = resolve(text, "alice", Access::Write);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.scope.kind, ScopeKind::Agent);
    EXPECT_EQ(r.scope.owner, "alice");
    EXPECT_EQ(r.scope.label(), "agent");
  }
}

TEST(MemoryScope, AChannelIsPrivateToTheCallingAgent) {
  Resolved a = resolve("channel:general", "alice", Access::Read);
  Resolved b = resolve("channel:general", "bob", Access::Read);
  ASSERT_TRUE(a.ok && b.ok);
  EXPECT_EQ(a.scope.label(), "channel:general");
  EXPECT_EQ(a.scope.owner, "alice");
  EXPECT_EQ(b.scope.owner, "bob") << "bob's channel:general is not alice's";
}

TEST(MemoryScope, KnowledgeBasesFollowTheirReadAndWriteLists) {
  EXPECT_TRUE(resolve("kb:handbook", "bob", Access::Read).ok) << "read: [\"*\"]";
  Resolved write = resolve("kb:handbook", "bob", Access::Write);
  EXPECT_FALSE(write.ok);
  EXPECT_EQ(write.error, "agent \"bob\" may not write knowledge base \"handbook\"");
  EXPECT_TRUE(resolve("kb:handbook", "admin", Access::Write).ok);
  Resolved read = resolve("kb:finance", "bob", Access::Read);
  EXPECT_FALSE(read.ok);
  EXPECT_EQ(read.error, "agent \"bob\" may not read knowledge base \"finance\"");
  Resolved kb = resolve("kb:finance", "alice", Access::Read);
  ASSERT_TRUE(kb.ok);
  EXPECT_EQ(kb.scope.owner, "") << "a knowledge base is shared, not per agent";
}

TEST(MemoryScope, AnUnknownKnowledgeBaseOrScopeIsAClearError) {
  EXPECT_EQ(resolve("kb:nope", "alice", Access::Read).error, "there is no knowledge base \"nope\"");
  EXPECT_EQ(resolve("team", "alice", Access::Read).error,
            "scope must be \"agent\", \"channel:<id>\" or \"kb:<name>\", not \"team\"");
  EXPECT_EQ(resolve("channel:", "alice", Access::Read).error,
            "scope \"channel:\" needs a name after the colon");
}

TEST(MemoryScope, AnAnonymousCallerReachesNothing) {
  Resolved r = resolve("agent", "", Access::Read);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("per agent"), std::string::npos) << r.error;
}

TEST(MemoryConfigParse, DefaultsWithoutConfigAndClearErrorsForBadKeys) {
  MemoryConfig config;
  std::string error;
  ASSERT_TRUE(parse_memory_config("null", &config, &error));
  EXPECT_EQ(config.db, "memory.db");
  EXPECT_EQ(config.embedding_model, "embed");
  EXPECT_EQ(config.channel_items, 20u);

  MemoryConfig c2;
  ASSERT_TRUE(
      parse_memory_config(R"({"db":"m.db","embedding_model":"e","channel_items":3,)"
                          R"("knowledge_bases":{"handbook":{"read":["*"],"write":["admin"]}}})",
                          &c2, &error))
      << error;
  EXPECT_EQ(c2.channel_items, 3u);
  ASSERT_EQ(c2.knowledge_bases.count("handbook"), 1u);
  EXPECT_EQ(c2.knowledge_bases.at("handbook").write, std::vector<std::string>{"admin"});

  MemoryConfig c3;
  EXPECT_FALSE(parse_memory_config(R"({"channel_item":3})", &c3, &error));
  EXPECT_EQ(error.rfind("channel_item: unknown key", 0), 0u) << error;
  EXPECT_FALSE(parse_memory_config(R"({"channel_items":0})", &c3, &error));
  EXPECT_EQ(error, "channel_items: expected an integer from 1 to 10000000");
  EXPECT_FALSE(parse_memory_config(R"({"knowledge_bases":{"kb":{"read":"*"}}})", &c3, &error));
  EXPECT_EQ(error, "knowledge_bases.kb.read: expected a list of agent names (\"*\": every agent)");
}

TEST(MemoryConfigParse, TheDatabaseIsRelativeToTheConfigsDirectory) {
  EXPECT_EQ(resolve_db_path("memory.db", "/etc/sluice"), "/etc/sluice/memory.db");
  EXPECT_EQ(resolve_db_path("/var/lib/m.db", "/etc/sluice"), "/var/lib/m.db");
}

}  // namespace
}  // namespace memory
