// The operator-facing parts of `serve` that are not the paywall itself: building the price list
// (and rebuilding it on reload), the admin token, readiness of the facilitator, the limits taken
// from the config, and the draining shutdown.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "config/serve_config.h"
#include "proxy/serve_state.h"
#include "x402/result.h"

namespace x402proxy::proxy {

// The price list of a validated config. `solana_fee_payer` as for config::build_price_table;
// while it is unknown ("") the Solana offers are left out.
Result<std::shared_ptr<const PriceBook>> build_price_book(const config::ServeConfig& config,
                                                          const std::string& solana_fee_payer);

// A reload function for ServeState::reload: re-reads `config_path`, and when it is valid swaps in
// its price list (tools, default, accept, pay_to). Settings that need a restart (listen, upstream,
// facilitator, journal, admin, limits, threads) are compared with the running ones and a change is
// logged as not applied. An invalid file changes nothing; the error names file, line and key.
std::function<Status()> make_price_reloader(std::string config_path,
                                            std::shared_ptr<const config::ServeConfig> running,
                                            std::function<std::string()> solana_fee_payer,
                                            const ServeState& state);

// The admin bearer token from admin.token_env or admin.token_file ("" when neither is set).
Result<std::string> load_admin_token(const config::AdminConfig& admin);

// The one mapping from the validated config to the options every connection reads; what the
// config does not set keeps ServeOptions' defaults (serve_state.h).
ServeOptions serve_options(const config::ServeConfig& config);
// How settlements wait and retry, from `facilitator:`.
SettlementOptions settlement_options(const config::ServeConfig& config);
// The per-client-IP rate limiter of `limits:`; null when none is configured.
std::shared_ptr<RateLimiter> make_rate_limiter(const config::ServeConfig& config);

// SIGTERM: stop accepting (`stop_accepting`), let requests in flight finish within `grace`, then
// stop the io_context. Logs what it waited for and what it cut.
boost::asio::awaitable<void> drain_and_stop(boost::asio::io_context& context,
                                            const ServeState& state,
                                            std::function<void()> stop_accepting,
                                            std::chrono::milliseconds grace);

}  // namespace x402proxy::proxy
