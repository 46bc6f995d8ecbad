// A reply as a script of steps the connection plays in order: write bytes, wait, end. Every
// behaviour (a normal answer, a slow stream, a cut, a reset) is just a different script, so
// the connection code has one executor instead of one code path per failure.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "tests/support/mock/behavior.h"
#include "tests/support/mock/openai_replies.h"

namespace sluice::mock {

struct Step {
  // Rules: Write queues `bytes`; Wait pauses `ms` before the next step; Finish ends the
  // exchange (the connection goes back to reading when keep-alive, else closes gracefully);
  // Close flushes queued writes then closes (FIN); Reset closes at once with RST; Hang stops
  // here for good (the connection only waits for the peer to leave).
  enum class Kind : uint8_t { Write, Wait, Finish, Close, Reset, Hang };
  Kind kind;
  std::string bytes;  // Write
  uint32_t ms = 0;    // Wait
};

using Script = std::deque<Step>;

// The script for `reply` under `behavior`. `keep_alive` is what the client asked for; when
// false the head says `Connection: close` and the script ends with Close.
Script build_script(const Reply& reply, const Behavior& behavior, bool keep_alive,
                    uint64_t sequence);

}  // namespace sluice::mock
