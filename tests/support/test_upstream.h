// An in-process MCP Streamable HTTP server for tests: the MCP behaviour of mcp_upstream.h on a
// TestHttpServer (127.0.0.1, ephemeral port, its own thread and io_context), with real sessions
// and knobs that make it fail the ways an upstream fails.
//
// Sessions (MCP basic/transports, session management): `initialize` issues a fresh Mcp-Session-Id;
// a request naming an unknown or ended session gets 404; DELETE ends a session (200). Requests
// without a session id are served unless `require_session` (then 400), so tests may skip the
// handshake. GET /mcp opens the server stream: one notification, then held open until closed.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/mcp_upstream.h"
#include "tests/support/test_http_server.h"

namespace x402proxy::testing {

struct TestUpstreamOptions {
  int progress_events = 3;                           // slow_progress default step count
  std::chrono::milliseconds progress_interval{200};  // and spacing
  bool hold_get_stream = true;                       // GET /mcp stays open after its event
  bool require_session = false;                      // 400 for requests without a session id
  unsigned short port = 0;                           // 0: an ephemeral port
  std::string address = "127.0.0.1";                 // "0.0.0.0": reachable from other hosts
};

class TestUpstream {
 public:
  explicit TestUpstream(TestUpstreamOptions options = {});
  TestUpstream(const TestUpstream&) = delete;
  TestUpstream& operator=(const TestUpstream&) = delete;

  unsigned short port() const { return server_.port(); }
  std::string url(const std::string& path = "/mcp") const { return server_.url(path); }

  // Every request received, in order, exactly as received.
  std::vector<RecordedRequest> requests() const { return server_.requests(); }
  // How many tools/call requests for this tool arrived (batch elements counted one by one).
  std::size_t tool_calls(std::string_view name) const;
  // Sessions issued by initialize and not ended by DELETE.
  std::set<std::string> active_sessions() const;

  // Failure knobs, effective for the next request.
  void set_response_delay(std::chrono::milliseconds delay);  // wait before answering
  void set_close_connections(bool close);  // hang up on every request, answering nothing
  void set_progress(int events, std::chrono::milliseconds interval);
  void set_require_session(bool required);
  // Drops every open connection now (held GET streams included).
  void close_open_connections() { server_.close_connections(); }
  // The upstream goes down (connects refused) and comes back on the same port.
  void stop_listening() { server_.stop_listening(); }
  bool resume_listening() { return server_.resume_listening(); }

  TestHttpServer& server() { return server_; }

 private:
  TestResponse answer(const RecordedRequest& request);

  mutable std::mutex mutex_;
  McpUpstreamOptions mcp_;
  bool require_session_ = false;
  bool close_connections_ = false;
  std::chrono::milliseconds response_delay_{0};
  std::size_t sessions_issued_ = 0;
  std::set<std::string> active_sessions_;
  TestHttpServer server_;  // last: it calls answer() from its thread as soon as it exists
};

}  // namespace x402proxy::testing
