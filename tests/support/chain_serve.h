// serve in front of the test MCP upstream, paid through the official x402 facilitator on the
// Hardhat chain peer (tests/peers/chain-evm), restartable on the same journal: the fixture of the
// money-path tests on real chain software (serve alone, and pay → serve).
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "tests/support/chain_peer.h"
#include "tests/support/eventually.h"
#include "tests/support/journal_reader.h"
#include "tests/support/serve_fixture.h"

namespace x402proxy::testing {

// An upstream address whose connect hangs: a listening socket that never accepts, with its
// (length 0) accept queue already full, so the kernel drops every further SYN.
struct BlackHole {
  BlackHole() {
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener, 0) == 0);
    socklen_t size = sizeof address;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port = ntohs(address.sin_port);
    for (int& filler : fillers) {
      filler = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      (void)::connect(filler, reinterpret_cast<sockaddr*>(&address), sizeof address);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ~BlackHole() {
    for (int filler : fillers)
      ::close(filler);
    ::close(listener);
  }
  int listener = -1;
  int fillers[3] = {-1, -1, -1};
  unsigned short port = 0;
};

struct ChainServeOptions {
  std::string settle_timeout = "3s";
  bool prove_with_rpc = true;  // serve's own rpc: entry for the chain
  std::string upstream_url;    // default: the test upstream
};

// serve on the chain peer's official facilitator, restartable on the same journal.
struct ChainServe {
  explicit ChainServe(ChainServeOptions opts = {})
      : options(std::move(opts)),
        upstream(make_mcp_upstream()),
        dir(make_temp_dir("serve-chain-evm")),
        chain(ChainPeer::Kind::evm, dir) {}

  std::string journal_path() const { return dir + "/payments.sqlite"; }

  void start(const std::string& upstream_url = {}, unsigned short listen_port = 0) {
    const std::string url = !upstream_url.empty()           ? upstream_url
                            : !options.upstream_url.empty() ? options.upstream_url
                                                            : upstream.url("/mcp");
    std::ofstream(dir + "/proxy.yaml")
        << "listen: 127.0.0.1:" << listen_port << "\n"
        << "upstream: { url: " << url << " }\n"
        << "facilitator: { url: " << chain.facilitator_url()
        << ", verify_timeout: 10s, settle_timeout: " << options.settle_timeout
        << ", settle_request_timeout: 60s }\n"
        << "pay_to: { eip155: \"" << chain.str("payTo") << "\" }\n"
        << "accept: [ { network: \"" << chain.network() << "\", asset: \"" << chain.str("usdc")
        << "\", symbol: USDC, decimals: 6, name: \"" << chain.str("name") << "\", version: \""
        << chain.str("version") << "\" } ]\n"
        << (options.prove_with_rpc
                ? "rpc: { \"" + chain.network() + "\": \"" + chain.rpc_url() + "\" }\n"
                : std::string())
        << "tools: { echo: free, add: \"$0.001\", slow_progress: \"$0.002\" }\n"
        << "journal: " << journal_path() << "\n"
        << "read_timeout: 5s\nthreads: 2\nlog_level: info\n";
    ++runs;
    proxy = std::make_unique<ChildProcess>(
        std::vector<std::string>{proxy_binary(), "serve", "--config", dir + "/proxy.yaml"},
        dir + "/proxy-" + std::to_string(runs) + ".log");
    auto line = proxy->wait_for_line("listening on", std::chrono::seconds(20));
    INFO(proxy->output());
    REQUIRE(line);
    port = port_from_listening_line(*line);
  }

  void kill_hard() {
    REQUIRE(::kill(proxy->pid(), SIGKILL) == 0);
    CHECK(proxy->wait_for_exit(std::chrono::seconds(5)) == -SIGKILL);
  }

  boost::json::object offer(const std::string& tool = "add") {
    auto result = result_of(mcp_post(port, tool_call(tool)));
    return first_offer(result);
  }

  // A real EIP-3009 authorization by the chain's payer `n`, as the reference client signs it.
  boost::json::object payment(const boost::json::object& accepted, std::size_t n = 0) {
    auto requirement = x402proxy::x402::requirements_from_json(accepted, 2);
    REQUIRE(requirement.ok());
    auto secret = x402proxy::signers::parse_key_text(chain.payer_key(n));
    REQUIRE(secret.ok());
    auto key = x402proxy::signers::evm::EvmKey::from_secret(std::move(secret).value());
    REQUIRE(key.ok());
    auto payload =
        x402proxy::signers::evm::create_exact_evm_payload(*key, *requirement, unix_now());
    REQUIRE(payload.ok());
    return boost::json::object{{"x402Version", 2}, {"accepted", accepted}, {"payload", *payload}};
  }

  HttpReply call(const std::string& tool, const boost::json::object& payment,
                 const std::string& arguments = R"({"a":2,"b":3})",
                 std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    return http_request(
        port, "POST", "/mcp", tool_call(tool, arguments, meta_with_payment(payment)),
        {{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}},
        timeout);
  }

  // The transfers to payTo the chain recorded.
  std::size_t transfers_to_seller() {
    std::size_t n = 0;
    for (const auto& transfer : chain.transfers())
      n += transfer.at("to").as_string() == chain.str("payTo");
    return n;
  }

  std::size_t upstream_tool_calls(const std::string& tool) const {
    std::size_t n = 0;
    for (const auto& r : upstream.requests()) {
      n += r.body.find("\"tools/call\"") != std::string::npos &&
           r.body.find("\"name\":\"" + tool + "\"") != std::string::npos;
    }
    return n;
  }

  ChainServeOptions options;
  TestHttpServer upstream;
  std::string dir;
  ChainPeer chain;
  std::unique_ptr<ChildProcess> proxy;
  unsigned short port = 0;
  int runs = 0;
};

}  // namespace x402proxy::testing
