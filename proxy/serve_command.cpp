#include "proxy/serve_command.h"

#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "config/facilitator_config.h"
#include "config/price_table.h"
#include "config/serve_config.h"
#include "facilitator/embedded/embedded_facilitator.h"
#include "facilitator/remote_facilitator.h"
#include "proxy/listener.h"
#include "proxy/local_payment_check.h"

namespace x402proxy::proxy {
namespace net = boost::asio;

namespace {

// The Solana fee payer a remote facilitator manages, from its /supported (research §2.3).
std::string solana_fee_payer_from(const x402::SupportedResponse& supported,
                                  const std::string& network) {
  for (const auto& kind : supported.kinds) {
    if (kind.network != network || !kind.extra)
      continue;
    if (auto* payer = kind.extra->if_contains("feePayer"); payer && payer->is_string()) {
      return std::string(payer->get_string());
    }
  }
  return {};
}

bool accepts_solana(const config::ServeConfig& config) {
  for (const auto& accepted : config.accept) {
    if (accepted.network->family == x402::NetworkFamily::solana)
      return true;
  }
  return false;
}

}  // namespace

int run_serve_command(const std::string& config_path) {
  auto loaded = config::load_serve_config(config_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", loaded.error().message.c_str());
    return 2;
  }
  std::shared_ptr<const config::ServeConfig> cfg = *loaded;
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));
  if (cfg->upstream.url.empty()) {
    std::fprintf(stderr,
                 "x402-mcp-proxy serve: stdio upstreams (upstream.command) are not "
                 "supported by this build yet; use upstream.url\n");
    return 2;
  }
  auto endpoint = parse_upstream_url(cfg->upstream.url);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", endpoint.error().message.c_str());
    return 2;
  }

  net::io_context context;
  auto state = std::make_shared<ServeState>();
  state->options.body_limit = cfg->body_limit;
  state->options.clock_skew = cfg->clock_skew;
  state->options.request_read_timeout = cfg->read_timeout;

  std::string facilitator_name = cfg->facilitator.url;
  if (cfg->facilitator.kind == config::FacilitatorConfig::Kind::embedded) {
    auto balance = config::starting_balance_atomic(cfg->facilitator.starting_balance);
    if (!balance.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy serve: facilitator.starting_balance: %s\n",
                   balance.error().message.c_str());
      return 2;
    }
    facilitator::EmbeddedOptions embedded;
    embedded.ledger_path = cfg->facilitator.ledger;
    embedded.starting_balance = *x402::parse_amount(*balance);
    embedded.clock_skew = cfg->clock_skew;
    if (!cfg->facilitator.solana_fee_payer.empty()) {
      embedded.solana_fee_payers.push_back(cfg->facilitator.solana_fee_payer);
    }
    auto created = facilitator::EmbeddedFacilitator::create(embedded);
    if (!created.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", created.error().message.c_str());
      return 2;
    }
    state->facilitator = *created;
    facilitator_name = "embedded (ledger " + cfg->facilitator.ledger + ")";
    spdlog::warn(
        "embedded facilitator: payments are verified and recorded in {}, but it moves no "
        "money on any chain; it is meant for development, tests and closed deployments",
        cfg->facilitator.ledger);
  } else {
    facilitator::RemoteFacilitatorOptions remote;
    remote.url = cfg->facilitator.url;
    remote.verify_timeout = cfg->facilitator.verify_timeout;
    remote.settle_timeout = cfg->facilitator.settle_timeout;
    remote.tls_verify = cfg->facilitator.tls_verify;
    auto created = facilitator::RemoteFacilitator::create(context.get_executor(), remote);
    if (!created.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy serve: facilitator: %s\n",
                   created.error().message.c_str());
      return 2;
    }
    state->facilitator = *created;
  }

  std::string fee_payer;
  if (accepts_solana(*cfg)) {
    // Solana requirements must name the facilitator's fee payer: ask it once, at start-up.
    std::optional<facilitator::FacilitatorResult<x402::SupportedResponse>> answer;
    net::co_spawn(
        context,
        [&]() -> net::awaitable<void> { answer.emplace(co_await state->facilitator->supported()); },
        net::detached);
    context.run();
    context.restart();
    if (!answer || !answer->ok()) {
      std::fprintf(stderr, "x402-mcp-proxy serve: cannot read the facilitator's /supported: %s\n",
                   answer ? answer->error().message.c_str() : "no answer");
      return 2;
    }
    for (const auto& accepted : cfg->accept) {
      if (accepted.network->family != x402::NetworkFamily::solana)
        continue;
      fee_payer = solana_fee_payer_from(**answer, std::string(accepted.network->caip2));
    }
  }
  auto table = config::build_price_table(*cfg, fee_payer);
  if (!table.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", table.error().message.c_str());
    return 2;
  }
  auto prices = std::make_shared<const config::PriceTable>(std::move(table).value());
  auto offers = std::make_shared<std::map<std::string, ToolOffer, std::less<>>>();
  for (const auto& [name, price] : prices->tools()) {
    (*offers)[name] = ToolOffer{price.tool, price.description, price.accepts};
  }
  std::shared_ptr<const ToolOffer> default_offer;
  if (const auto* price = prices->default_price()) {
    default_offer =
        std::make_shared<const ToolOffer>(ToolOffer{"", price->description, price->accepts});
  }
  state->offers = [prices, offers, default_offer](std::string_view tool) -> const ToolOffer* {
    if (prices->find(tool) == nullptr)
      return nullptr;
    if (auto it = offers->find(tool); it != offers->end())
      return &it->second;
    return default_offer.get();
  };
  state->local_check = make_local_check(cfg->clock_skew);
  state->replay_guard = std::make_shared<ReplayGuard>();

  auto journal = PaymentJournal::open(cfg->journal);
  if (!journal.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", journal.error().message.c_str());
    return 2;
  }
  state->journal = std::move(journal).value();
  if (auto open = state->journal->open_payments(); open.ok()) {
    for (const auto& entry : *open) {
      spdlog::warn(
          "payment journal: row {} for tool {} ({} {} on {}, payer {}) was left in state "
          "{} by a previous run; check its settlement by hand",
          entry.id, entry.tool, entry.amount, entry.asset, entry.network, entry.payer,
          to_string(entry.state));
    }
  }
  state->upstream = std::make_shared<UpstreamPool>(context.get_executor(), *endpoint,
                                                   state->options.upstream_connect_timeout);

  auto listener = Listener::bind(context, cfg->listen);
  if (!listener.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", listener.error().message.c_str());
    return 2;
  }
  auto local = (*listener)->local_endpoint();
  spdlog::info("serving {} in front of {} with facilitator {}; {} priced tools{}", cfg->listen,
               cfg->upstream.url, facilitator_name, prices->tools().size(),
               prices->default_price() ? " and a default price" : "");
  std::fprintf(stderr, "listening on %s:%u\n", local.address().to_string().c_str(),
               static_cast<unsigned>(local.port()));
  std::fflush(stderr);

  net::co_spawn(context, (*listener)->run(state), net::detached);
  net::signal_set signals(context, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    spdlog::info("shutting down");
    (*listener)->close();
    context.stop();
  });
  unsigned threads =
      cfg->threads ? cfg->threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i)
    pool.emplace_back([&] { context.run(); });
  context.run();
  for (auto& thread : pool)
    thread.join();
  return 0;
}

}  // namespace x402proxy::proxy
