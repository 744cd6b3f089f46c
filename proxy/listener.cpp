#include "proxy/listener.h"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/http_session.h"

namespace x402proxy::proxy {
namespace net = boost::asio;
using tcp = net::ip::tcp;

Result<std::pair<std::string, std::string>> split_host_port(const std::string& address) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    return make_error("listen.address", "expected host:port, got \"" + address + "\"");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, address.substr(colon + 1));
}

Result<tcp::acceptor> open_acceptor(net::io_context& context, const std::string& address) {
  auto parts = split_host_port(address);
  if (!parts.ok())
    return parts.error();
  boost::system::error_code ec;
  tcp::resolver resolver(context);
  auto results = resolver.resolve(parts->first, parts->second,
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return make_error("listen.address", "cannot resolve listen address " + address + ": " +
                                            (ec ? ec.message() : "no address"));
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  tcp::acceptor acceptor(context);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("listen.bind", "cannot listen on " + address + ": " + ec.message());
  return acceptor;
}

Result<std::unique_ptr<Listener>> Listener::bind(net::io_context& context,
                                                 const std::string& address) {
  auto acceptor = open_acceptor(context, address);
  if (!acceptor.ok())
    return acceptor.error();
  return std::unique_ptr<Listener>(new Listener(context, std::move(acceptor).value()));
}

net::awaitable<void> Listener::run(std::shared_ptr<ServeState> state, bool admin_allowed,
                                   bool mcp_allowed) {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket(net::make_strand(context_));
    co_await acceptor_.async_accept(socket, net::redirect_error(net::use_awaitable, ec));
    if (ec == net::error::operation_aborted)
      break;
    if (ec) {
      // Out of descriptors and the like: keep serving the connections we have.
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    net::co_spawn(executor, serve_connection(std::move(socket), state, admin_allowed, mcp_allowed),
                  [](std::exception_ptr error) {
                    if (!error)
                      return;
                    try {
                      std::rethrow_exception(error);
                    } catch (const std::exception& e) {
                      spdlog::error("connection ended by an unexpected error: {}", e.what());
                    }
                  });
  }
}

void Listener::close() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

}  // namespace x402proxy::proxy
