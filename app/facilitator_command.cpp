#include "app/facilitator_command.h"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "config/facilitator_config.h"
#include "facilitator/embedded/embedded_facilitator.h"
#include "facilitator/service/facilitator_http_service.h"
#include "net/spawn.h"
#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::app {
namespace asio = boost::asio;

namespace {

// Columns padded to their widest cell, two spaces apart; the first row is the header.
std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string network_name(const std::string& network) {
  std::string v1 = x402::to_v1_name(network);
  return v1.empty() ? network : v1;
}

// The registry's symbol for a known asset ("USDC"), else its address.
std::string asset_name(const std::string& network, const std::string& asset) {
  const x402::Asset* known = x402::find_asset(network, asset);
  return known != nullptr ? std::string(known->symbol) : asset;
}

// Dollars for the registry's 6-decimal stablecoins; other assets have no known dollar value.
std::string dollars(const std::string& network, const std::string& asset,
                    const x402::Amount& amount) {
  const x402::Asset* known = x402::find_asset(network, asset);
  if (known == nullptr || known->decimals != 6)
    return "-";
  return x402::format_usd(amount, known->decimals);
}

}  // namespace

int print_facilitator_balances(const std::string& config_path) {
  auto loaded = config::load_facilitator_config(config_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy facilitator: %s\n", loaded.error().message.c_str());
    return 2;
  }
  const auto& cfg = **loaded;
  auto ledger = facilitator::Ledger::open_existing_read_only(cfg.ledger);
  if (!ledger.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy facilitator: %s\n", ledger.error().message.c_str());
    return 1;
  }
  auto transfers = (*ledger)->transfers();
  auto balances = (*ledger)->balances();
  if (!transfers.ok() || !balances.ok()) {
    const Error& failure = transfers.ok() ? balances.error() : transfers.error();
    std::fprintf(stderr, "x402-mcp-proxy facilitator: cannot read ledger %s: %s\n",
                 cfg.ledger.c_str(), failure.message.c_str());
    return 1;
  }
  std::printf("ledger %s (simulated: no money moved on any chain)\n\n", cfg.ledger.c_str());
  std::printf("transfers: %zu\n", transfers->size());
  if (!transfers->empty()) {
    std::vector<std::vector<std::string>> rows{
        {"network", "asset", "payer", "payee", "amount", "dollars", "resource"}};
    for (const auto& t : *transfers) {
      rows.push_back({network_name(t.network), asset_name(t.network, t.asset), t.payer, t.payee,
                      x402::to_string(t.amount), dollars(t.network, t.asset, t.amount),
                      t.resource});
    }
    std::fputs(format_table(rows).c_str(), stdout);
  }
  std::printf("\nbalances: %zu accounts (any other payer holds the starting balance, %s)\n",
              balances->size(), cfg.starting_balance.c_str());
  if (!balances->empty()) {
    std::vector<std::vector<std::string>> rows{
        {"network", "asset", "account", "amount", "dollars"}};
    for (const auto& b : *balances) {
      rows.push_back({network_name(b.network), asset_name(b.network, b.asset), b.account,
                      x402::to_string(b.amount), dollars(b.network, b.asset, b.amount)});
    }
    std::fputs(format_table(rows).c_str(), stdout);
  }
  return 0;
}

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
  if (!cfg.evm_signer.empty())
    options.evm_signers.push_back(cfg.evm_signer);
  auto embedded = facilitator::EmbeddedFacilitator::create(options);
  if (!embedded.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy facilitator: %s\n", embedded.error().message.c_str());
    return 2;
  }
  asio::io_context context;
  auto service = facilitator::FacilitatorHttpService::bind(context, cfg.listen, *embedded,
                                                           /*simulate_solana_rpc=*/cfg.solana_rpc);
  if (!service.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy facilitator: %s\n", service.error().message.c_str());
    return 2;
  }
  spdlog::warn(
      "embedded facilitator: payments are verified and recorded in {}, but it moves no "
      "money on any chain; it is meant for development, tests and closed deployments",
      cfg.ledger);
  auto local = (*service)->local_endpoint();
  if (cfg.solana_rpc) {
    spdlog::warn(
        "the Solana RPC at http://{}:{}/solana-rpc is simulated: random blockhashes and the "
        "known mints' decimals, no real chain behind it",
        local.address().to_string(), local.port());
  }
  std::fprintf(stderr, "listening on %s:%u\n", local.address().to_string().c_str(),
               static_cast<unsigned>(local.port()));
  std::fflush(stderr);
  net::spawn_logged(context, (*service)->run(), "facilitator service");
  asio::signal_set signals(context, SIGINT, SIGTERM);
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
