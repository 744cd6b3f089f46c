// serve's /sse and /messages (MCP 2024-11-05, the HTTP+SSE transport) for clients that speak only
// that: the MCP TypeScript SDK's own SSEClientTransport (tests/peers/mcp-sse/client.mjs) through
// the real binary in front of the test upstream, free, unpaid, paid, replayed, streamed; and the
// wire by hand for what the SDK client never sends (batches, unknown sessions). Skipped, with a
// message, where the peer is not installed.
#include <filesystem>

#include "tests/support/eventually.h"
#include "tests/support/serve_fixture.h"
#include "tests/support/sse_session_stream.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

const std::string kSsePeer = std::string(X402PROXY_SOURCE_DIR) + "/tests/peers/mcp-sse";

bool sse_peer_missing() {
  if (std::filesystem::exists(kSsePeer + "/node_modules/@modelcontextprotocol/sdk"))
    return false;
  WARN("skipped: the mcp-sse peer is not installed (npm ci in tests/peers/mcp-sse)");
  return true;
}

// Runs the SDK client once (one session: initialize, one call, close) and returns its JSON line.
json::object run_sse_client(const ServeFixture& serve, std::vector<std::string> args) {
  static int runs = 0;
  const std::string base = serve.dir + "/sse-client-" + std::to_string(++runs);
  std::vector<std::string> argv{kSsePeer + "/start.sh", "client", "--url",
                                "http://127.0.0.1:" + std::to_string(serve.port) + "/sse"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess client(ChildOptions{argv, {}, base + ".out", base + ".err"});
  auto status = client.wait_for_exit(std::chrono::seconds(60));
  INFO("client stderr: " << client.stderr_text() << "\nserve: " << serve.proxy->output());
  REQUIRE(status);
  const std::string line = client.stdout_text();
  INFO("client stdout: " << line);
  boost::system::error_code ec;
  auto parsed = json::parse(line, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(parsed.is_object());
  return parsed.as_object();
}

const json::object& call_result(const json::object& out) {
  INFO(json::serialize(out));
  REQUIRE(out.contains("result"));
  return out.at("result").as_object();
}

HttpReply post_message(const ServeFixture& serve, const std::string& endpoint,
                       const std::string& body, const std::string& type = "application/json") {
  return post(serve.port, endpoint, body, {{"Content-Type", type}});
}

std::size_t deletes_seen(const ServeFixture& serve) {
  std::size_t n = 0;
  for (const auto& request : serve.upstream.requests())
    n += request.method == "DELETE";
  return n;
}

}  // namespace

TEST_CASE("an SDK SSE client reaches a free tool through serve, and a priced one asks for payment",
          "[serve][sse_clients]") {
  if (sse_peer_missing())
    return;
  ServeFixture serve;
  auto free_call = run_sse_client(serve, {"--call", "echo", "--args", R"({"text":"hello"})"});
  CHECK(call_result(free_call).at("content").at(0).at("text").as_string() == "hello");
  CHECK_THAT(
      std::string(free_call.at("endpoint").as_string()),
      Catch::StartsWith("http://127.0.0.1:" + std::to_string(serve.port) + "/messages?sessionId="));
  auto unpaid = run_sse_client(serve, {"--call", "add", "--args", R"({"a":2,"b":3})"});
  const json::object& result = call_result(unpaid);
  CHECK(result.at("isError").as_bool());
  CHECK(result.at("structuredContent").at("accepts").at(0).at("amount").as_string() == "1000");
  CHECK(serve.upstream_tool_calls("add") == 0);
  CHECK(serve.facilitator.verify_calls() == 0);
}

TEST_CASE(
    "an SDK SSE client's payment is verified, the tool runs once, settles once, and a "
    "replay is refused",
    "[serve][sse_clients]") {
  if (sse_peer_missing())
    return;
  ServeFixture serve;
  auto unpaid = run_sse_client(serve, {"--call", "add", "--args", R"({"a":2,"b":3})"});
  const std::string meta = meta_with_payment(evm_payment(first_offer(call_result(unpaid))));
  auto paid =
      run_sse_client(serve, {"--call", "add", "--args", R"({"a":2,"b":3})", "--meta", meta});
  const json::object& result = call_result(paid);
  CHECK(result.at("content").at(0).at("text").as_string() == "5");
  const json::object& receipt = result.at("_meta").at("x402/payment-response").as_object();
  CHECK(receipt.at("success").as_bool());
  CHECK(receipt.at("transaction").as_string().size() == 66);
  CHECK(serve.facilitator.verify_calls() == 1);
  CHECK(serve.facilitator.settle_calls() == 1);
  CHECK(serve.upstream_tool_calls("add") == 1);
  // The payment never reaches the upstream.
  for (const auto& request : serve.upstream.requests())
    CHECK(request.body.find("x402/payment") == std::string::npos);

  auto replayed =
      run_sse_client(serve, {"--call", "add", "--args", R"({"a":2,"b":3})", "--meta", meta});
  const json::object& refused = call_result(replayed);
  CHECK(refused.at("isError").as_bool());
  CHECK_FALSE(refused.at("content").at(0).at("text").as_string() == "5");
  CHECK(serve.facilitator.settle_calls() == 1);
  CHECK(serve.upstream_tool_calls("add") == 1);
}

TEST_CASE(
    "a paid streaming call of an SDK SSE client relays its progress and ends with the "
    "receipt",
    "[serve][sse_clients]") {
  if (sse_peer_missing())
    return;
  ServeFixture serve;
  auto unpaid = run_sse_client(serve, {"--call", "slow_progress", "--args", "{}"});
  const std::string meta = meta_with_payment(evm_payment(first_offer(call_result(unpaid))));
  auto paid = run_sse_client(
      serve, {"--call", "slow_progress", "--args", "{}", "--meta", meta, "--progress"});
  const json::object& result = call_result(paid);
  CHECK(result.at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK(paid.at("progress").as_array().size() == 3);
  CHECK(serve.facilitator.settle_calls() == 1);
}

TEST_CASE(
    "serve's /sse speaks the 2024-11-05 wire: endpoint first, 202, answers on the stream, "
    "batches and unknown sessions refused with a body",
    "[serve][sse_clients]") {
  ServeFixture serve;
  SseSessionStream stream(serve.port);
  REQUIRE(stream.status() == 200);
  CHECK_THAT(stream.head(), Catch::Contains("text/event-stream"));
  auto first = stream.next_event();
  REQUIRE(first);
  CHECK(first->event == "endpoint");
  REQUIRE_THAT(first->data, Catch::StartsWith("/messages?sessionId="));
  const std::string endpoint = first->data;

  auto accepted = post_message(
      serve, endpoint,
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05",)"
      R"("capabilities":{},"clientInfo":{"name":"by-hand","version":"1"}}})");
  CHECK(accepted.status == 202);
  auto initialized = stream.answer_to(1);
  REQUIRE(initialized);
  CHECK(json::parse(initialized->data).at("result").as_object().contains("serverInfo"));
  CHECK(post_message(serve, endpoint, R"({"jsonrpc":"2.0","method":"notifications/initialized"})")
            .status == 202);

  // A batch holding a priced call is refused as on the Streamable HTTP endpoint.
  auto batch = post_message(serve, endpoint,
                            "[" + tool_call("add", "{}", "", 2) + "," +
                                tool_call("echo", R"({"text":"x"})", "", 3) + "]");
  CHECK(batch.status == 400);
  CHECK_THAT(batch.body, Catch::Contains("batch") && Catch::Contains("priced"));
  CHECK(serve.upstream_tool_calls("add") == 0);

  // An unpaid priced call: the offer on the stream, nothing upstream.
  CHECK(post_message(serve, endpoint, tool_call("add", "{}", "", 4)).status == 202);
  auto offer = stream.answer_to(4);
  REQUIRE(offer);
  CHECK(json::parse(offer->data).at("result").at("isError").as_bool());
  CHECK(serve.upstream_tool_calls("add") == 0);

  CHECK(post_message(serve, endpoint, tool_call("echo", R"({"text":"by hand"})", "", 5)).status ==
        202);
  auto echoed = stream.answer_to(5);
  REQUIRE(echoed);
  CHECK(json::parse(echoed->data).at("result").at("content").at(0).at("text").as_string() ==
        "by hand");

  auto unknown = post_message(serve, "/messages?sessionId=0123", tool_call("echo"));
  CHECK(unknown.status == 404);
  CHECK_THAT(unknown.body, Catch::Contains("unknown SSE session"));
  auto missing = post_message(serve, "/messages", tool_call("echo"));
  CHECK(missing.status == 400);
  CHECK_THAT(missing.body, Catch::Contains("sessionId"));
  auto text = post_message(serve, endpoint, tool_call("echo"), "text/plain");
  CHECK(text.status == 415);
  CHECK_THAT(text.body, Catch::Contains("application/json"));

  // The client's stream closing ends the session, and its session upstream with it.
  const std::size_t deletes_before = deletes_seen(serve);
  stream.close();
  CHECK(eventually(
      [&] { return post_message(serve, endpoint, tool_call("echo", "{}", "", 6)).status == 404; },
      std::chrono::seconds(5)));
  CHECK(eventually([&] { return deletes_seen(serve) > deletes_before; }, std::chrono::seconds(5)));
}
