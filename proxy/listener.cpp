#include "proxy/listener.h"

#include "proxy/http_session.h"

namespace x402proxy::proxy {

Result<std::unique_ptr<net::HttpServer>> listen_for_serve(boost::asio::io_context& context,
                                                          const std::string& address,
                                                          std::shared_ptr<const ServeState> state,
                                                          bool admin_allowed, bool mcp_allowed,
                                                          bool internal) {
  net::HttpServerOptions options = serve_server_options(state->options);
  if (!mcp_allowed)
    options.name = "serve admin";
  if (internal)
    options.name = "serve internal";
  return net::HttpServer::bind(
      context, address, std::move(options),
      serve_handlers(std::move(state), admin_allowed, mcp_allowed, internal));
}

}  // namespace x402proxy::proxy
