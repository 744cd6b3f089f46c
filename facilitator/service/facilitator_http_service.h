// The standard x402 facilitator HTTP API (x402 v2 §7: POST /verify, POST /settle, GET /supported)
// served in front of any Facilitator — in practice the embedded one, so that other x402 software,
// and `serve` as a remote client, can use it over the network. Optionally it also answers POST
// /solana-rpc with the simulated Solana RPC (simulated_solana_rpc.h), for buyers of a closed
// deployment whose only "chain" is the embedded facilitator's ledger. Every verify and settle is
// logged in one structured line (facilitator_call_log.h) and counted for GET /metrics
// (facilitator_metrics.h, Prometheus text, as serve's /metrics).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "facilitator/facilitator.h"
#include "facilitator/service/facilitator_metrics.h"
#include "net/http_server.h"
#include "x402/result.h"

namespace x402proxy::facilitator {

class FacilitatorHttpService {
 public:
  static Result<std::unique_ptr<FacilitatorHttpService>> bind(
      boost::asio::io_context& context, const std::string& address,
      std::shared_ptr<Facilitator> facilitator, bool simulate_solana_rpc = false);

  boost::asio::ip::tcp::endpoint local_endpoint() const { return server_->local_endpoint(); }
  boost::asio::awaitable<void> run() { return server_->run(); }
  void close() { server_->close(); }

 private:
  explicit FacilitatorHttpService(std::unique_ptr<net::HttpServer> server)
      : server_(std::move(server)) {}

  std::unique_ptr<net::HttpServer> server_;  // the server loop of net/http_server.h
};

// The answer to one API call: HTTP status and JSON body. POST /solana-rpc exists only when
// `simulate_solana_rpc` is on; otherwise it is an unknown path (404) like any other. GET /metrics
// exists when `metrics` is given; verify and settle are counted there and logged either way.
struct ApiAnswer {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
};
boost::asio::awaitable<ApiAnswer> answer_facilitator_call(Facilitator& facilitator,
                                                          std::string method, std::string path,
                                                          std::string body,
                                                          bool simulate_solana_rpc = false,
                                                          FacilitatorMetrics* metrics = nullptr);

}  // namespace x402proxy::facilitator
