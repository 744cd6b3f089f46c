// serve: everything that is not a priced call passes through untouched, and bad input is refused
// with a clear error while the daemon keeps serving.
#include <thread>

#include "tests/support/serve_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;

TEST_CASE("a free call reaches the upstream byte for byte and its answer comes back",
          "[serve][passthrough]") {
  ServeFixture serve;
  // Unusual spacing and key order: the upstream must see exactly these bytes.
  const std::string body =
      "{ \"id\" : 42, \"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\n"
      "  \"params\":{\"arguments\":{\"text\":\"h\\u00e9llo\"},\"name\":\"echo\"} }";
  auto reply = mcp_post(serve.port, body,
                        {{"Mcp-Session-Id", "abc"},
                         {"Authorization", "Bearer t"},
                         {"MCP-Protocol-Version", "2025-06-18"}});
  REQUIRE(reply.status == 200);
  CHECK(result_of(reply).at("content").at(0).at("text").as_string() == "h\xc3\xa9llo");
  CHECK(reply.header("mcp-session-id") == "test-session-1");
  auto seen = serve.upstream.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].body == body);
  CHECK(seen[0].target == "/mcp");
  CHECK(seen[0].header("mcp-session-id") == "abc");
  CHECK(seen[0].header("authorization") == "Bearer t");
  CHECK(seen[0].header("mcp-protocol-version") == "2025-06-18");
}

TEST_CASE("hop-by-hop headers stop at the proxy, end-to-end ones pass", "[serve][passthrough]") {
  ServeFixture serve;
  auto reply = mcp_post(serve.port, R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                        {{"Connection", "keep-alive, X-Hop"},
                         {"X-Hop", "1"},
                         {"TE", "trailers"},
                         {"Last-Event-ID", "7"},
                         {"Mcp-Method", "ping"}});
  REQUIRE(reply.status == 200);
  auto seen = serve.upstream.requests().at(0);
  CHECK(seen.header("x-hop").empty());
  CHECK(seen.header("te").empty());
  CHECK(seen.header("last-event-id") == "7");
  CHECK(seen.header("mcp-method") == "ping");
}

TEST_CASE("initialize, notifications, GET streams and DELETE pass through",
          "[serve][passthrough]") {
  ServeFixture serve;
  auto init = mcp_post(
      serve.port, R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":)"
                  R"("2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  CHECK(result_of(init).at("protocolVersion").as_string() == "2025-03-26");
  auto note = mcp_post(serve.port, R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  CHECK(note.status == 202);
  auto stream = http_request(serve.port, "GET", "/mcp", "", {{"Accept", "text/event-stream"}});
  CHECK(stream.status == 200);
  CHECK(stream.header("content-type") == "text/event-stream");
  CHECK_THAT(stream.body, Catch::Contains("notifications/tools/list_changed"));
  auto bye = http_request(serve.port, "DELETE", "/mcp", "", {{"Mcp-Session-Id", "test-session-1"}});
  CHECK(bye.status == 200);
  CHECK(serve.upstream.requests().back().method == "DELETE");
}

TEST_CASE("a free tool's SSE answer is streamed event by event, not held", "[serve][passthrough]") {
  ServeOptionsForTest options;
  options.tools = "tools: { echo: free }\n";
  options.upstream.progress_interval = std::chrono::milliseconds(300);
  ServeFixture serve(options);
  auto reply = mcp_post(serve.port, tool_call("slow_progress", "{}", R"({"progressToken":"p1"})"));
  REQUIRE(reply.status == 200);
  CHECK(reply.header("content-type") == "text/event-stream");
  CHECK_THAT(reply.body, Catch::Contains("notifications/progress") && Catch::Contains("done"));
  // Four events 300 ms apart: had the proxy buffered the body, they would arrive together.
  REQUIRE(reply.pieces.size() >= 2);
  CHECK(reply.pieces.back().first - reply.pieces.front().first > std::chrono::milliseconds(500));
}

TEST_CASE("bad requests get specific errors and the daemon keeps serving", "[serve][errors]") {
  ServeFixture serve;
  auto not_json = mcp_post(serve.port, "{not json");
  CHECK(not_json.status == 400);
  CHECK_THAT(not_json.body, Catch::Contains("-32700"));

  auto duplicate = mcp_post(
      serve.port,
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"add"}})");
  CHECK(duplicate.status == 400);
  CHECK_THAT(duplicate.body, Catch::Contains("duplicate key") && Catch::Contains("name"));

  auto not_rpc = mcp_post(serve.port, R"({"id":1,"method":"ping"})");
  CHECK(not_rpc.status == 400);
  CHECK_THAT(not_rpc.body, Catch::Contains("-32600"));

  auto batch =
      mcp_post(serve.port, "[" + tool_call("echo") + "," + tool_call("add", "{}", "", 2) + "]");
  CHECK(batch.status == 400);
  CHECK_THAT(batch.body, Catch::Contains("add") && Catch::Contains("batch"));
  CHECK(serve.upstream_tool_calls("add") == 0);

  auto mismatch =
      mcp_post(serve.port, tool_call("add"), {{"Mcp-Method", "tools/call"}, {"Mcp-Name", "echo"}});
  CHECK(mismatch.status == 400);
  CHECK_THAT(mismatch.body, Catch::Contains("-32020") && Catch::Contains("echo"));
  CHECK(serve.upstream_tool_calls("add") == 0);

  auto compressed = mcp_post(serve.port, tool_call("add"), {{"Content-Encoding", "gzip"}});
  CHECK(compressed.status == 415);

  auto too_big =
      mcp_post(serve.port, tool_call("echo", "{\"text\":\"" + std::string(70000, 'x') + "\"}"));
  CHECK(too_big.status == 413);

  // A request whose body never finishes arriving.
  auto slow = raw_exchange(serve.port,
                           "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Content-Length: 100\r\n\r\n{\"jsonrpc\"");
  CHECK_THAT(slow, Catch::StartsWith("HTTP/1.1 408"));

  auto garbage = raw_exchange(serve.port, "BLAH\r\n\r\n");
  CHECK_THAT(garbage, Catch::StartsWith("HTTP/1.1 400"));

  CHECK(serve.upstream_tool_calls("echo") == 0);
  auto still = mcp_post(serve.port, tool_call("echo", R"({"text":"alive"})"));
  CHECK(result_of(still).at("content").at(0).at("text").as_string() == "alive");
  CHECK(serve.proxy->running());
}

TEST_CASE("an unreachable upstream is a clear 502 naming it", "[serve][errors]") {
  ServeOptionsForTest options;
  options.upstream_url = "http://127.0.0.1:1/mcp";
  ServeFixture serve(options);
  auto reply = mcp_post(serve.port, tool_call("echo"));
  CHECK(reply.status == 502);
  CHECK_THAT(reply.body, Catch::Contains("127.0.0.1:1"));
}
