// `pay` as a Streamable HTTP server on a loopback port, for MCP clients that connect by URL
// rather than launching a stdio server. Each POSTed request is answered with an SSE stream that
// carries, as they arrive, the notifications and server requests the paid server sends on its
// way, then the answer (paid for when needed); notifications and responses get 202. The bridge
// owns one session with the paid server for all its local clients (a wallet serves one user);
// it offers no GET stream (405), which Streamable HTTP allows.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/http_server.h"
#include "pay/paying_forwarder.h"
#include "x402/result.h"

namespace x402proxy::pay {

class LoopbackHttpEndpoint {
 public:
  // `address` must be a loopback host:port (the config refuses anything else).
  static Result<std::unique_ptr<LoopbackHttpEndpoint>> bind(boost::asio::io_context& context,
                                                            const std::string& address,
                                                            PayingForwarder& forwarder);
  boost::asio::ip::tcp::endpoint local_endpoint() const { return server_->local_endpoint(); }
  boost::asio::awaitable<void> run() { return server_->run(); }
  void close() { server_->close(); }

 private:
  explicit LoopbackHttpEndpoint(PayingForwarder& forwarder) : forwarder_(forwarder) {}
  // One request of the server loop (net/http_server.h): whether the connection goes on.
  boost::asio::awaitable<bool> answer(boost::beast::tcp_stream& stream, net::HttpRequest& request);

  PayingForwarder& forwarder_;
  std::unique_ptr<net::HttpServer> server_;
};

}  // namespace x402proxy::pay
