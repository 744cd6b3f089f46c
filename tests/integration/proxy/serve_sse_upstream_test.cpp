// serve in front of an MCP server that speaks only the HTTP+SSE transport of MCP 2024-11-05: the
// MCP TypeScript SDK's SSEServerTransport (tests/peers/mcp-sse/server.mjs), with serve presenting
// Streamable HTTP to its clients (`upstream: { url: …/sse, transport: sse }`, or detected with
// `transport: auto`). Free, unpaid, paid (the server's own record shows one run), progress,
// a server-to-client request, settlement failure, both values of charge_tool_errors, and the
// session ending from either side. Skipped, with a message, where the peer is not installed.
#include <sqlite3.h>

#include <filesystem>

#include "tests/support/eventually.h"
#include "tests/support/serve_fixture.h"
#include "tests/support/sse_session_stream.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

const std::string kSsePeer = std::string(X402PROXY_SOURCE_DIR) + "/tests/peers/mcp-sse";

constexpr const char* kSseTools =
    "tools:\n  echo: free\n  sample: free\n  add: \"$0.001\"\n  slow: \"$0.002\"\n"
    "  fail: \"$0.001\"\n";

// The SDK's HTTP+SSE server, on an ephemeral port.
struct SsePeer {
  SsePeer() : dir(make_temp_dir("sse-peer")) {
    process = std::make_unique<ChildProcess>(ChildOptions{
        {kSsePeer + "/start.sh", "server", "--port", "0"}, {}, dir + "/out", dir + "/err"});
    auto line = process->wait_for_line("\"url\"", std::chrono::seconds(20));
    INFO(process->output());
    REQUIRE(line);
    auto listening = json::parse(*line).as_object();
    url = std::string(listening.at("url").as_string());
    const auto colon = url.rfind(':');
    port = static_cast<unsigned short>(std::stoi(url.substr(colon + 1)));
  }
  // The tool calls the server ran, in order (its GET /calls).
  std::vector<std::string> calls() const {
    auto reply = get(port, "/calls");
    REQUIRE(reply.status == 200);
    std::vector<std::string> tools;
    const json::value listed = json::parse(reply.body);
    for (const auto& call : listed.as_array())
      tools.emplace_back(call.at("tool").as_string());
    return tools;
  }
  std::string dir;
  std::unique_ptr<ChildProcess> process;
  std::string url;
  unsigned short port = 0;
};

bool sse_peer_missing() {
  if (std::filesystem::exists(kSsePeer + "/node_modules/@modelcontextprotocol/sdk"))
    return false;
  WARN("skipped: the mcp-sse peer is not installed (npm ci in tests/peers/mcp-sse)");
  return true;
}

ServeOptionsForTest options_for(const SsePeer& peer, const std::string& transport = "sse",
                                const std::string& tools = kSseTools) {
  ServeOptionsForTest options;
  options.upstream_url = peer.url + ", transport: " + transport;
  options.tools = tools;
  return options;
}

// The last JSON-RPC message of an answer: a JSON body, or the last event of an SSE body.
json::object final_message(const HttpReply& reply) {
  INFO(reply.status << " " << reply.body << " " << reply.error);
  REQUIRE(reply.status == 200);
  if (reply.header("content-type").starts_with("text/event-stream")) {
    auto events = sse_events(reply);
    REQUIRE_FALSE(events.empty());
    return json::parse(events.back().data).as_object();
  }
  return json::parse(reply.body).as_object();
}

json::object final_result(const HttpReply& reply) {
  auto message = final_message(reply);
  INFO(json::serialize(message));
  REQUIRE(message.contains("result"));
  return message.at("result").as_object();
}

// A Streamable HTTP client session with serve: initialize, initialized; the headers that follow.
Headers open_session(const ServeFixture& serve) {
  auto init = mcp_post(
      serve.port, R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":)"
                  R"("2025-03-26","capabilities":{"sampling":{}},"clientInfo":{"name":"t",)"
                  R"("version":"1"}}})");
  INFO(serve.proxy->output());
  auto result = final_result(init);
  CHECK(result.at("serverInfo").at("name").as_string() == "mcp-sse-peer");
  const std::string session = init.header("mcp-session-id");
  REQUIRE_FALSE(session.empty());
  Headers headers{{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-03-26"}};
  REQUIRE(mcp_post(serve.port, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", headers)
              .status == 202);
  return headers;
}

json::object offer_for(const ServeFixture& serve, const Headers& session, const std::string& tool,
                       const std::string& arguments, int id) {
  auto unpaid = final_result(mcp_post(serve.port, tool_call(tool, arguments, "", id), session));
  REQUIRE(unpaid.at("isError").as_bool());
  return first_offer(unpaid);
}

HttpReply pay_call(const ServeFixture& serve, const Headers& session, const std::string& tool,
                   const std::string& arguments, int id) {
  auto offer = offer_for(serve, session, tool, arguments, id);
  return mcp_post(serve.port,
                  tool_call(tool, arguments, meta_with_payment(evm_payment(offer)), id + 1),
                  session);
}

std::vector<std::string> journal_column(const ServeFixture& serve, const std::string& column) {
  sqlite3* db = nullptr;
  std::vector<std::string> values;
  REQUIRE(sqlite3_open_v2((serve.dir + "/payments.sqlite").c_str(), &db, SQLITE_OPEN_READONLY,
                          nullptr) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  const std::string query = "SELECT " + column + " FROM payments ORDER BY id";
  sqlite3_prepare_v2(db, query.c_str(), -1, &statement, nullptr);
  while (sqlite3_step(statement) == SQLITE_ROW)
    values.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return values;
}

}  // namespace

TEST_CASE(
    "serve in front of an HTTP+SSE server: a free call passes, an unpaid priced call is "
    "offered and runs nothing",
    "[serve][sse_upstream]") {
  if (sse_peer_missing())
    return;
  SsePeer peer;
  ServeFixture serve(options_for(peer));
  auto session = open_session(serve);
  auto echoed =
      final_result(mcp_post(serve.port, tool_call("echo", R"({"text":"hello"})", "", 1), session));
  CHECK(echoed.at("content").at(0).at("text").as_string() == "hello");
  auto offer = offer_for(serve, session, "add", R"({"a":2,"b":40})", 2);
  CHECK(offer.at("amount").as_string() == "1000");
  CHECK(peer.calls() == std::vector<std::string>{"echo"});
  CHECK(serve.facilitator.verify_calls() == 0);
}

TEST_CASE("a paid call to an HTTP+SSE server runs once, settles once and carries the receipt",
          "[serve][sse_upstream]") {
  if (sse_peer_missing())
    return;
  SsePeer peer;
  ServeFixture serve(options_for(peer));
  auto session = open_session(serve);
  auto result = final_result(pay_call(serve, session, "add", R"({"a":2,"b":40})", 1));
  CHECK(result.at("content").at(0).at("text").as_string() == "42");
  CHECK(result.at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK(peer.calls() == std::vector<std::string>{"add"});
  CHECK(serve.facilitator.verify_calls() == 1);
  CHECK(serve.facilitator.settle_calls() == 1);
  // The payment never reaches the server: its record of the call has no x402/payment.
  auto recorded = json::parse(get(peer.port, "/calls").body).as_array();
  CHECK(json::serialize(recorded).find("x402/payment") == std::string::npos);
}

TEST_CASE("progress of a paid streaming tool on an HTTP+SSE server is relayed as it happens",
          "[serve][sse_upstream]") {
  if (sse_peer_missing())
    return;
  SsePeer peer;
  ServeFixture serve(options_for(peer));
  auto session = open_session(serve);
  const std::string arguments = R"({"steps":3,"interval_ms":150})";
  auto offer = offer_for(serve, session, "slow", arguments, 1);
  auto reply = mcp_post(serve.port,
                        tool_call("slow", arguments,
                                  R"({"progressToken":"tok","x402/payment":)" +
                                      json::serialize(evm_payment(offer)) + "}",
                                  2),
                        session);
  auto events = sse_events(reply);
  std::size_t progress = 0;
  for (const auto& event : events)
    progress += event.data.find("notifications/progress") != std::string::npos;
  CHECK(progress == 3);
  auto result = final_result(reply);
  CHECK_THAT(std::string(result.at("content").at(0).at("text").as_string()),
             Catch::StartsWith("done after 3 steps"));
  CHECK(result.at("_meta").at("x402/payment-response").at("success").as_bool());
  // Relayed as they happened, not held to the end: the first progress event came well before
  // the result.
  REQUIRE(events.size() >= 2);
  CHECK(events.back().arrival - events.front().arrival >= std::chrono::milliseconds(200));
  CHECK(serve.facilitator.settle_calls() == 1);
}

TEST_CASE(
    "a server-to-client request of an HTTP+SSE server reaches serve's client and its "
    "answer goes back",
    "[serve][sse_upstream]") {
  if (sse_peer_missing())
    return;
  SsePeer peer;
  ServeFixture serve(options_for(peer));
  auto session = open_session(serve);
  Headers headers = session;
  headers.emplace_back("Content-Type", "application/json");
  headers.emplace_back("Accept", "application/json, text/event-stream");
  SseSessionStream call(serve.port, "POST", "/mcp",
                        tool_call("sample", R"({"prompt":"hello?"})", "", 7), headers);
  REQUIRE(call.status() == 200);
  auto request = call.next_event();
  REQUIRE(request);
  auto asked = json::parse(request->data).as_object();
  REQUIRE(asked.at("method").as_string() == "sampling/createMessage");
  const std::string answer =
      R"({"jsonrpc":"2.0","id":)" + json::serialize(asked.at("id")) +
      R"(,"result":{"role":"assistant","content":{"type":"text","text":"hi there"},)"
      R"("model":"test","stopReason":"endTurn"}})";
  CHECK(mcp_post(serve.port, answer, session).status == 202);
  auto done = call.answer_to(7);
  REQUIRE(done);
  CHECK(json::parse(done->data).at("result").at("content").at(0).at("text").as_string() ==
        "hi there");
}

TEST_CASE("a settlement failure toward an HTTP+SSE server withholds the result",
          "[serve][sse_upstream]") {
  if (sse_peer_missing())
    return;
  SsePeer peer;
  ServeFixture serve(options_for(peer));
  auto session = open_session(serve);
  auto offer = offer_for(serve, session, "add", R"({"a":2,"b":40})", 1);
  serve.facilitator.set_mode(FakeFacilitator::Mode::settle_fails);
  auto result = final_result(mcp_post(
      serve.port, tool_call("add", R"({"a":2,"b":40})", meta_with_payment(evm_payment(offer)), 2),
      session));
  CHECK(result.at("isError").as_bool());
  CHECK(json::serialize(result).find("\"42\"") == std::string::npos);  // the sum never leaks
  CHECK(peer.calls() == std::vector<std::string>{"add"});
  CHECK(journal_column(serve, "state") == std::vector<std::string>{"settle_failed"});
}

TEST_CASE("charge_tool_errors decides whether an HTTP+SSE server's tool error is settled",
          "[serve][sse_upstream]") {
  if (sse_peer_missing())
    return;
  SsePeer peer;
  SECTION("true (the default): the attempt is charged") {
    ServeFixture serve(options_for(peer));
    auto session = open_session(serve);
    auto result = final_result(pay_call(serve, session, "fail", R"({"message":"no"})", 1));
    CHECK(result.at("isError").as_bool());
    CHECK(result.at("_meta").at("x402/payment-response").at("success").as_bool());
    CHECK(serve.facilitator.settle_calls() == 1);
    CHECK(journal_column(serve, "state") == std::vector<std::string>{"settled"});
  }
  SECTION("false: delivered, not settled, the payment released") {
    ServeFixture serve(options_for(
        peer, "sse", "tools:\n  fail: { price: \"$0.001\", charge_tool_errors: false }\n"));
    auto session = open_session(serve);
    auto result = final_result(pay_call(serve, session, "fail", R"({"message":"no"})", 1));
    CHECK(result.at("isError").as_bool());
    CHECK_FALSE((result.contains("_meta") &&
                 result.at("_meta").as_object().contains("x402/payment-response")));
    CHECK(serve.facilitator.settle_calls() == 0);
    CHECK(journal_column(serve, "state") == std::vector<std::string>{"released"});
  }
}

TEST_CASE("the session toward an HTTP+SSE server ends when either side leaves",
          "[serve][sse_upstream]") {
  if (sse_peer_missing())
    return;
  SsePeer peer;
  ServeFixture serve(options_for(peer));
  SECTION("the client deletes its session") {
    auto session = open_session(serve);
    CHECK(del(serve.port, "/mcp", session).status == 200);
    CHECK(mcp_post(serve.port, tool_call("echo", R"({"text":"x"})", "", 1), session).status == 404);
  }
  SECTION("the server goes away") {
    auto session = open_session(serve);
    peer.process->terminate();
    CHECK(eventually(
        [&] {
          return mcp_post(serve.port, tool_call("echo", R"({"text":"x"})", "", 1), session)
                     .status == 404;
        },
        std::chrono::seconds(5)));
  }
}

TEST_CASE("transport auto finds an HTTP+SSE server and a Streamable HTTP one",
          "[serve][sse_upstream]") {
  if (sse_peer_missing())
    return;
  SsePeer peer;
  {
    ServeFixture serve(options_for(peer, "auto"));
    auto session = open_session(serve);
    auto echoed = final_result(
        mcp_post(serve.port, tool_call("echo", R"({"text":"found"})", "", 1), session));
    CHECK(echoed.at("content").at(0).at("text").as_string() == "found");
  }
  // The test upstream speaks Streamable HTTP: auto keeps it (the probe's initialize is
  // accepted), and calls pass straight through as before.
  TestHttpServer streamable_upstream(make_mcp_upstream());
  ServeOptionsForTest streamable;
  streamable.upstream_url = streamable_upstream.url("/mcp") + ", transport: auto";
  ServeFixture plain(streamable);
  auto echoed = final_result(mcp_post(plain.port, tool_call("echo", R"({"text":"plain"})")));
  CHECK(echoed.at("content").at(0).at("text").as_string() == "plain");
  CHECK_THAT(streamable_upstream.requests().front().body,
             Catch::Contains("x402-mcp-proxy transport probe"));
}
