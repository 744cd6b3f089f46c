// The standard x402 facilitator HTTP API (x402 v2 §7: POST /verify, POST /settle, GET /supported)
// served in front of any Facilitator — in practice the embedded one, so that other x402 software,
// and `serve` as a remote client, can use it over the network.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "facilitator/facilitator.h"
#include "x402/result.h"

namespace x402proxy::facilitator {

class FacilitatorHttpService {
 public:
  static Result<std::unique_ptr<FacilitatorHttpService>> bind(
      boost::asio::io_context& context, const std::string& address,
      std::shared_ptr<Facilitator> facilitator);

  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  boost::asio::awaitable<void> run();
  void close();

 private:
  FacilitatorHttpService(boost::asio::io_context& context, boost::asio::ip::tcp::acceptor acceptor,
                         std::shared_ptr<Facilitator> facilitator)
      : context_(context), acceptor_(std::move(acceptor)), facilitator_(std::move(facilitator)) {}

  boost::asio::io_context& context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<Facilitator> facilitator_;
};

// The answer to one API call: HTTP status and JSON body.
struct ApiAnswer {
  unsigned status = 200;
  std::string body;
};
boost::asio::awaitable<ApiAnswer> answer_facilitator_call(Facilitator& facilitator,
                                                          std::string method, std::string path,
                                                          std::string body);

}  // namespace x402proxy::facilitator
