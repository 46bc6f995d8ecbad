// YAML → JSON text, for the free-form `config` a plugin gets (the C ABI hands it to the
// plugin's factory as JSON). Scalars are typed by the YAML 1.2 core schema, as /config shows
// them (core/admin/config_json.cc) but without redaction: a plugin gets its own settings as
// written. A quoted scalar ("42", '"true"') stays a string; a plain one becomes null, a boolean,
// an integer or a number when it reads as one; anything else is a string. Non-scalar map keys
// (legal YAML, meaningless in JSON) are written as their YAML text.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace sluice::config {

// An undefined or null node gives "null".
std::string yaml_to_json(const YAML::Node& node);

}  // namespace sluice::config
