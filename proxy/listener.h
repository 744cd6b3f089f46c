// serve's listening ports: the server loop of net/http_server.h with serve's options and its
// router (http_session.h).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "net/http_server.h"
#include "proxy/serve_state.h"
#include "x402/result.h"

namespace x402proxy::proxy {

// Binds "host:port" (port 0 picks a free one). Reasons "listen.address", "listen.bind".
Result<std::unique_ptr<net::HttpServer>> listen_for_serve(boost::asio::io_context& context,
                                                          const std::string& address,
                                                          std::shared_ptr<const ServeState> state,
                                                          bool admin_allowed = true,
                                                          bool mcp_allowed = true,
                                                          bool internal = false);

}  // namespace x402proxy::proxy
