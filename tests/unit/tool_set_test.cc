// ToolSet (DESIGN §5 "Tools"): what an agent sees and calls. Fixed sources (one http/lua/plugin
// tool) are indexed by name and filtered once per agent; sources whose list changes (upstream
// MCP servers) are read on every request and merged in, the first source in config order
// winning a name both offer — the same answer, request after request, as a scan of every tool.
#include "core/tools/tool_set.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/config/config.h"

namespace sluice::tools {
namespace {

// A source whose list the test changes, as an upstream MCP server's does.
struct ChangingList {
  std::mutex mutex;
  std::shared_ptr<const ToolList> list = std::make_shared<ToolList>();
  void set(std::vector<std::pair<std::string, std::string>> tools) {  // name, description
    auto next = std::make_shared<ToolList>();
    for (auto& [name, description] : tools) {
      ToolEntry e;
      e.name = name;
      e.function_name = function_name_of(name);
      e.description = description;
      next->push_back(std::move(e));
    }
    std::lock_guard<std::mutex> lock(mutex);
    list = std::move(next);
  }
};

ChangingList& changing(const std::string& entry) {
  static std::map<std::string, ChangingList> lists;
  return lists[entry];
}

class ChangingSource final : public ToolSource {
 public:
  explicit ChangingSource(ChangingList& list) : list_(list) {}
  std::shared_ptr<const ToolList> tools() const override {
    std::lock_guard<std::mutex> lock(list_.mutex);
    return list_.list;
  }

 private:
  ChangingList& list_;
};

const bool kRegistered = [] {
  ToolTypeRegistry::global().add("test_changing", [](const ToolBuildInputs& in) {
    return std::make_shared<ChangingSource>(changing(in.spec.name));
  });
  return true;
}();

config::ToolSpec http_tool(const std::string& name, const std::string& description = "") {
  config::ToolSpec spec;
  spec.name = name;
  spec.type = "http";
  spec.description = description.empty() ? name : description;
  spec.url = "http://127.0.0.1:9/tools/" + name;
  return spec;
}

config::Agent agent(const std::string& name, std::vector<std::string> tools) {
  config::Agent a;
  a.name = name;
  a.tools = std::move(tools);
  return a;
}

std::vector<std::string> names(const VisibleTools& visible) {
  std::vector<std::string> out;
  for (const ToolEntry* e : visible.entries) out.push_back(e->name);
  return out;
}

class ToolSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kRegistered);
    for (const char* name : {"a.x", "a.y", "b.x", "c.get_one", "c.get_two", "c.put"}) {
      config.tools.emplace(name, http_tool(name));
    }
    config.agents.emplace("alice", agent("alice", {"a.*", "c.get_*", "b.x"}));
    config.agents.emplace("bob", agent("bob", {"c.put"}));
    config.agents.emplace("carol", agent("carol", {}));
  }
  std::shared_ptr<const ToolSet> build() { return ToolSet::build(config, {}); }
  const config::Agent* of(const std::string& name) { return &config.agents.at(name); }

  config::Config config;
};

TEST_F(ToolSetTest, AnAgentSeesWhatItsGlobsAndNamesAllowSortedByName) {
  auto set = build();
  const std::vector<std::string> alice = {"a.x", "a.y", "b.x", "c.get_one", "c.get_two"};
  EXPECT_EQ(names(set->visible_to(of("alice"))), alice);
  // The second time comes from what the first worked out: the same list.
  EXPECT_EQ(names(set->visible_to(of("alice"))), alice);
  EXPECT_EQ(names(set->visible_to(of("bob"))), std::vector<std::string>{"c.put"});
  EXPECT_TRUE(set->visible_to(of("carol")).entries.empty());
  // No agent (a chain without auth): every tool.
  EXPECT_EQ(set->visible_to(nullptr).entries.size(), 6u);
}

TEST_F(ToolSetTest, FindsByNameOrFunctionNameOnlyWhatTheAgentMayCall) {
  auto set = build();
  FoundTool by_name = set->find(of("alice"), "c.get_one");
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name.entry->name, "c.get_one");
  EXPECT_TRUE(by_name.held);
  FoundTool by_function = set->find(of("alice"), "c_get_two");
  ASSERT_TRUE(by_function);
  EXPECT_EQ(by_function.entry->name, "c.get_two");
  EXPECT_FALSE(set->find(of("alice"), "c.put")) << "not in alice's allow-list";
  EXPECT_TRUE(set->find(of("bob"), "c.put"));
  EXPECT_FALSE(set->find(of("alice"), "nope"));
  EXPECT_FALSE(set->find(of("carol"), "a.x"));
  EXPECT_TRUE(set->find(nullptr, "c_put"));
}

TEST_F(ToolSetTest, AnAgentWithAnotherAllowListThanTheConfigsIsFilteredByItsOwn) {
  auto set = build();
  ASSERT_EQ(set->visible_to(of("alice")).entries.size(), 5u);  // the config's alice, remembered
  const config::Agent other = agent("alice", {"b.*"});         // same name, another list
  EXPECT_EQ(names(set->visible_to(&other)), std::vector<std::string>{"b.x"});
  EXPECT_FALSE(set->find(&other, "a.x"));
  EXPECT_TRUE(set->find(&other, "b.x"));
  const config::Agent stranger = agent("dave", {"a.y"});
  EXPECT_EQ(names(set->visible_to(&stranger)), std::vector<std::string>{"a.y"});
}

TEST_F(ToolSetTest, ChangingSourcesAreReadEachTimeAndTheFirstSourceWinsAName) {
  // "a" comes before "a.x" in config order and offers an "a.x" of its own; "z" comes after
  // every fixed tool and offers "a.y" and "z.new".
  config::ToolSpec first;
  first.name = "a";
  first.type = "test_changing";
  config.tools.emplace("a", first);
  config::ToolSpec last = first;
  last.name = "z";
  config.tools.emplace("z", last);
  changing("a").set({{"a.x", "from a"}});
  changing("z").set({{"a.y", "from z"}, {"z.new", "from z"}});
  config.agents["alice"].tools.push_back("z.*");
  auto set = build();

  auto description = [&](const VisibleTools& v, const std::string& name) -> std::string {
    for (const ToolEntry* e : v.entries) {
      if (e->name == name) return e->description;
    }
    return "(absent)";
  };
  VisibleTools v = set->visible_to(of("alice"));
  EXPECT_EQ(names(v),
            (std::vector<std::string>{"a.x", "a.y", "b.x", "c.get_one", "c.get_two", "z.new"}));
  EXPECT_EQ(description(v, "a.x"), "from a");  // the earlier source's
  EXPECT_EQ(description(v, "a.y"), "a.y");     // the fixed tool, before "z"
  EXPECT_EQ(set->find(of("alice"), "a.x").entry->description, "from a");
  EXPECT_EQ(set->find(of("alice"), "a_y").entry->description, "a.y");
  EXPECT_EQ(set->find(of("alice"), "z.new").entry->description, "from z");

  // The upstream's list changes: the next request sees it.
  changing("a").set({});
  changing("z").set({{"z.other", "from z"}});
  v = set->visible_to(of("alice"));
  EXPECT_EQ(names(v),
            (std::vector<std::string>{"a.x", "a.y", "b.x", "c.get_one", "c.get_two", "z.other"}));
  EXPECT_EQ(description(v, "a.x"), "a.x");
  EXPECT_EQ(set->find(of("alice"), "a.x").entry->description, "a.x");
  EXPECT_FALSE(set->find(of("alice"), "z.new"));
  EXPECT_EQ(set->find(of("alice"), "z_other").entry->description, "from z");
}

}  // namespace
}  // namespace sluice::tools
