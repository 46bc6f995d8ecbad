// The MCP session sluice holds with one upstream server (MCP "lifecycle" + Streamable HTTP
// "session management"), shared by everyone who talks to that server: its list keeper on the
// upstream thread and the tools/call of every worker. One session serves them all — a session
// is a header, not a connection — so N workers do not mean N sessions.
//
// Who changes it: whoever finds it missing or gone. An initialize (+ notifications/initialized)
// that succeeds is published with publish(); a request answered 404 with the session's id
// means the server ended it, and the caller renews it — unless someone else already did
// (current() has a newer generation), then it simply uses theirs. publish() is a compare-and-
// set on the generation, so two workers renewing at once leave one winner, not a ping-pong.
//
// Thread-safe; a short mutex, never held across I/O.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace sluice::mcp {

// One established session, as a request uses it: copied out, so it stays whole while in use.
struct SessionTicket {
  uint64_t generation = 0;          // 0: none established yet; grows with each publish
  std::string protocol_version;     // negotiated at initialize (MCP-Protocol-Version header)
  std::string id;                   // Mcp-Session-Id; "" when the server keeps no sessions
  bool tools_list_changed = false;  // the server said it sends notifications/tools/list_changed
  std::string server_name;          // serverInfo.name, for logs

  bool established() const { return generation != 0; }
};

class SessionStore {
 public:
  SessionTicket current() const;
  // Makes `fresh` the session if the current one is still generation `replaces` (0 when there
  // was none) and returns it with its new generation; otherwise leaves the newer one in place
  // and returns `fresh` unpublished (generation 0): the caller may still use it for the request
  // it made it for.
  SessionTicket publish(uint64_t replaces, SessionTicket fresh);
  // Forgets the session (an upstream that is being retired, or a test). Later requests start
  // with a new initialize.
  void clear();

 private:
  mutable std::mutex mutex_;
  SessionTicket current_;
  uint64_t last_generation_ = 0;
};

}  // namespace sluice::mcp
