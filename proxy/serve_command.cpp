// `serve`'s wiring (compare Envoy's config.cc): every part is made by a factory from the validated
// config — the facilitator (facilitator/factory.h), the upstream (upstream/upstream_factory.h),
// prepaid credit (credit/credit_factory.h), the options (operations/serve_operations.h) — and put
// together in the order a restart needs: journal, settlement service, recovery pass, replay guard
// seeded from the journal, then the listeners; SIGHUP reloads the price list, SIGTERM drains.
#include "proxy/serve_command.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <optional>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "config/serve_config.h"
#include "facilitator/factory.h"
#include "net/spawn.h"
#include "proxy/credit/credit_factory.h"
#include "proxy/listener.h"
#include "proxy/operations/facilitator_watch.h"
#include "proxy/operations/serve_operations.h"
#include "proxy/paywall/local_payment_check.h"
#include "proxy/settlement/chain_provers.h"
#include "proxy/settlement/ledger_prover.h"
#include "proxy/settlement/store_factory.h"
#include "proxy/sse_clients/sse_client_endpoint.h"
#include "proxy/upstream/upstream_factory.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "x402-mcp-proxy serve: %s\n", message.c_str());
  return 2;
}

// Runs `task` on `context` until it is done: the start-up steps that must finish before serve
// accepts anything.
template <class T>
std::optional<T> run_to_end(asio::io_context& context, asio::awaitable<T> task) {
  std::optional<T> out;
  net::spawn_logged(
      context, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(task)); },
      "serve start-up");
  context.run();
  context.restart();
  return out;
}

// What the facilitator supports decides what serve can offer (x402 v2 §7.3). Returns the
// networks to watch and the Solana network whose fee payer the offers name ("" when none).
std::pair<std::vector<std::string>, std::string> accepted_networks(
    const config::ServeConfig& config) {
  std::vector<std::string> networks;
  std::string solana;
  for (const auto& accepted : config.accept) {
    if (std::find(networks.begin(), networks.end(), accepted.network.caip2) == networks.end())
      networks.push_back(accepted.network.caip2);
    if (accepted.network.family == x402::NetworkFamily::solana && solana.empty())
      solana = accepted.network.caip2;
  }
  return {networks, solana};
}

// Every payment the journal still locks stays locked across the restart (after recovery, so
// that what it abandoned is free again).
Status seed_replay_guard(PaymentJournal& journal, ReplayGuard& guard) {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto locked = journal.locked_payments(now);
  if (!locked.ok())
    return locked.error();
  for (const JournalEntry& entry : *locked) {
    if (settlement_open(entry.state)) {
      (void)guard.try_reserve(entry.replay_key, ReplayGuard::Clock::now());
    } else {
      const auto left = std::chrono::seconds(std::max<std::int64_t>(entry.valid_until - now, 0));
      guard.mark_consumed(entry.replay_key, ReplayGuard::Clock::now() + left);
    }
  }
  return ok_status();
}

}  // namespace

int run_serve_command(const std::string& config_path) {
  auto loaded = config::load_serve_config(config_path);
  if (!loaded.ok())
    return fail(loaded.error().message);
  std::shared_ptr<const config::ServeConfig> cfg = *loaded;
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));

  asio::io_context context;
  auto upstream = make_upstream(cfg->upstream, context);
  if (!upstream.ok())
    return fail(upstream.error().message);
  auto state = std::make_shared<ServeState>();
  state->options = serve_options(*cfg);
  state->rate_limiter = make_rate_limiter(*cfg);

  auto facilitator =
      facilitator::make_facilitator(cfg->facilitator, cfg->clock_skew, context.get_executor());
  if (!facilitator.ok())
    return fail(facilitator.error().message);
  state->facilitator = facilitator->facilitator;
  if (facilitator->embedded) {
    spdlog::warn(
        "embedded facilitator: payments are verified and recorded in {}, but it moves no "
        "money on any chain; it is meant for development, tests and closed deployments",
        cfg->facilitator.ledger);
  }

  // An accepted network the facilitator does not support is a start-up error; a facilitator
  // not reachable yet is asked again in the background while /readyz says 503.
  auto [networks, solana_network] = accepted_networks(*cfg);
  auto watch =
      std::make_shared<FacilitatorWatch>(context.get_executor(), state->facilitator, networks);
  auto known = run_to_end(context, watch->refresh());
  if (known && !known->ok()) {
    if (known->error().kind == WatchFailure::unsupported)
      return fail(known->error().message);
    spdlog::warn(
        "facilitator {} not reachable yet ({}); serve starts, priced calls are refused "
        "and /readyz answers 503 until it answers",
        facilitator->name, known->error().message);
  }
  std::function<std::string()> fee_payer = [watch, solana_network = solana_network] {
    return solana_network.empty() ? std::string() : watch->fee_payer(solana_network);
  };
  auto book = build_price_book(*cfg, fee_payer());
  if (!book.ok())
    return fail(book.error().message);
  state->live->prices.store(*book);
  state->reload = make_price_reloader(config_path, cfg, fee_payer, *state);
  state->facilitator_ready = [watch]() -> asio::awaitable<Status> { co_return watch->ready(); };
  if (!solana_network.empty() && fee_payer().empty()) {
    spdlog::warn(
        "the facilitator's Solana fee payer is not known yet: Solana offers are left out "
        "until it is");
  }
  auto admin_token = load_admin_token(cfg->operations.admin);
  if (!admin_token.ok())
    return fail(admin_token.error().message);
  state->admin.token = *admin_token;
  state->admin.on_main_port = cfg->operations.admin.listen.empty();
  state->local_check = make_local_check(cfg->clock_skew);
  auto store = make_store(*cfg);
  if (!store.ok())
    return fail(store.error().message);
  state->journal = store->journal;
  state->replay_locks = store->replay_locks;
  state->store_ready = store->ready;
  spdlog::info("payments in the {}", store->description);
  // The embedded facilitator's ledger proves its own settlements; otherwise the chain does,
  // through the configured nodes.
  std::shared_ptr<SettlementProver> prover;
  if (facilitator->embedded) {
    prover = std::make_shared<LedgerProver>(facilitator->embedded);
  } else if (!cfg->rpc.empty()) {
    auto provers = ChainProvers::create(context.get_executor(), cfg->rpc);
    if (!provers.ok())
      return fail(provers.error().message);
    prover = std::move(provers).value();
  }
  state->settlement = std::make_shared<SettlementService>(
      context.get_executor(), state->facilitator, state->journal, state->metrics,
      settlement_options(*cfg), prover);
  // Payments a previous run left open are finished before any new call is accepted, as far as
  // a bounded first pass gets (DESIGN, paywall pipeline step 7); the reconciler goes on with the
  // rest, and a buyer retrying meanwhile is told the settlement is pending.
  if (auto recovery =
          run_to_end(context, state->settlement->recover(state->options.recovery_budget))) {
    state->metrics->count_recovered("settled", recovery->settled);
    state->metrics->count_recovered("settle_failed", recovery->settle_failed);
    state->metrics->count_recovered("abandoned", recovery->abandoned);
    state->metrics->count_recovered("pending", recovery->pending);
    state->metrics->count_recovered("left_open", recovery->left_open);
  }
  state->settlement->renew_claims = store->renew_claims;
  if (store->memory_guard) {
    if (auto seeded = seed_replay_guard(*state->journal, *store->memory_guard); !seeded.ok())
      return fail(seeded.error().message);
  }

  state->upstream = std::make_shared<UpstreamPool>(context.get_executor(), upstream->endpoint,
                                                   state->options.upstream_connect_timeout);
  // After the start-up runs of the io_context above: a JWKS URL keeps a refresh timer on it.
  if (cfg->accounts.enabled) {
    auto credit = make_credit(*cfg, context.get_executor(), *state->settlement, fee_payer());
    if (!credit.ok())
      return fail(credit.error().message);
    state->accounts = std::move(credit).value();
  }

  // Clients of the 2024-11-05 HTTP+SSE transport are bridged to the MCP endpoint through a
  // listener of serve's own on loopback (proxy/sse_clients/sse_client_endpoint.h).
  auto internal_listener = listen_for_serve(context, "127.0.0.1:0", state, false, true, true);
  if (!internal_listener.ok())
    return fail("internal listener: " + internal_listener.error().message);
  {
    net::HttpClientOptions client_options;
    client_options.max_idle_connections = 64;
    auto mcp_client = net::HttpClient::create(
        context.get_executor(),
        "http://127.0.0.1:" + std::to_string((*internal_listener)->local_endpoint().port()) +
            state->upstream->endpoint().path,
        client_options);
    if (!mcp_client.ok())
      return fail(mcp_client.error().message);
    SseClientOptions sse;
    sse.write_timeout = state->options.client_write_timeout;
    sse.relay.answer_idle = state->options.upstream_idle_timeout;
    sse.relay.max_message_bytes = state->options.max_held_response_bytes;
    state->sse_clients = std::make_shared<SseClientEndpoint>(*mcp_client, sse);
  }
  auto listener = listen_for_serve(context, cfg->listen, state, state->admin.on_main_port, true);
  if (!listener.ok())
    return fail(listener.error().message);
  auto local = (*listener)->local_endpoint();
  spdlog::info("serving {} in front of {} with facilitator {}; {} priced tools{}", cfg->listen,
               upstream->name, facilitator->name, state->current_prices()->priced_tools(),
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
  if (upstream->bridge)
    upstream->bridge->start_accepting();
  (*internal_listener)->start();
  (*listener)->start();
  std::unique_ptr<net::HttpServer> admin_listener;
  if (!cfg->operations.admin.listen.empty()) {
    auto bound = listen_for_serve(context, cfg->operations.admin.listen, state, true, false);
    if (!bound.ok())
      return fail("admin.listen: " + bound.error().message);
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
    net::spawn_logged(context,
                      drain_and_stop(
                          context, *state,
                          [&] {
                            (*listener)->close();
                            (*internal_listener)->close();
                            if (admin_listener)
                              admin_listener->close();
                            hangup.cancel();
                            watch->stop();
                          },
                          cfg->operations.shutdown_grace),
                      "serve shutdown");
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
  if (upstream->bridge)
    upstream->bridge->stop_channels();  // every child exits with serve (SIGTERM, SIGKILL after 2 s)
  return 0;
}

}  // namespace x402proxy::proxy
