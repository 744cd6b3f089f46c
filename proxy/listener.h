// Accepts client connections and runs each on its own strand (one io_context, several threads, no
// thread per connection).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/serve_state.h"
#include "x402/result.h"

namespace x402proxy::proxy {

class Listener {
 public:
  // Binds "host:port" (port 0 picks a free one; local_endpoint() tells which).
  static Result<std::unique_ptr<Listener>> bind(boost::asio::io_context& context,
                                                const std::string& address);

  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  // Accepts until the acceptor is closed; each connection runs serve_connection.
  // `admin_allowed` / `mcp_allowed`: what its connections may reach (http_session.h).
  boost::asio::awaitable<void> run(std::shared_ptr<ServeState> state, bool admin_allowed = true,
                                   bool mcp_allowed = true);
  void close();

 private:
  Listener(boost::asio::io_context& context, boost::asio::ip::tcp::acceptor acceptor)
      : context_(context), acceptor_(std::move(acceptor)) {}

  boost::asio::io_context& context_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace x402proxy::proxy
