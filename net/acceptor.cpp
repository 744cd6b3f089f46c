#include "net/acceptor.h"

namespace x402proxy::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

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

Result<tcp::acceptor> open_acceptor(asio::io_context& context, const std::string& address) {
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
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("listen.bind", "cannot listen on " + address + ": " + ec.message());
  return acceptor;
}

}  // namespace x402proxy::net
