// Everything one `serve` process shares between its connections: immutable options and offers,
// and the few stateful services (facilitator client, replay guard, journal, upstream pool), all
// passed in — no globals — so tests can build a server around any of them.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "facilitator/facilitator.h"
#include "proxy/payment_journal.h"
#include "proxy/replay_guard.h"
#include "proxy/upstream_pool.h"
#include "x402/types.h"

namespace x402proxy::proxy {

// What one priced tool costs: the requirements offered in the operator's preference order.
struct ToolOffer {
  std::string tool;
  std::string description;
  std::vector<x402::PaymentRequirements> accepts;
};

// The price list: a priced tool's offer, or nullptr for a free one.
using OfferLookup = std::function<const ToolOffer*(std::string_view tool)>;

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
};

// The local checks run before the facilitator is asked (scheme, network, asset, payTo, amount, time
// window, signature). Gives who pays and the payment's replay identity.
struct CheckedPayment {
  std::string payer;
  std::string replay_key;
  std::chrono::seconds lock_for{};  // how long after settlement the payment could still be valid
};
using LocalCheck = std::function<Result<CheckedPayment>(const x402::PaymentPayload& payment,
                                                        const x402::PaymentRequirements& required)>;

struct ServeState {
  ServeOptions options;
  OfferLookup offers;
  LocalCheck local_check;
  std::shared_ptr<facilitator::Facilitator> facilitator;
  std::shared_ptr<ReplayGuard> replay_guard;
  std::shared_ptr<PaymentJournal> journal;
  std::shared_ptr<UpstreamPool> upstream;
};

}  // namespace x402proxy::proxy
