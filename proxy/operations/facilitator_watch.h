// Knowing the facilitator (x402 v2 §7.3, GET /supported): serve reads what its facilitator
// supports at start and every few minutes. An accepted network or scheme the facilitator does not
// support is a clear start-up error (or /readyz 503 after a change); a facilitator that cannot be
// reached at start does not stop serve: it is asked again with backoff, /readyz answers 503 until
// it answers, and the Solana fee payer the offers must name is taken from it once known.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "facilitator/facilitator.h"
#include "x402/result.h"

namespace x402proxy::proxy {

struct FacilitatorWatchOptions {
  std::chrono::milliseconds refresh{std::chrono::minutes(5)};  // while it answers
  std::chrono::milliseconds first_retry{std::chrono::seconds(1)};
  std::chrono::milliseconds max_retry{std::chrono::seconds(30)};  // while it does not
};

// Why the facilitator cannot be used yet (unreachable: asked again later) or at all
// (unsupported: serve refuses to start).
enum class WatchFailure {
  unreachable,  // "facilitator.unreachable": no usable answer
  unsupported,  // "facilitator.unsupported": it answered, without an accepted network
};
const char* to_string(WatchFailure failure);
using WatchError = Failure<WatchFailure>;

class FacilitatorWatch : public std::enable_shared_from_this<FacilitatorWatch> {
 public:
  // `networks`: the CAIP-2 ids serve accepts (each needs x402 v2 "exact" support).
  FacilitatorWatch(boost::asio::any_io_executor executor,
                   std::shared_ptr<facilitator::Facilitator> facilitator,
                   std::vector<std::string> networks, FacilitatorWatchOptions options = {});

  // Asks /supported now. An unsupported network's message names it and what the facilitator
  // does support.
  boost::asio::awaitable<Result<Ok, WatchError>> refresh();

  // Keeps asking in the background; `on_fee_payers_changed` runs when the Solana fee payers it
  // names change (the offers must be rebuilt).
  void start(std::function<void()> on_fee_payers_changed);
  void stop();

  // The last answer was usable and supports every accepted network.
  Status ready() const;
  // The fee payer the facilitator names for a Solana network (extra.feePayer), "" when unknown.
  std::string fee_payer(const std::string& network) const;

 private:
  boost::asio::awaitable<void> run(std::function<void()> on_change);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<facilitator::Facilitator> facilitator_;
  std::vector<std::string> networks_;
  FacilitatorWatchOptions options_;
  mutable std::mutex mutex_;
  Result<Ok, WatchError> status_ = WatchError(WatchFailure::unreachable, "not asked yet");
  std::optional<x402::SupportedResponse> supported_;
  std::shared_ptr<boost::asio::steady_timer> timer_;
  bool stopped_ = false;
};

}  // namespace x402proxy::proxy
