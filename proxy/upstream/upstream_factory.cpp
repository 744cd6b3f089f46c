#include "proxy/upstream/upstream_factory.h"

#include <csignal>

namespace x402proxy::proxy {

Result<UpstreamChoice> make_upstream(const config::UpstreamConfig& config,
                                     boost::asio::io_context& context) {
  UpstreamChoice choice;
  std::string url = config.url;
  choice.name = config.url;
  if (!config.command.empty()) {
    // The bridge writes to children's pipes: a child gone must be an error code, not a SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    StdioBridgeOptions options;
    options.command = StdioCommand{config.command, config.env, config.cwd};
    auto bridge = StdioBridge::bind(context, std::move(options));
    if (!bridge.ok())
      return bridge.error();
    choice.bridge = std::move(bridge).value();
    url = choice.bridge->url();
    choice.name = "stdio command " + config.command.front() + " (bridged at " + url + ")";
  }
  auto endpoint = parse_upstream_url(url);
  if (!endpoint.ok())
    return endpoint.error();
  choice.endpoint = std::move(endpoint).value();
  return choice;
}

}  // namespace x402proxy::proxy
