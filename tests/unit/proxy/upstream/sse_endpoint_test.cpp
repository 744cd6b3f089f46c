#include <catch2/catch.hpp>

#include "proxy/upstream/sse/sse_channel.h"

using namespace x402proxy;
using proxy::resolve_sse_endpoint;

namespace {
net::HttpUrl sse_url(const std::string& text) {
  auto url = net::parse_http_url(text);
  REQUIRE(url.ok());
  return *url;
}
}  // namespace

TEST_CASE("the endpoint event's URI is resolved against the SSE endpoint, same origin only",
          "[sse_channel]") {
  const auto base = sse_url("http://127.0.0.1:3001/mcp/sse");
  // What the MCP SDK's SSEServerTransport sends: an absolute path.
  CHECK(*resolve_sse_endpoint(base, "/messages?sessionId=abc") == "/messages?sessionId=abc");
  CHECK(*resolve_sse_endpoint(base, "messages?sessionId=abc") == "/mcp/messages?sessionId=abc");
  CHECK(*resolve_sse_endpoint(base, "http://127.0.0.1:3001/post?s=1") == "/post?s=1");
  auto elsewhere = resolve_sse_endpoint(base, "http://evil.example:3001/post?s=1");
  REQUIRE_FALSE(elsewhere.ok());
  CHECK_THAT(elsewhere.error().message, Catch::Contains("another origin"));
  CHECK_FALSE(resolve_sse_endpoint(base, "http://127.0.0.1:3002/post").ok());
  CHECK_FALSE(resolve_sse_endpoint(base, "").ok());
  CHECK_FALSE(resolve_sse_endpoint(base, "/a b").ok());
}
