// The smuggling suite (issue 11): every class of encoding that once carried an unpaid call past
// the paywall or an answer to the wrong client, sent over raw TCP to the real binary in front of
// an upstream that records (or runs) whatever reaches it. Framing, methods, paths, Expect,
// JSON encodings, header/body disagreement, interim and extra upstream answers, payments reused
// across tools, payment material on free paths, bodies byte for byte, and connection slots of
// clients that left.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/support/eventually.h"
#include "tests/support/raw_upstream.h"
#include "tests/support/serve_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// A blocking client socket for byte-level exchanges (interim answers, slow senders).
class RawClient {
 public:
  explicit RawClient(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~RawClient() { close(); }
  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads until `text` has arrived (or the peer closes, or `timeout`); returns all read so far.
  std::string read_until(const std::string& text, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        break;
      char chunk[4096];
      const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
      if (got <= 0) {
        closed_ = true;
        break;
      }
      received_.append(chunk, static_cast<std::size_t>(got));
    }
    return received_;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  std::string received_;
  bool closed_ = false;
};

unsigned status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12)
    return 0;
  return static_cast<unsigned>(std::stoul(response.substr(9, 3)));
}

// A request to serve's MCP endpoint with the given start line, extra headers and body; the
// Content-Length is the caller's to give (or not).
std::string request(const std::string& start_line, const std::string& headers,
                    const std::string& body = "") {
  return start_line +
         "\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         "Accept: application/json, text/event-stream\r\nConnection: close\r\n" +
         headers + "\r\n" + body;
}

std::string length(const std::string& body) {
  return "Content-Length: " + std::to_string(body.size()) + "\r\n";
}

std::string chunked(const std::string& body) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  return std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

const std::string kUnpaidAdd = tool_call("add", R"({"a":2,"b":3})");

}  // namespace

TEST_CASE("ambiguous framing is refused with 400 and nothing reaches the upstream",
          "[serve][smuggling]") {
  ServeFixture serve;
  const std::string body = kUnpaidAdd;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"TE chunked and Content-Length",
       request("POST /mcp HTTP/1.1", "Transfer-Encoding: chunked\r\n" + length(body),
               chunked(body))},
      {"TE identity, chunked and Content-Length",
       request("POST /mcp HTTP/1.1", "Transfer-Encoding: identity, chunked\r\n" + length(body),
               chunked(body))},
      {"TE xchunked and Content-Length",
       request("POST /mcp HTTP/1.1", "Transfer-Encoding: xchunked\r\n" + length(body), body)},
      {"two TE headers",
       request("POST /mcp HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
               chunked(body))},
      {"TE gzip, chunked",
       request("POST /mcp HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n", chunked(body))},
      {"TE in HTTP/1.0",
       request("POST /mcp HTTP/1.0", "Transfer-Encoding: chunked\r\n", chunked(body))},
      {"two different Content-Lengths",
       request("POST /mcp HTTP/1.1", length(body) + "Content-Length: 3\r\n", body)},
      {"a signed Content-Length",
       request("POST /mcp HTTP/1.1", "Content-Length: +" + std::to_string(body.size()) + "\r\n",
               body)},
  };
  for (const auto& [name, bytes] : cases) {
    const std::string answer = raw_exchange(serve.port, bytes, 5s);
    INFO(name << ": " << answer);
    CHECK(status_of(answer) == 400);
  }
  CHECK(serve.upstream_tool_calls("add") == 0);
  // A chunked body alone is fine: inspected, and the priced call asks for payment.
  const std::string answer = raw_exchange(
      serve.port, request("POST /mcp HTTP/1.1", "Transfer-Encoding: chunked\r\n", chunked(body)),
      5s);
  INFO(answer);
  CHECK(status_of(answer) == 200);
  CHECK(answer.find("Payment required to access this tool") != std::string::npos);
  CHECK(serve.upstream_tool_calls("add") == 0);
}

TEST_CASE("methods other than POST, GET and DELETE get 405 with Allow and never reach the upstream",
          "[serve][smuggling]") {
  ServeFixture serve;
  const std::size_t before = serve.upstream.requests().size();
  for (const std::string method : {"PUT", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "SEARCH", "post",
                                   "Post", "FOO", "QUERY", "TRACE"}) {
    const std::string answer = raw_exchange(
        serve.port, request(method + " /mcp HTTP/1.1", length(kUnpaidAdd), kUnpaidAdd), 5s);
    INFO(method << ": " << answer);
    CHECK(status_of(answer) == 405);
    CHECK(answer.find("Allow: GET, POST, DELETE") != std::string::npos);
  }
  CHECK(serve.upstream.requests().size() == before);
}

TEST_CASE("GET and DELETE with a body are refused", "[serve][smuggling]") {
  ServeFixture serve;
  const std::size_t before = serve.upstream.requests().size();
  for (const std::string method : {"GET", "DELETE"}) {
    for (const std::string& framing :
         {length(kUnpaidAdd), std::string("Transfer-Encoding: chunked\r\n")}) {
      const std::string body =
          framing.rfind("Content-Length", 0) == 0 ? kUnpaidAdd : chunked(kUnpaidAdd);
      const std::string answer =
          raw_exchange(serve.port, request(method + " /mcp HTTP/1.1", framing, body), 5s);
      INFO(method << " " << framing << ": " << answer);
      CHECK(status_of(answer) == 400);
    }
  }
  CHECK(serve.upstream.requests().size() == before);
}

TEST_CASE("paths that are not the MCP endpoint are 404 and a query string is still inspected",
          "[serve][smuggling]") {
  ServeFixture serve;
  for (const std::string path :
       {"/mcp/", "/MCP", "//mcp", "/mcp/../mcp", "/mcp%2F", "/mcp;x", "/./mcp", "/mcp%00"}) {
    const std::string answer = raw_exchange(
        serve.port, request("POST " + path + " HTTP/1.1", length(kUnpaidAdd), kUnpaidAdd), 5s);
    INFO(path << ": " << answer);
    CHECK(status_of(answer) == 404);
  }
  const std::string answer = raw_exchange(
      serve.port, request("POST /mcp?session=1 HTTP/1.1", length(kUnpaidAdd), kUnpaidAdd), 5s);
  CHECK(answer.find("Payment required to access this tool") != std::string::npos);
  CHECK(serve.upstream_tool_calls("add") == 0);
}

TEST_CASE("Expect 100-continue is answered by serve and never forwarded", "[serve][smuggling]") {
  ServeFixture serve;
  const std::string free_call = tool_call("echo", R"({"text":"hi"})");
  RawClient client(serve.port);
  REQUIRE(
      client.send(request("POST /mcp HTTP/1.1", "Expect: 100-continue\r\n" + length(free_call))));
  // The interim answer comes before the body is sent.
  const std::string interim = client.read_until("\r\n\r\n");
  INFO(interim);
  REQUIRE(interim.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0);
  REQUIRE(client.send(free_call));
  const std::string answer = client.read_until("\"hi\"");
  INFO(answer);
  CHECK(answer.find("HTTP/1.1 200", 20) != std::string::npos);
  const auto requests = serve.upstream.requests();
  REQUIRE_FALSE(requests.empty());
  CHECK(requests.back().header("expect").empty());
  CHECK(requests.back().body == free_call);

  // An expectation serve does not know: 417.
  const std::string refused = raw_exchange(
      serve.port,
      request("POST /mcp HTTP/1.1", "Expect: 200-ok\r\n" + length(free_call), free_call), 5s);
  CHECK(status_of(refused) == 417);
}

TEST_CASE("JSON encodings of a priced call never reach the upstream unpaid", "[serve][smuggling]") {
  ServeFixture serve;
  const std::vector<std::string> bodies = {
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\u0061dd","arguments":{"a":1,"b":2}}})",
      R"({"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"add","arguments":{"a":1,"b":2}}})",
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"add","arguments":{"a":1,"b":2}}})",
      R"({"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}})",
      R"([{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}])",
      R"([{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}])",
      "\xEF\xBB\xBF"
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}})",
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}} {"x":1})",
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},}})",
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}/**/)",
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","_meta":{"x402/payment":null},"arguments":{"a":1,"b":2}}})",
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","_meta":{"x402/payment":{}},"arguments":{"a":1,"b":2}}})",
  };
  for (const auto& body : bodies) {
    auto reply = mcp_post(serve.port, body);
    INFO(body << "\n-> " << reply.status << " " << reply.body);
    CHECK(reply.status != 0);
  }
  CHECK(serve.upstream_tool_calls("add") == 0);
  // The upstream's own parser reads what reached it: no call of "add" in any spelling.
  for (const auto& recorded : serve.upstream.requests())
    CHECK(recorded.body.find("\"a\":1,\"b\":2") == std::string::npos);
}

TEST_CASE("headers that disagree with the body, or come twice, are refused", "[serve][smuggling]") {
  ServeFixture serve;
  const std::vector<Headers> disagreeing = {
      {{"Mcp-Method", "tools/list"}},
      {{"Mcp-Method", "tools/call"}, {"Mcp-Name", "echo"}},
      {{"Mcp-Name", "=?base64?ZWNobw==?="}},  // "echo", in the header's base64 form
  };
  for (const auto& headers : disagreeing) {
    auto reply = mcp_post(serve.port, kUnpaidAdd, headers);
    INFO(reply.status << " " << reply.body);
    CHECK(reply.status == 400);
  }
  // Repeated decision headers, sent as raw bytes (an HTTP client library folds them into one).
  const std::vector<std::string> repeated = {
      "Mcp-Name: add\r\nMcp-Name: echo\r\n",
      "Mcp-Method: tools/call\r\nMcp-Method: tools/call\r\n",
      "MCP-Protocol-Version: 2025-06-18\r\nMCP-Protocol-Version: 2025-03-26\r\n",
      "Mcp-Session-Id: a\r\nMcp-Session-Id: b\r\n",
      "PAYMENT-SIGNATURE: e30=\r\nPAYMENT-SIGNATURE: e30=\r\n",
      "Content-Type: text/plain\r\n",
  };
  for (const auto& lines : repeated) {
    const std::string answer = raw_exchange(
        serve.port, request("POST /mcp HTTP/1.1", lines + length(kUnpaidAdd), kUnpaidAdd), 5s);
    INFO(lines << "-> " << answer);
    CHECK(status_of(answer) == 400);
  }
  CHECK(serve.upstream_tool_calls("add") == 0);
}

TEST_CASE("payment material never reaches the upstream on a free call", "[serve][smuggling]") {
  ServeFixture serve;
  const std::string body = tool_call("echo", R"({"text":"hi","n":1e400})",
                                     R"({"progressToken":"p","x402/payment":{"x402Version":2}})");
  auto reply =
      mcp_post(serve.port, body,
               {{"PAYMENT-SIGNATURE", "eyJzaWduYXR1cmUiOiIweGFiIn0="}, {"X-PAYMENT", "e30="}});
  INFO(reply.body);
  const auto requests = serve.upstream.requests();
  REQUIRE_FALSE(requests.empty());
  const auto& forwarded = requests.back();
  CHECK(forwarded.body ==
        tool_call("echo", R"({"text":"hi","n":1e400})", R"({"progressToken":"p"})"));
  CHECK(forwarded.header("payment-signature").empty());
  CHECK(forwarded.header("x-payment").empty());
}

TEST_CASE("a paid call's body reaches the upstream byte for byte, less its payment",
          "[serve][smuggling]") {
  ServeFixture serve;
  auto required = result_of(mcp_post(serve.port, tool_call("add")));
  auto offer = first_offer(required);
  const std::string arguments =
      R"({"a":2, "b":3,"x":1e400,"z":0e410,"big":123456789012345678901234567890,"s":"caf\u00e9"})";
  auto reply =
      mcp_post(serve.port, tool_call("add", arguments, meta_with_payment(evm_payment(offer))));
  INFO(reply.body);
  std::string forwarded;
  for (const auto& recorded : serve.upstream.requests()) {
    if (recorded.body.find("\"big\"") != std::string::npos)
      forwarded = recorded.body;
  }
  CHECK(forwarded == tool_call("add", arguments));
}

TEST_CASE("a payment that bought one tool does not buy another", "[serve][smuggling]") {
  ServeFixture serve;
  auto offer = first_offer(result_of(mcp_post(serve.port, tool_call("add"))));
  const auto payment = evm_payment(offer);
  auto paid = result_of(
      mcp_post(serve.port, tool_call("add", R"({"a":2,"b":3})", meta_with_payment(payment))));
  CHECK_FALSE(paid.contains("isError"));
  // "fail" has the same price and the same offer: the same payment is not a new one.
  auto reused = mcp_post(serve.port, tool_call("fail", "{}", meta_with_payment(payment)));
  INFO(reused.body);
  CHECK(reused.body.find("already used") != std::string::npos);
  CHECK(serve.upstream_tool_calls("fail") == 0);
  CHECK(serve.facilitator.settle_calls() == 1);
}

TEST_CASE("interim and extra upstream answers never reach the wrong client", "[serve][smuggling]") {
  // The upstream sends 100 and 103 before each answer, and after the first answer one more
  // (unasked) response in the same write.
  std::atomic<int> answered{0};
  RawUpstream upstream([&](const std::string& request) {
    const std::string id = RawUpstream::id_of(request);
    std::string body = R"({"jsonrpc":"2.0","id":)" + id +
                       R"(,"result":{"content":[{"type":"text","text":"answer )" + id + R"("}]}})";
    std::string answer =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" +
        RawUpstream::json_response(body);
    if (++answered == 1)
      answer += RawUpstream::json_response(R"({"jsonrpc":"2.0","id":999,"result":{"stray":true}})");
    return answer;
  });
  ServeOptionsForTest options;
  options.upstream_url = upstream.url("/mcp");
  ServeFixture serve(options);
  for (int id = 1; id <= 4; ++id) {
    auto reply = mcp_post(serve.port, tool_call("echo", R"({"text":"x"})", "", id));
    INFO(reply.body);
    CHECK(reply.status == 200);
    CHECK(reply.body.find("answer " + std::to_string(id)) != std::string::npos);
    CHECK(reply.body.find("stray") == std::string::npos);
  }
  // A paid call through the same upstream: the interim answers are skipped, one settlement.
  auto offer = first_offer(result_of(mcp_post(serve.port, tool_call("add"))));
  auto paid = result_of(mcp_post(
      serve.port, tool_call("add", R"({"a":2,"b":3})", meta_with_payment(evm_payment(offer)), 7)));
  CHECK_FALSE(paid.contains("isError"));
  CHECK(json::serialize(paid).find("answer 7") != std::string::npos);
  CHECK(serve.facilitator.settle_calls() == 1);
}

TEST_CASE("event streams whose clients left free their connection slots", "[serve][smuggling]") {
  ServeOptionsForTest options;
  options.upstream.hold_get_stream = true;
  options.extra_yaml = "limits: { max_connections: 6 }\n";
  ServeFixture serve(options);
  {
    std::vector<std::unique_ptr<RawClient>> streams;
    for (int i = 0; i < 6; ++i) {
      streams.push_back(std::make_unique<RawClient>(serve.port));
      REQUIRE(streams.back()->send(
          "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"));
      streams.back()->read_until("\r\n\r\n");
    }
    // Every slot is taken.
    CHECK(mcp_post(serve.port, tool_call("echo", R"({"text":"x"})")).status == 503);
  }  // the clients close their connections
  CHECK(eventually(
      [&] { return mcp_post(serve.port, tool_call("echo", R"({"text":"x"})")).status == 200; },
      3s));
  CHECK(eventually([&] { return serve.upstream.open_connections() <= 1; }, 3s));
}

TEST_CASE("slow headers are cut at read_timeout", "[serve][smuggling]") {
  ServeFixture serve;  // read_timeout: 1s; the keep-alive timeout is far longer
  RawClient client(serve.port);
  const std::string bytes = request("POST /mcp HTTP/1.1", length(kUnpaidAdd), kUnpaidAdd);
  const auto started = std::chrono::steady_clock::now();
  std::string answer;
  for (char c : bytes) {
    if (!client.send(std::string(1, c)))
      break;
    answer = client.read_until("\r\n\r\n", 300ms);
    if (!answer.empty() || client.closed())
      break;
  }
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(answer);
  CHECK(status_of(answer) == 408);
  CHECK(took < 5s);
  CHECK(serve.upstream_tool_calls("add") == 0);
}

TEST_CASE("SIGTERM does not wait for idle event streams", "[serve][smuggling]") {
  ServeOptionsForTest options;
  options.upstream.hold_get_stream = true;
  options.extra_yaml = "shutdown_grace: 20s\n";
  ServeFixture serve(options);
  RawClient stream(serve.port);
  REQUIRE(stream.send("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"));
  stream.read_until("\r\n\r\n");
  ::kill(serve.proxy->pid(), SIGTERM);
  const auto started = std::chrono::steady_clock::now();
  auto status = serve.proxy->wait_for_exit(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}
