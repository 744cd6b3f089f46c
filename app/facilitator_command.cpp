#include "app/facilitator_command.h"

#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "config/facilitator_config.h"
#include "facilitator/embedded/embedded_facilitator.h"
#include "facilitator/service/facilitator_http_service.h"

namespace x402proxy::app {
namespace net = boost::asio;

int run_facilitator_command(const std::string& config_path) {
  auto loaded = config::load_facilitator_config(config_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy facilitator: %s\n", loaded.error().message.c_str());
    return 2;
  }
  const auto& cfg = **loaded;
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  facilitator::EmbeddedOptions options;
  options.ledger_path = cfg.ledger;
  options.starting_balance =
      *x402::parse_amount(*config::starting_balance_atomic(cfg.starting_balance));
  options.clock_skew = cfg.clock_skew;
  options.networks = cfg.networks;
  if (!cfg.solana_fee_payer.empty())
    options.solana_fee_payers.push_back(cfg.solana_fee_payer);
  auto embedded = facilitator::EmbeddedFacilitator::create(options);
  if (!embedded.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy facilitator: %s\n", embedded.error().message.c_str());
    return 2;
  }
  net::io_context context;
  auto service = facilitator::FacilitatorHttpService::bind(context, cfg.listen, *embedded);
  if (!service.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy facilitator: %s\n", service.error().message.c_str());
    return 2;
  }
  spdlog::warn(
      "embedded facilitator: payments are verified and recorded in {}, but it moves no "
      "money on any chain; it is meant for development, tests and closed deployments",
      cfg.ledger);
  auto local = (*service)->local_endpoint();
  std::fprintf(stderr, "listening on %s:%u\n", local.address().to_string().c_str(),
               static_cast<unsigned>(local.port()));
  std::fflush(stderr);
  net::co_spawn(context, (*service)->run(), net::detached);
  net::signal_set signals(context, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    (*service)->close();
    context.stop();
  });
  std::thread second([&] { context.run(); });
  context.run();
  second.join();
  return 0;
}

}  // namespace x402proxy::app
