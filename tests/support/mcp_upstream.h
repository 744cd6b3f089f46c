// An MCP server written for the tests (Streamable HTTP, enough of MCP to be a real peer), as a
// TestHttpServer handler. Tools: echo (free in tests), add, slow_progress (answers as an SSE
// stream: progress notifications, then the result), fail (isError result), input_needed (MCP
// 2026-07-28 resultType "input_required"), cut_stream (SSE stream that ends before its response).
#pragma once

#include <chrono>

#include "tests/support/test_http_server.h"

namespace x402proxy::testing {

struct McpUpstreamOptions {
  int progress_events = 3;
  std::chrono::milliseconds progress_interval{200};
  std::string session_id = "test-session-1";
};

TestHandler make_mcp_upstream(McpUpstreamOptions options = {});

}  // namespace x402proxy::testing
