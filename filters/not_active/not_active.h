// Filters of DESIGN §4 that this version accepts but does not run yet (lua, plugin). Each one's
// builder validates its documented keys exactly as the real filter will — unknown keys, wrong types
// and bad values fail the load with the usual precise message — so a config written today keeps
// working when the filter becomes active. Then it logs one warning and puts a filter in the chain
// that does nothing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config/node_reader.h"
#include "core/filter/filter.h"

namespace sluice::filters::not_active {

// Call after validating (reader.finish() done): logs
//   <file:line:col>: <path>: filter "retry" is not active yet in this version; it is accepted and
//   ignored
// and returns a factory whose filter passes everything through.
std::unique_ptr<filter::FilterFactory> accept_inactive(const config::NodeReader& reader,
                                                       const char* type);

// Each element of the list at `key` must be one of `allowed` (error with a did-you-mean).
void check_each_one_of(config::NodeReader& reader, const char* key,
                       const std::vector<std::string>& values,
                       const std::vector<std::string>& allowed);

}  // namespace sluice::filters::not_active
