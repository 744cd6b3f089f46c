#include "mcp/mcp_request.h"

#include <catch2/catch.hpp>

using namespace x402proxy::mcp;

TEST_CASE("a tools/call is classified with its tool name and payment", "[mcp_request]") {
  auto post = inspect_mcp_post(
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add","arguments":{"a":1},)"
      R"("_meta":{"progressToken":3,"x402/payment":{"x402Version":2}}}})");
  REQUIRE(post.ok());
  REQUIRE(post->messages.size() == 1);
  const McpMessage& call = post->messages[0];
  CHECK(call.kind == McpMessage::Kind::request);
  CHECK(call.is_tools_call);
  CHECK(call.tool_name == "add");
  CHECK(call.id == boost::json::value(7));
  REQUIRE(call.payment != nullptr);
  CHECK(call.payment->is_object());
  CHECK_FALSE(call.advertises_payment_extension);
}

TEST_CASE("the org.x402/payment extension is read from per-request client capabilities",
          "[mcp_request]") {
  auto post = inspect_mcp_post(
      R"({"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"add","_meta":{)"
      R"("io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
      R"("io.modelcontextprotocol/clientCapabilities":{"extensions":{"org.x402/payment":{}}}}}})");
  REQUIRE(post.ok());
  CHECK(post->messages[0].advertises_payment_extension);
  CHECK(post->messages[0].body_protocol_version == std::optional<std::string>("2026-07-28"));
}

TEST_CASE("a repeated key anywhere in the message is refused as a parse error", "[mcp_request]") {
  auto envelope = inspect_mcp_post(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping","params":{"name":"add"}})");
  REQUIRE_FALSE(envelope.ok());
  CHECK(envelope.error().reason == "jsonrpc.parse");
  CHECK_THAT(envelope.error().message, Catch::Contains("method"));

  auto params = inspect_mcp_post(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"add"}})");
  REQUIRE_FALSE(params.ok());
  CHECK_THAT(params.error().message, Catch::Contains("name"));
}

TEST_CASE("malformed JSON-RPC messages are refused with what is wrong", "[mcp_request]") {
  CHECK(inspect_mcp_post("not json").error().reason == "jsonrpc.parse");
  CHECK(inspect_mcp_post("[]").error().reason == "jsonrpc.invalid");
  CHECK(inspect_mcp_post(R"({"jsonrpc":"1.0","id":1,"method":"ping"})").error().reason ==
        "jsonrpc.invalid");
  CHECK(inspect_mcp_post(R"({"jsonrpc":"2.0","id":{},"method":"ping"})").error().reason ==
        "jsonrpc.invalid");
  auto nameless = inspect_mcp_post(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}})");
  REQUIRE_FALSE(nameless.ok());
  CHECK_THAT(nameless.error().message, Catch::Contains("params.name"));
  auto numeric_name =
      inspect_mcp_post(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}})");
  CHECK_FALSE(numeric_name.ok());
  auto bad_meta = inspect_mcp_post(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":[1]}})");
  CHECK_FALSE(bad_meta.ok());
}

TEST_CASE("a batch lists each message, notifications and responses included", "[mcp_request]") {
  auto post =
      inspect_mcp_post(R"([{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add"}},)"
                       R"({"jsonrpc":"2.0","method":"notifications/initialized"},)"
                       R"({"jsonrpc":"2.0","id":9,"result":{}}])");
  REQUIRE(post.ok());
  CHECK(post->is_batch);
  REQUIRE(post->messages.size() == 3);
  CHECK(post->messages[0].is_tools_call);
  CHECK(post->messages[1].kind == McpMessage::Kind::notification);
  CHECK(post->messages[2].kind == McpMessage::Kind::response);
}

TEST_CASE("Mcp-Method and Mcp-Name must agree with the body", "[mcp_request]") {
  auto post =
      inspect_mcp_post(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add"}})");
  REQUIRE(post.ok());
  const McpMessage& call = post->messages[0];
  CHECK(check_request_headers(call, {}).ok());
  CHECK(check_request_headers(call, {"2026-07-28", "tools/call", "add"}).ok());

  auto wrong_name = check_request_headers(call, {std::nullopt, "tools/call", "echo"});
  REQUIRE_FALSE(wrong_name.ok());
  CHECK(wrong_name.error().reason == "mcp.header_mismatch");
  CHECK_THAT(wrong_name.error().message, Catch::Contains("'echo'") && Catch::Contains("'add'"));

  CHECK_FALSE(check_request_headers(call, {std::nullopt, "tools/list", std::nullopt}).ok());
  // 2026-07-28 requires the headers.
  CHECK_FALSE(check_request_headers(call, {"2026-07-28", "tools/call", std::nullopt}).ok());
  CHECK_FALSE(check_request_headers(call, {"2026-07-28", std::nullopt, "add"}).ok());
  // The base64 sentinel is decoded before comparing: "add" is YWRk.
  CHECK(check_request_headers(call, {"2026-07-28", "tools/call", "=?base64?YWRk?="}).ok());
  CHECK_FALSE(
      check_request_headers(call, {"2026-07-28", "tools/call", "=?base64?ZWNobw==?="}).ok());
}

TEST_CASE("MCP-Protocol-Version must match the body's protocolVersion", "[mcp_request]") {
  auto post = inspect_mcp_post(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{)"
                               R"("io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})");
  REQUIRE(post.ok());
  CHECK(check_request_headers(post->messages[0], {"2026-07-28", "ping", std::nullopt}).ok());
  CHECK_FALSE(check_request_headers(post->messages[0], {"2025-11-25", "ping", std::nullopt}).ok());
}
