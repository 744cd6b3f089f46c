#include "proxy/upstream/upstream_factory.h"

#include <csignal>
#include <optional>

#include <spdlog/spdlog.h>

#include "net/spawn.h"
#include "proxy/upstream/sse/sse_channel.h"
#include "proxy/upstream/sse/transport_detection.h"
#include "proxy/upstream/stdio/stdio_child.h"

namespace x402proxy::proxy {
namespace {

using Transport = config::UpstreamConfig::Transport;

// `transport: auto`: asked once at start-up, before serve accepts anything (the io_context runs
// only this until it is done).
Result<Transport> detected_transport(const std::string& url, boost::asio::io_context& context) {
  std::optional<Result<DetectedTransport>> detected;
  net::spawn_logged(
      context,
      [&]() -> boost::asio::awaitable<void> {
        detected.emplace(co_await detect_transport(context.get_executor(), url));
      },
      "upstream transport detection");
  context.run();
  context.restart();
  if (!detected)
    return make_error("upstream.detect", "the transport of " + url + " could not be detected");
  if (!detected->ok())
    return detected->error();
  return **detected == DetectedTransport::sse ? Transport::sse : Transport::streamable_http;
}

}  // namespace

Result<UpstreamChoice> make_upstream(const config::UpstreamConfig& config,
                                     boost::asio::io_context& context) {
  UpstreamChoice choice;
  std::string url = config.url;
  choice.name = config.url;
  Transport transport = config.transport;
  if (config.command.empty() && transport == Transport::automatic) {
    auto detected = detected_transport(config.url, context);
    if (!detected.ok())
      return detected.error();
    transport = *detected;
    spdlog::info("upstream {} speaks {}", config.url,
                 transport == Transport::sse ? "the HTTP+SSE transport (MCP 2024-11-05)"
                                             : "Streamable HTTP");
  }
  if (!config.command.empty()) {
    // The bridge writes to children's pipes: a child gone must be an error code, not a SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    SessionBridgeOptions options;
    options.open_channel =
        stdio_channel_factory(StdioCommand{config.command, config.env, config.cwd});
    options.stop_now = stop_stdio_channels_now;
    options.name = "stdio bridge";
    auto bridge = SessionBridge::bind(context, std::move(options));
    if (!bridge.ok())
      return bridge.error();
    choice.bridge = std::move(bridge).value();
    url = choice.bridge->url();
    choice.name = "stdio command " + config.command.front() + " (bridged at " + url + ")";
  } else if (transport == Transport::sse) {
    auto channels = sse_channel_factory(config.url);
    if (!channels.ok())
      return channels.error();
    SessionBridgeOptions options;
    options.open_channel = *channels;
    options.name = "SSE bridge";
    options.max_sessions = 4096;  // connections, not processes
    // The upstream's stream is its session: when it ends, the client starts a new one.
    options.session.restart_on_close = false;
    options.initialize_timeout = std::chrono::seconds(30);
    auto bridge = SessionBridge::bind(context, std::move(options));
    if (!bridge.ok())
      return bridge.error();
    choice.bridge = std::move(bridge).value();
    const std::string sse_url = config.url;
    url = choice.bridge->url();
    choice.name = "HTTP+SSE server " + sse_url + " (bridged at " + url + ")";
  }
  auto endpoint = parse_upstream_url(url);
  if (!endpoint.ok())
    return endpoint.error();
  choice.endpoint = std::move(endpoint).value();
  return choice;
}

}  // namespace x402proxy::proxy
