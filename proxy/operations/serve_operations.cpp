#include "proxy/operations/serve_operations.h"

#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "config/price_table.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;

Result<std::shared_ptr<const PriceBook>> build_price_book(const config::ServeConfig& config,
                                                          const std::string& solana_fee_payer) {
  if (solana_fee_payer.empty()) {
    // Solana offers must name the facilitator's fee payer; until it is known they are left out
    // (a tool with no offer left is refused as "facilitator unavailable").
    config::ServeConfig without_solana = config;
    std::erase_if(without_solana.accept, [](const config::AcceptedAsset& accepted) {
      return accepted.network.family == x402::NetworkFamily::solana;
    });
    auto table = config::build_price_table(without_solana, {});
    if (!table.ok())
      return table.error();
    return std::make_shared<const PriceBook>(*table);
  }
  auto table = config::build_price_table(config, solana_fee_payer);
  if (!table.ok())
    return table.error();
  return std::make_shared<const PriceBook>(*table);
}

std::function<Status()> make_price_reloader(std::string config_path,
                                            std::shared_ptr<const config::ServeConfig> running,
                                            std::function<std::string()> solana_fee_payer,
                                            const ServeState& state) {
  return [config_path, running, solana_fee_payer, &state]() -> Status {
    auto loaded = config::load_serve_config(config_path);
    if (!loaded.ok()) {
      state.metrics->count_config_reload(false);
      spdlog::error("reload refused, the running config stays: {}", loaded.error().message);
      return loaded.error();
    }
    const config::ServeConfig& next = **loaded;
    auto book = build_price_book(next, solana_fee_payer());
    if (!book.ok()) {
      state.metrics->count_config_reload(false);
      spdlog::error("reload refused, the running config stays: {}", book.error().message);
      return book.error();
    }
    auto note = [](bool changed, const char* what) {
      if (changed)
        spdlog::warn("reload: {} changed; that needs a restart and is not applied", what);
    };
    note(next.listen != running->listen, "listen");
    note(next.upstream.url != running->upstream.url ||
             next.upstream.command != running->upstream.command,
         "upstream");
    note(next.facilitator.url != running->facilitator.url ||
             next.facilitator.kind != running->facilitator.kind,
         "facilitator");
    note(next.journal != running->journal, "journal");
    note(next.operations.admin.listen != running->operations.admin.listen, "admin.listen");
    state.live->prices.store(std::move(book).value());
    state.metrics->count_config_reload(true);
    spdlog::info("reloaded {}: {} priced tools{}", config_path,
                 state.current_prices()->priced_tools(),
                 state.current_prices()->has_default() ? " and a default price" : "");
    return ok_status();
  };
}

Result<std::string> load_admin_token(const config::AdminConfig& admin) {
  std::string token;
  if (!admin.token_env.empty()) {
    const char* value = std::getenv(admin.token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return make_error("admin.token", "admin.token_env: the environment variable " +
                                           admin.token_env + " is not set");
    }
    token = value;
  } else if (!admin.token_file.empty()) {
    std::ifstream file(admin.token_file);
    if (!file)
      return make_error("admin.token", "admin.token_file: cannot read " + admin.token_file);
    std::getline(file, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' '))
      token.pop_back();
    if (token.empty())
      return make_error("admin.token", "admin.token_file: " + admin.token_file + " is empty");
  }
  // A guessable token protects nothing; the message never quotes it.
  if (!token.empty() && token.size() < 16)
    return make_error("admin.token", "the admin token must be at least 16 characters long");
  return token;
}

ServeOptions serve_options(const config::ServeConfig& config) {
  ServeOptions options;
  options.body_limit = config.body_limit;
  options.request_read_timeout = config.read_timeout;
  options.clock_skew = config.clock_skew;
  const config::ConnectionLimits& limits = config.operations.limits;
  options.max_connections = limits.max_connections;
  options.keep_alive_timeout = limits.idle_timeout;
  options.header_limit = limits.header_limit;
  return options;
}

SettlementOptions settlement_options(const config::ServeConfig& config) {
  SettlementOptions options;
  options.call_wait = config.facilitator.settle_timeout;
  options.request_timeout = config.facilitator.settle_request_timeout;
  return options;
}

std::shared_ptr<RateLimiter> make_rate_limiter(const config::ServeConfig& config) {
  const config::ConnectionLimits& limits = config.operations.limits;
  if (limits.rate_per_ip == 0)
    return nullptr;
  return std::make_shared<RateLimiter>(limits.rate_per_ip, limits.burst);
}

asio::awaitable<void> drain_and_stop(asio::io_context& context, const ServeState& state,
                                     std::function<void()> stop_accepting,
                                     std::chrono::milliseconds grace) {
  state.live->draining = true;
  stop_accepting();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  // GET event streams are not waited for: they last as long as their session, and the client
  // reconnects to another replica (MCP basic/transports, resumability). Calls are.
  spdlog::info(
      "draining: no new connections; {} request(s) in flight, up to {} ms to finish; {} event "
      "stream(s) end now",
      state.metrics->requests_in_flight.load(), grace.count(),
      state.metrics->event_streams_open.load());
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (state.metrics->requests_in_flight.load() > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  const auto left = state.metrics->requests_in_flight.load();
  if (left > 0)
    spdlog::warn("grace period over: {} request(s) still in flight are cut", left);
  else
    spdlog::info("drained: every request in flight finished");
  // Settlements still running are left to the journal: the next start reconciles them.
  if (state.settlement)
    state.settlement->stop();
  context.stop();
}

}  // namespace x402proxy::proxy
