// Everything one `serve` process shares between its connections, built once at start-up and then
// shared as const (std::shared_ptr<const ServeState>): the options, the local checks and the few
// stateful services (facilitator client, replay guard, journal, upstream pool), all passed in —
// no globals — so tests can build a server around any of them. What changes while serve runs
// (the price list a reload swaps, the draining flag SIGTERM sets) is kept apart in ServeLive.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "facilitator/facilitator.h"
#include "proxy/credit/account_billing.h"
#include "proxy/operations/metrics.h"
#include "proxy/operations/rate_limiter.h"
#include "proxy/paywall/price_book.h"
#include "proxy/paywall/replay_locks.h"
#include "proxy/settlement/payment_journal.h"
#include "proxy/settlement/settlement_service.h"
#include "proxy/upstream/upstream_pool.h"
#include "x402/types.h"

namespace x402proxy::proxy {

class SseClientEndpoint;  // proxy/sse_clients/sse_client_endpoint.h

struct ServeOptions {
  std::size_t body_limit = 4 * 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds request_read_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds keep_alive_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds upstream_connect_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds upstream_idle_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds client_write_timeout{std::chrono::seconds(30)};
  std::chrono::seconds clock_skew{5};
  std::size_t max_held_response_bytes = 16 * 1024 * 1024;  // a paid call's final response
  // How long the result of a call whose settlement was pending is kept for the buyer to redeem.
  std::chrono::milliseconds result_lifetime{std::chrono::hours(24)};
  // How long a buyer's retry of a pending payment waits for one more reconciliation attempt.
  std::chrono::milliseconds redeem_wait{std::chrono::seconds(5)};
  std::size_t max_connections = 10000;  // open client connections; over it: 503 and close
  // At start-up, how long the first recovery pass over the journal may take before the listener
  // opens (the reconciler goes on with the rest).
  std::chrono::milliseconds recovery_budget{std::chrono::seconds(15)};
};

// The local checks run before the facilitator is asked (scheme, network, asset, payTo, amount, time
// window, signature). Gives who pays and the payment's replay identity.
struct CheckedPayment {
  std::string payer;
  std::string replay_key;
  std::int64_t valid_until = 0;  // unix s after which the authorization cannot settle any more
};
using LocalCheck = std::function<Result<CheckedPayment>(const x402::PaymentPayload& payment,
                                                        const x402::PaymentRequirements& required)>;

// Operations endpoints: where they are served and who may reload.
struct AdminOptions {
  bool on_main_port = true;  // /metrics, /readyz (and /admin/reload) also on the MCP port
  std::string token;         // bearer token for POST /admin/reload; empty: the endpoint is off
};

// The parts of a running serve that change: each is atomic, swapped or set as a whole.
struct ServeLive {
  // The current price list; reload swaps it (a call keeps the book it loaded).
  std::atomic<std::shared_ptr<const PriceBook>> prices;
  // Set on SIGTERM: answers stop offering keep-alive, so clients move on while calls finish.
  std::atomic<bool> draining{false};
};

struct ServeState {
  ServeOptions options;
  AdminOptions admin;
  std::shared_ptr<ServeLive> live = std::make_shared<ServeLive>();
  std::shared_ptr<const PriceBook> current_prices() const { return live->prices.load(); }
  LocalCheck local_check;
  std::shared_ptr<facilitator::Facilitator> facilitator;
  std::shared_ptr<ReplayLocks> replay_locks;
  std::shared_ptr<PaymentJournal> journal;
  std::shared_ptr<SettlementService> settlement;
  std::shared_ptr<UpstreamPool> upstream;
  std::shared_ptr<ServeMetrics> metrics = std::make_shared<ServeMetrics>();
  std::shared_ptr<RateLimiter> rate_limiter;  // per client IP; null when not configured
  std::shared_ptr<AccountBilling> accounts;   // prepaid credit; null without `accounts:`
  // GET /sse and POST /messages for clients of the 2024-11-05 HTTP+SSE transport; null: not
  // offered (and on serve's internal listener, which those clients' messages go through).
  std::shared_ptr<SseClientEndpoint> sse_clients;
  // Re-reads the config and swaps the price list; an invalid file changes nothing. Set by serve.
  std::function<Status()> reload;
  // Whether the facilitator answered /supported recently (readiness); set by serve.
  std::function<boost::asio::awaitable<Status>()> facilitator_ready;
  // Whether the shared store answers (readiness; a PostgreSQL store can go away); null: always.
  std::function<boost::asio::awaitable<Status>()> store_ready;
  bool draining() const { return live->draining.load(); }
};

}  // namespace x402proxy::proxy
