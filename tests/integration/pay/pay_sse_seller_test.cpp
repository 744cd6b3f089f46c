// `pay` toward a seller on the HTTP+SSE transport of MCP 2024-11-05 (`transport: sse`): serve's
// own GET /sse + POST /messages endpoint as that seller, the embedded facilitator inside, the test
// upstream behind it; real binaries over real sockets.
#include <filesystem>

#include "tests/integration/pay/pay_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;

TEST_CASE("pay speaks the HTTP+SSE transport to a seller: free call, paid call settled once",
          "[pay][sse]") {
  std::string dir = make_temp_dir("pay-sse");
  ServeOptionsForTest options = embedded_serve_options(dir);
  options.log_level = "info";
  ServeFixture serve(options);
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/sse",
                "  - { type: evm, key_file: " + write_key(dir, "evm.key", kPayerKey) + " }\n",
                "transport: sse\nlimits: { per_call: \"$0.01\" }\n");
  REQUIRE(pay.client->initialize());

  auto free = pay.client->call_tool(1, "echo", {{"text", "over sse"}});
  REQUIRE(free);
  INFO(json::serialize(*free) << "\n" << pay.log() << "\n" << serve.proxy->output());
  CHECK(free->at("result").at("content").at(0).at("text").as_string() == "over sse");

  auto paid = pay.client->call_tool(2, "add", {{"a", 2}, {"b", 40}});
  REQUIRE(paid);
  INFO(json::serialize(*paid) << "\n" << pay.log() << "\n" << serve.proxy->output());
  REQUIRE(paid->contains("result"));
  CHECK(paid->at("result").at("content").at(0).at("text").as_string() == "42");
  const auto& receipt = paid->at("result").at("_meta").at("x402/payment-response").as_object();
  CHECK(receipt.at("success").as_bool());
  auto transfers = settled_transfers(dir + "/ledger.sqlite");
  REQUIRE(transfers.size() == 1);
  CHECK(transfers[0].transaction == receipt.at("transaction").as_string());
  CHECK(serve.upstream_tool_calls("add") == 1);
  // It went over the old transport: a session of serve's /sse, not its /mcp endpoint.
  CHECK_THAT(serve.proxy->output(), Catch::Contains("SSE client session"));
}

TEST_CASE("pay toward an SSE seller that is not one says so", "[pay][sse]") {
  std::string dir = make_temp_dir("pay-sse-wrong");
  ServeFixture serve(embedded_serve_options(dir));
  // /mcp is Streamable HTTP: a GET there is no HTTP+SSE session stream with an endpoint event.
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/nope",
                "  - { type: evm, key_file: " + write_key(dir, "evm.key", kPayerKey) + " }\n",
                "transport: sse\nrequest_timeout: 5s\n");
  json::object params{{"protocolVersion", "2024-11-05"},
                      {"capabilities", json::object()},
                      {"clientInfo", json::object{{"name", "t"}, {"version", "1"}}}};
  REQUIRE(pay.client->send(
      json::object{{"jsonrpc", "2.0"}, {"id", 0}, {"method", "initialize"}, {"params", params}}));
  auto answer = pay.client->response(0);
  REQUIRE(answer);
  INFO(json::serialize(*answer) << "\n" << pay.log());
  CHECK_THAT(error_message(*answer), Catch::Contains("not an HTTP+SSE event stream"));
}

TEST_CASE(
    "pay with transport auto keeps Streamable HTTP where it is spoken and falls back to "
    "HTTP+SSE on a refused initialize",
    "[pay][sse]") {
  std::string dir = make_temp_dir("pay-sse-auto");
  ServeOptionsForTest options = embedded_serve_options(dir);
  options.log_level = "info";
  ServeFixture serve(options);
  const std::string signer =
      "  - { type: evm, key_file: " + write_key(dir, "evm.key", kPayerKey) + " }\n";
  {
    // serve's /sse refuses a POST (405): the old transport, found as MCP 2025-03-26 says.
    const std::string old_dir = dir + "/old";
    std::filesystem::create_directories(old_dir);
    PayBridge pay(old_dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/sse", signer,
                  "transport: auto\n");
    REQUIRE(pay.client->initialize());
    auto paid = pay.client->call_tool(1, "add", {{"a", 1}, {"b", 2}});
    REQUIRE(paid);
    INFO(json::serialize(*paid) << "\n" << pay.log());
    CHECK(paid->at("result").at("content").at(0).at("text").as_string() == "3");
    CHECK(paid->at("result").at("_meta").at("x402/payment-response").at("success").as_bool());
    CHECK_THAT(pay.log(), Catch::Contains("trying the HTTP+SSE transport"));
  }
  CHECK_THAT(serve.proxy->output(), Catch::Contains("SSE client session"));
  const std::string new_dir = dir + "/new";
  std::filesystem::create_directories(new_dir);
  PayBridge pay(new_dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp", signer,
                "transport: auto\n");
  REQUIRE(pay.client->initialize());
  auto echoed = pay.client->call_tool(1, "echo", {{"text", "streamable"}});
  REQUIRE(echoed);
  CHECK(echoed->at("result").at("content").at(0).at("text").as_string() == "streamable");
  CHECK_FALSE(pay.log().find("trying the HTTP+SSE transport") != std::string::npos);
  CHECK(settled_transfers(dir + "/ledger.sqlite").size() == 1);  // the one paid call above
}
