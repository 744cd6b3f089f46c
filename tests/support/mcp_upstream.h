// The MCP server behaviour of the test upstream (Streamable HTTP, enough of MCP to be a real peer),
// as a TestHttpServer handler. `TestUpstream` (test_upstream.h) runs it with sessions and failure
// knobs; `make_mcp_upstream` is the stateless form.
//
// Tools: echo (text of arguments.text), add (a + b, with the tool's own result _meta), weather
// (text and structuredContent, declares an outputSchema), slow_progress (answers as an SSE stream:
// notifications/progress for params._meta.progressToken, then the result), fail (isError result),
// input_needed (MCP 2026-07-28 InputRequiredResult until the retry carries inputResponses and the
// requestState), cut_stream (an SSE stream that ends before its response).
#pragma once

#include <array>
#include <chrono>
#include <string>

#include "tests/support/test_http_server.h"

namespace x402proxy::testing {

inline constexpr std::array<const char*, 7> kMcpUpstreamTools = {
    "echo", "add", "weather", "slow_progress", "fail", "input_needed", "cut_stream"};

// The requestState that input_needed sends and expects back on the retry (MCP 2026-07-28 MRTR).
inline constexpr const char* kInputNeededState = "input-needed-state-1";

struct McpUpstreamOptions {
  int progress_events = 3;  // slow_progress: notifications before the result (arguments.steps)
  std::chrono::milliseconds progress_interval{200};  // between them (arguments.interval_ms)
  std::string session_id = "test-session-1";         // stateless form: on every answer
  bool hold_get_stream = false;  // GET /mcp: after its notification, keep the stream open
};

// The answer to one request. `session_header`, when not empty, is sent as Mcp-Session-Id.
TestResponse answer_mcp_request(const RecordedRequest& request, const McpUpstreamOptions& options,
                                const std::string& session_header);

// Stateless: every answer carries options.session_id; sessions are not checked.
TestHandler make_mcp_upstream(McpUpstreamOptions options = {});

}  // namespace x402proxy::testing
