// The filters this version accepts but does not run yet: their documented YAML is validated
// (so a config written today keeps working later), anything else fails the load precisely,
// and the filter they put in the chain lets every request through untouched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/filter/request_context.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<filter::FilterFactory> build(const std::string& type, const std::string& yaml) {
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find(type);
  if (builder == nullptr) throw std::runtime_error(type + " is not registered");
  config::Config c;
  config::NodeReader reader(YAML::Load(yaml), "filters[2]." + type, "sluice.yaml");
  return (*builder)(reader, c);
}

std::string build_error(const std::string& type, const std::string& yaml) {
  try {
    build(type, yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

struct Accepted {
  const char* type;
  const char* yaml;
};

class AcceptedFilter : public ::testing::TestWithParam<Accepted> {};

TEST_P(AcceptedFilter, IsAPassThrough) {
  auto factory = build(GetParam().type, GetParam().yaml);
  EXPECT_EQ(factory->name(), GetParam().type);
  filter::RequestContext ctx;
  ctx.endpoint = filter::Endpoint::ChatCompletions;
  ctx.fields.has_model = true;
  ctx.fields.model = "fast";
  filter::Filter* f = factory->create(ctx);
  EXPECT_EQ(f->on_request(ctx), filter::RequestStatus::Continue);
  filter::Candidate candidate;
  std::string_view reason;
  EXPECT_EQ(f->on_upstream_pick(ctx, candidate, &reason), filter::PickStatus::Allow);
  filter::AttemptOutcome outcome;
  outcome.result = filter::AttemptResult::HttpError;
  outcome.status = 503;
  EXPECT_EQ(f->on_attempt_done(ctx, outcome), filter::AttemptDecision::Default);
  f->on_complete(ctx);
  EXPECT_FALSE(ctx.has_local_reply());
  EXPECT_EQ(ctx.agent, nullptr);
  EXPECT_EQ(ctx.model_group, nullptr);
}

INSTANTIATE_TEST_SUITE_P(
    DocumentedShapes, AcceptedFilter,
    ::testing::Values(
        Accepted{"lua", "{file: ../plugins/lua/keyword_guard.lua, config: {words: [a, b]}}"},
        Accepted{"plugin", "{name: my_filter, config: {anything: [1, {x: y}]}}"},
        Accepted{"plugin", "{name: my_filter}"}));

struct Refused {
  const char* type;
  const char* yaml;
  const char* message;  // a part of the error
};

class RefusedFilter : public ::testing::TestWithParam<Refused> {};

TEST_P(RefusedFilter, FailsTheLoad) {
  EXPECT_THAT(build_error(GetParam().type, GetParam().yaml), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    BadShapes, RefusedFilter,
    ::testing::Values(Refused{"lua", "{config: {}}", "missing required key \"file\""},
                      Refused{"lua", "{file: \"\"}", "must not be empty"},
                      Refused{"lua", "{file: x.lua, confg: {}}", "did you mean \"config\""},
                      Refused{"plugin", "{config: {}}", "missing required key \"name\""}));

TEST(NotActiveFilter, LogsOneWarningAtLoad) {
  ::testing::internal::CaptureStderr();
  auto factory = build("plugin", "{name: my_filter}");
  filter::RequestContext ctx;
  factory->create(ctx)->on_request(ctx);  // nothing more per request
  std::string err = ::testing::internal::GetCapturedStderr();
  const std::string warning =
      "sluice.yaml:1:1: filters[2].plugin: filter \"plugin\" is not active yet in this version; "
      "it is accepted and ignored\n";
  ASSERT_THAT(err, HasSubstr(warning));
  EXPECT_EQ(err.find(warning), err.rfind(warning));
  EXPECT_THAT(err, HasSubstr("sluice warn: "));
}

}  // namespace
}  // namespace sluice
