// Listening sockets: "host:port" (or "[v6]:port") resolved and bound the one way every server of
// the project binds (serve, its admin port, the facilitator service, pay's loopback endpoint).
#pragma once

#include <string>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "x402/result.h"

namespace x402proxy::net {

// A listening acceptor on "host:port" (port 0 picks a free one). Reasons "listen.address",
// "listen.bind".
Result<boost::asio::ip::tcp::acceptor> open_acceptor(boost::asio::io_context& context,
                                                     const std::string& address);

// Splits "host:port" / "[v6]:port".
Result<std::pair<std::string, std::string>> split_host_port(const std::string& address);

}  // namespace x402proxy::net
