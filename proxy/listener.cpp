#include "proxy/listener.h"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/acceptor.h"
#include "proxy/http_session.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<std::unique_ptr<Listener>> Listener::bind(asio::io_context& context,
                                                 const std::string& address) {
  auto acceptor = net::open_acceptor(context, address);
  if (!acceptor.ok())
    return acceptor.error();
  return std::unique_ptr<Listener>(new Listener(context, std::move(acceptor).value()));
}

asio::awaitable<void> Listener::run(std::shared_ptr<ServeState> state, bool admin_allowed,
                                    bool mcp_allowed) {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket(asio::make_strand(context_));
    co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted)
      break;
    if (ec) {
      // Out of descriptors and the like: keep serving the connections we have.
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve_connection(std::move(socket), state, admin_allowed, mcp_allowed),
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
