#include "pay/pay_command.h"

#include "mcp/jsonrpc_reply.h"
#include "net/spawn.h"

#include <csignal>
#include <cstdio>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "config/pay_config.h"
#include "pay/loopback_http_endpoint.h"
#include "pay/paying_forwarder.h"
#include "pay/stdio_endpoint.h"
#include "x402/strict_json.h"

namespace x402proxy::pay {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxMessageBytes = 4 * 1024 * 1024;

pay::SpendingLimits limits_from(const config::PayLimitsConfig& c) {
  pay::SpendingLimits limits;
  limits.per_call = c.per_call;
  limits.per_tool = c.per_tool;
  limits.per_day = c.per_day;
  limits.payees = c.payees;
  limits.networks = c.networks;
  return limits;
}

std::string rpc_error(int code, const std::string& message) {
  return mcp::jsonrpc_error(nullptr, code, message);
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// The server-to-client stream (MCP Streamable HTTP GET), re-opened after a break, until the server
// says it has none (405) or the bridge stops.
asio::awaitable<void> relay_server_stream(std::shared_ptr<RemoteSession> remote,
                                          StdioEndpoint& client, const bool& stopping) {
  RemoteMessageSink sink = [&](std::string text, json::value) { client.write(std::move(text)); };
  while (!stopping) {
    auto answer = co_await remote->listen(sink);
    if (answer.ok() && answer->status / 100 != 2) {
      spdlog::debug("the paid server offers no server stream (HTTP {})", answer->status);
      co_return;
    }
    co_await sleep_for(std::chrono::seconds(1));
  }
}

// stdio: one coroutine per message so calls run concurrently; at end of input, calls in flight
// finish, the session ends, and the bridge stops.
asio::awaitable<void> run_stdio_bridge(asio::io_context& context, StdioEndpoint& client,
                                       PayingForwarder& forwarder, const config::PayConfig& cfg) {
  PayingForwarder::ClientWriter to_client = [&client](std::string message) {
    client.write(std::move(message));
  };
  bool stopping = false;
  forwarder.on_session_ready = [&] {
    asio::co_spawn(context, relay_server_stream(forwarder.remote_ptr(), client, stopping),
                   asio::detached);
  };
  std::size_t in_flight = 0;
  co_await client.read_lines(
      [&](std::string line) {
        auto parsed = x402::parse_strict_json(line);
        if (!parsed.ok()) {
          client.write(rpc_error(-32700, "parse error: " + parsed.error().message));
          return;
        }
        ++in_flight;
        asio::co_spawn(context,
                       forwarder.handle(std::move(line), std::move(parsed).value(), to_client),
                       [&](std::exception_ptr e) {
                         --in_flight;
                         if (e)
                           spdlog::error("a client message failed unexpectedly");
                       });
      },
      [&] { client.write(rpc_error(-32600, "message larger than 4 MiB: skipped")); });
  const auto give_up = std::chrono::steady_clock::now() + cfg.request_timeout;
  while (in_flight > 0 && std::chrono::steady_clock::now() < give_up)
    co_await sleep_for(std::chrono::milliseconds(20));
  stopping = true;
  co_await client.flush();
  co_await forwarder.remote().close(std::chrono::seconds(2));
  context.stop();
}

}  // namespace

int run_pay_command(const std::string& config_path, bool report) {
  // stdout is the MCP channel: every log line goes to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("pay"));
  auto loaded = config::load_pay_config(config_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy pay: %s\n", loaded.error().message.c_str());
    return 2;
  }
  const config::PayConfig& cfg = **loaded;
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  auto ledger = pay::SpendingLedger::open(cfg.ledger, limits_from(cfg.limits));
  if (!ledger.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy pay: %s\n", ledger.error().message.c_str());
    return 2;
  }
  if (!(*ledger)->permission_note().empty())
    spdlog::warn("{}", (*ledger)->permission_note());
  if (report) {
    auto text = (*ledger)->report();
    if (!text.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy pay: %s\n", text.error().message.c_str());
      return 1;
    }
    std::fputs(text->c_str(), stdout);
    return 0;
  }
  asio::io_context context(1);
  auto remote = RemoteSession::create(context.get_executor(), cfg.remote, cfg.tls_verify,
                                      cfg.remote_sse, cfg.remote_auto);
  if (!remote.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy pay: remote: %s\n", remote.error().message.c_str());
    return 2;
  }
  auto signers = load_payment_signers(context.get_executor(), cfg);
  if (!signers.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy pay: %s\n", signers.error().message.c_str());
    return 2;
  }
  for (const auto& signer : *signers) {
    spdlog::info("signer: {} {}", signer->family() == x402::NetworkFamily::evm ? "evm" : "solana",
                 signer->address());
  }
  PayingForwarderOptions options;
  options.request_timeout = cfg.request_timeout;
  options.redeem_timeout = cfg.redeem_timeout;
  options.assets = cfg.assets;
  PayingForwarder forwarder(*remote, std::move(signers).value(), cfg.tokens, cfg.limits.networks,
                            std::move(ledger).value(), options);
  std::unique_ptr<StdioEndpoint> stdio;
  std::unique_ptr<LoopbackHttpEndpoint> http;
  if (cfg.listen == "stdio") {
    stdio = std::make_unique<StdioEndpoint>(context, kMaxMessageBytes);
    net::spawn_logged(context, run_stdio_bridge(context, *stdio, forwarder, cfg),
                      "pay stdio bridge");
    spdlog::info("pay: stdio bridge to {}", cfg.remote);
  } else {
    auto bound = LoopbackHttpEndpoint::bind(context, cfg.listen, forwarder);
    if (!bound.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy pay: %s\n", bound.error().message.c_str());
      return 2;
    }
    http = std::move(bound).value();
    auto local = http->local_endpoint();
    spdlog::info("pay: MCP endpoint http://{}:{}/mcp, bridge to {}", local.address().to_string(),
                 local.port(), cfg.remote);
    std::fprintf(stderr, "listening on %s:%u\n", local.address().to_string().c_str(),
                 static_cast<unsigned>(local.port()));
    std::fflush(stderr);
    net::spawn_logged(context, http->run(), "pay endpoint");
  }
  asio::signal_set signals(context, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec)
      context.stop();
  });
  context.run();
  return 0;
}

}  // namespace x402proxy::pay
