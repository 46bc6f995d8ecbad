// Agent keys as the config stores them (DESIGN §4: `keys: ["sha256:<hex>"]`, what
// `sluice hash-key KEY` prints), computed independently of sluice with OpenSSL so a test
// checks sluice's hashing instead of reusing it.
#pragma once

#include <string>
#include <string_view>

namespace sluice::test {

// "sha256:" + lowercase hex SHA-256 of `key`.
std::string agent_key_digest(std::string_view key);

}  // namespace sluice::test
