// The facilitator serve talks to, made from its validated config (compare Envoy's config.cc):
// the remote x402 facilitator over HTTP(S), or the embedded one with its SQLite ledger.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "config/serve_config.h"
#include "facilitator/embedded/embedded_facilitator.h"
#include "facilitator/facilitator.h"
#include "x402/result.h"

namespace x402proxy::facilitator {

struct FacilitatorChoice {
  std::shared_ptr<Facilitator> facilitator;
  // Set for the embedded facilitator: its ledger proves its own settlements.
  std::shared_ptr<EmbeddedFacilitator> embedded;
  std::string name;  // for logs: the URL, or "embedded (ledger PATH)"
};

// `clock_skew`: the embedded facilitator's tolerance for a payment's time window. Errors name the
// key that is wrong ("facilitator.starting_balance: ...") or what could not be opened.
Result<FacilitatorChoice> make_facilitator(const config::FacilitatorConfig& config,
                                           std::chrono::seconds clock_skew,
                                           boost::asio::any_io_executor executor);

}  // namespace x402proxy::facilitator
