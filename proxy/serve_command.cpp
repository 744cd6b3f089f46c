#include "proxy/serve_command.h"

#include <csignal>
#include <cstdio>
#include <ctime>
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
#include "proxy/operations/facilitator_watch.h"
#include "proxy/operations/serve_operations.h"
#include "proxy/paywall/local_payment_check.h"
#include "proxy/settlement/chain_provers.h"
#include "proxy/settlement/ledger_prover.h"
#include "proxy/upstream/stdio/stdio_bridge.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;

namespace {}  // namespace

int run_serve_command(const std::string& config_path) {
  auto loaded = config::load_serve_config(config_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", loaded.error().message.c_str());
    return 2;
  }
  std::shared_ptr<const config::ServeConfig> cfg = *loaded;
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));

  asio::io_context context;
  // A stdio upstream is served through an in-process Streamable HTTP bridge on a loopback port,
  // so that the paywall has one upstream path (see proxy/stdio/stdio_bridge.h).
  std::unique_ptr<StdioBridge> stdio_bridge;
  std::string upstream_url = cfg->upstream.url;
  std::string upstream_name = cfg->upstream.url;
  if (!cfg->upstream.command.empty()) {
    // The bridge writes to children's pipes: a child gone must be an error code, not a SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    StdioBridgeOptions bridge_options;
    bridge_options.command =
        StdioCommand{cfg->upstream.command, cfg->upstream.env, cfg->upstream.cwd};
    auto bridge = StdioBridge::bind(context, std::move(bridge_options));
    if (!bridge.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", bridge.error().message.c_str());
      return 2;
    }
    stdio_bridge = std::move(bridge).value();
    upstream_url = stdio_bridge->url();
    upstream_name =
        "stdio command " + cfg->upstream.command.front() + " (bridged at " + upstream_url + ")";
  }
  auto endpoint = parse_upstream_url(upstream_url);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", endpoint.error().message.c_str());
    return 2;
  }
  auto state = std::make_shared<ServeState>();
  state->options.body_limit = cfg->body_limit;
  state->options.clock_skew = cfg->clock_skew;
  state->options.request_read_timeout = cfg->read_timeout;

  std::string facilitator_name = cfg->facilitator.url;
  // The embedded facilitator's ledger proves its own settlements.
  std::shared_ptr<SettlementProver> prover;
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
    prover = std::make_shared<LedgerProver>(*created);
    facilitator_name = "embedded (ledger " + cfg->facilitator.ledger + ")";
    spdlog::warn(
        "embedded facilitator: payments are verified and recorded in {}, but it moves no "
        "money on any chain; it is meant for development, tests and closed deployments",
        cfg->facilitator.ledger);
  } else {
    facilitator::RemoteFacilitatorOptions remote;
    remote.url = cfg->facilitator.url;
    remote.verify_timeout = cfg->facilitator.verify_timeout;
    // One settle request runs to its own budget; the call waits settle_timeout for it.
    remote.settle_timeout = cfg->facilitator.settle_request_timeout;
    remote.tls_verify = cfg->facilitator.tls_verify;
    auto created = facilitator::RemoteFacilitator::create(context.get_executor(), remote);
    if (!created.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy serve: facilitator: %s\n",
                   created.error().message.c_str());
      return 2;
    }
    state->facilitator = *created;
  }

  // What the facilitator supports decides what serve can offer (x402 v2 §7.3): an accepted
  // network it does not support is a start-up error; a facilitator not reachable yet is asked
  // again in the background while /readyz says 503.
  std::vector<std::string> accepted_networks;
  std::string solana_network;
  for (const auto& accepted : cfg->accept) {
    if (std::find(accepted_networks.begin(), accepted_networks.end(), accepted.network.caip2) ==
        accepted_networks.end())
      accepted_networks.push_back(accepted.network.caip2);
    if (accepted.network.family == x402::NetworkFamily::solana && solana_network.empty())
      solana_network = accepted.network.caip2;
  }
  auto watch = std::make_shared<FacilitatorWatch>(context.get_executor(), state->facilitator,
                                                  accepted_networks);
  std::optional<Result<Ok, WatchError>> known;
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { known.emplace(co_await watch->refresh()); },
      asio::detached);
  context.run();
  context.restart();
  if (known && !known->ok()) {
    if (known->error().kind == WatchFailure::unsupported) {
      std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", known->error().message.c_str());
      return 2;
    }
    spdlog::warn(
        "facilitator {} not reachable yet ({}); serve starts, priced calls are refused "
        "and /readyz answers 503 until it answers",
        facilitator_name, known->error().message);
  }
  std::function<std::string()> fee_payer = [watch, solana_network] {
    return solana_network.empty() ? std::string() : watch->fee_payer(solana_network);
  };
  auto book = build_price_book(*cfg, fee_payer());
  if (!book.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", book.error().message.c_str());
    return 2;
  }
  state->prices.store(*book);
  state->reload = make_price_reloader(config_path, cfg, fee_payer, *state);
  state->facilitator_ready = [watch]() -> asio::awaitable<Status> { co_return watch->ready(); };
  if (!solana_network.empty() && fee_payer().empty()) {
    spdlog::warn(
        "the facilitator's Solana fee payer is not known yet: Solana offers are left out "
        "until it is");
  }
  apply_connection_limits(*cfg, *state);
  auto admin_token = load_admin_token(cfg->operations.admin);
  if (!admin_token.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", admin_token.error().message.c_str());
    return 2;
  }
  state->admin.token = *admin_token;
  state->admin.on_main_port = cfg->operations.admin.listen.empty();
  state->local_check = make_local_check(cfg->clock_skew);
  state->replay_guard = std::make_shared<ReplayGuard>();

  auto journal = PaymentJournal::open(cfg->journal);
  if (!journal.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", journal.error().message.c_str());
    return 2;
  }
  state->journal = std::move(journal).value();
  SettlementOptions settlement_options;
  settlement_options.call_wait = cfg->facilitator.settle_timeout;
  settlement_options.request_timeout = cfg->facilitator.settle_request_timeout;
  if (!prover && !cfg->rpc.empty()) {
    auto provers = ChainProvers::create(context.get_executor(), cfg->rpc);
    if (!provers.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", provers.error().message.c_str());
      return 2;
    }
    prover = std::move(provers).value();
  }
  state->settlement = std::make_shared<SettlementService>(
      context.get_executor(), state->facilitator, state->journal, state->metrics,
      settlement_options, prover);
  // Payments a previous run left open are finished before any new call is accepted, as far as
  // a bounded first pass gets (DESIGN, paywall pipeline step 7); the reconciler goes on with the
  // rest, and a buyer retrying meanwhile is told the settlement is pending.
  std::optional<SettlementService::RecoveryReport> recovery;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        recovery.emplace(co_await state->settlement->recover(std::chrono::seconds(15)));
      },
      asio::detached);
  context.run();
  context.restart();
  if (recovery) {
    state->metrics->count_recovered("settled", recovery->settled);
    state->metrics->count_recovered("settle_failed", recovery->settle_failed);
    state->metrics->count_recovered("abandoned", recovery->abandoned);
    state->metrics->count_recovered("pending", recovery->pending);
    state->metrics->count_recovered("left_open", recovery->left_open);
  }
  // Every payment the journal still locks stays locked across the restart (after recovery, so
  // that what it abandoned is free again).
  if (auto locked = state->journal->locked_payments(static_cast<std::int64_t>(std::time(nullptr)));
      locked.ok()) {
    for (const JournalEntry& entry : *locked) {
      if (settlement_open(entry.state)) {
        (void)state->replay_guard->try_reserve(entry.replay_key, ReplayGuard::Clock::now());
      } else {
        const auto left = std::chrono::seconds(std::max<std::int64_t>(
            entry.valid_until - static_cast<std::int64_t>(std::time(nullptr)), 0));
        state->replay_guard->mark_consumed(entry.replay_key, ReplayGuard::Clock::now() + left);
      }
    }
  } else {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", locked.error().message.c_str());
    return 2;
  }

  state->upstream = std::make_shared<UpstreamPool>(context.get_executor(), *endpoint,
                                                   state->options.upstream_connect_timeout);

  // After the start-up runs of the io_context above: a JWKS URL keeps a refresh timer on it.
  if (cfg->accounts.enabled) {
    auto billing = AccountBilling::create(context.get_executor(), cfg->accounts);
    if (!billing.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy serve: accounts: %s\n", billing.error().message.c_str());
      return 2;
    }
    state->accounts = std::move(billing).value();
    // Reservations a previous run left open belong to calls that died with it: charged when the
    // call had reached the tool (the price covers the attempt), released when it had not.
    if (auto finished = state->accounts->store().finish_open_reservations();
        finished.ok() && (finished->committed + finished->released) > 0) {
      spdlog::warn(
          "accounts: a previous run left {} reservation(s) open: {} charged (the call had "
          "reached the tool), {} released",
          finished->committed + finished->released, finished->committed, finished->released);
    }
    // A top-up whose settlement is proven later (by the reconciler) is credited then.
    AccountBilling* billing_ptr = state->accounts.get();
    state->settlement->on_credit_settled = [billing_ptr](const SettlementJob& job) {
      boost::json::object ignored;
      billing_ptr->credit_topup(job.credit_account, ignored, job.requirements, job.replay_key);
    };
    // Top-ups are offered in every accepted asset: the accept list priced at $1 is the template.
    config::ServeConfig topup_config = *cfg;
    config::PriceSpec one_dollar;
    one_dollar.free = false;
    one_dollar.usd = "$1";
    topup_config.tools = {{cfg->accounts.topup_tool, one_dollar}};
    topup_config.default_price = config::PriceSpec{};
    if (auto table = config::build_price_table(topup_config, fee_payer()); table.ok()) {
      if (const auto* price = table->find(cfg->accounts.topup_tool))
        state->accounts->set_topup_template(price->accepts, price->assets);
    }
    spdlog::info("accounts: prepaid credit in {} ({}), API keys{}", cfg->accounts.ledger,
                 cfg->accounts.asset, cfg->accounts.jwt.enabled() ? " and JWTs" : "");
  }
  auto listener = listen_for_serve(context, cfg->listen, state, state->admin.on_main_port, true);
  if (!listener.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", listener.error().message.c_str());
    return 2;
  }
  auto local = (*listener)->local_endpoint();
  spdlog::info("serving {} in front of {} with facilitator {}; {} priced tools{}", cfg->listen,
               upstream_name, facilitator_name, state->current_prices()->priced_tools(),
               state->current_prices()->has_default() ? " and a default price" : "");
  std::fprintf(stderr, "listening on %s:%u\n", local.address().to_string().c_str(),
               static_cast<unsigned>(local.port()));
  std::fflush(stderr);

  state->settlement->start();
  // A change in what the facilitator names (its Solana fee payer, once it is reachable) rebuilds
  // the offers from the file, as a reload does.
  watch->start([state] {
    spdlog::info("facilitator: its fee payers changed; rebuilding the offers");
    (void)state->reload();
  });
  if (stdio_bridge)
    stdio_bridge->start_accepting();
  (*listener)->start();
  std::unique_ptr<net::HttpServer> admin_listener;
  if (!cfg->operations.admin.listen.empty()) {
    auto bound = listen_for_serve(context, cfg->operations.admin.listen, state, true, false);
    if (!bound.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy serve: admin.listen: %s\n",
                   bound.error().message.c_str());
      return 2;
    }
    admin_listener = std::move(bound).value();
    auto admin_local = admin_listener->local_endpoint();
    std::fprintf(stderr, "admin listening on %s:%u\n", admin_local.address().to_string().c_str(),
                 static_cast<unsigned>(admin_local.port()));
    std::fflush(stderr);
    admin_listener->start();
  }

  // SIGHUP: reload the price list (an invalid file is logged and changes nothing).
  asio::signal_set hangup(context, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup =
      [&](const boost::system::error_code& ec, int) {
        if (ec)
          return;
        spdlog::info("SIGHUP: reloading {}", config_path);
        (void)state->reload();
        hangup.async_wait(on_hangup);
      };
  hangup.async_wait(on_hangup);
  // SIGTERM/SIGINT: stop accepting, let calls in flight (and their settlements) finish within
  // shutdown_grace, then exit; a second signal exits at once.
  asio::signal_set signals(context, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec)
      return;
    spdlog::info("shutting down");
    asio::co_spawn(context,
                   drain_and_stop(
                       context, *state,
                       [&] {
                         (*listener)->close();
                         if (admin_listener)
                           admin_listener->close();
                         hangup.cancel();
                         watch->stop();
                       },
                       cfg->operations.shutdown_grace),
                   asio::detached);
    signals.async_wait([&](const boost::system::error_code& again, int) {
      if (!again)
        context.stop();
    });
  });
  unsigned threads =
      cfg->threads ? cfg->threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i)
    pool.emplace_back([&] { context.run(); });
  context.run();
  for (auto& thread : pool)
    thread.join();
  if (stdio_bridge)
    stdio_bridge->stop_children();  // every child exits with serve (SIGTERM, SIGKILL after 2 s)
  return 0;
}

}  // namespace x402proxy::proxy
