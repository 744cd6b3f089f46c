#include "proxy/operations/facilitator_watch.h"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/spawn.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;

namespace {

// What the facilitator must support for `network`: the x402 v2 exact scheme on it.
bool supports(const x402::SupportedResponse& supported, const std::string& network) {
  for (const auto& kind : supported.kinds) {
    if (kind.x402_version == 2 && kind.scheme == "exact" && kind.network == network)
      return true;
  }
  return false;
}

std::string fee_payer_in(const x402::SupportedResponse& supported, const std::string& network) {
  for (const auto& kind : supported.kinds) {
    if (kind.network != network || !kind.extra)
      continue;
    if (auto* payer = kind.extra->if_contains("feePayer"); payer && payer->is_string())
      return std::string(payer->get_string());
  }
  return {};
}

}  // namespace

FacilitatorWatch::FacilitatorWatch(asio::any_io_executor executor,
                                   std::shared_ptr<facilitator::Facilitator> facilitator,
                                   std::vector<std::string> networks,
                                   FacilitatorWatchOptions options)
    : executor_(std::move(executor)),
      facilitator_(std::move(facilitator)),
      networks_(std::move(networks)),
      options_(options) {}

const char* to_string(WatchFailure failure) {
  return failure == WatchFailure::unsupported ? "facilitator.unsupported"
                                              : "facilitator.unreachable";
}

asio::awaitable<Result<Ok, WatchError>> FacilitatorWatch::refresh() {
  auto answer = co_await facilitator_->supported();
  Result<Ok, WatchError> status = Ok{};
  if (!answer.ok()) {
    status =
        WatchError(WatchFailure::unreachable,
                   "the facilitator's /supported did not answer usably: " + answer.error().message);
  } else {
    for (const std::string& network : networks_) {
      if (supports(*answer, network))
        continue;
      std::string listed;
      for (const auto& kind : answer->kinds) {
        listed += (listed.empty() ? "" : ", ") + kind.scheme + " v" +
                  std::to_string(kind.x402_version) + " on " + kind.network;
      }
      status = WatchError(WatchFailure::unsupported,
                          "the facilitator does not support the exact scheme (x402 v2) on " +
                              network + ", which accept lists; it supports: " +
                              (listed.empty() ? std::string("nothing") : listed));
      break;
    }
  }
  std::lock_guard lock(mutex_);
  status_ = status;
  if (answer.ok())
    supported_ = std::move(answer).value();
  co_return status;
}

Status FacilitatorWatch::ready() const {
  std::lock_guard lock(mutex_);
  if (status_.ok())
    return ok_status();
  return Error(status_.error());
}

std::string FacilitatorWatch::fee_payer(const std::string& network) const {
  std::lock_guard lock(mutex_);
  return supported_ ? fee_payer_in(*supported_, network) : std::string();
}

void FacilitatorWatch::start(std::function<void()> on_fee_payers_changed) {
  timer_ = std::make_shared<asio::steady_timer>(executor_);
  net::spawn_logged(executor_, run(std::move(on_fee_payers_changed)), "facilitator watch");
}

void FacilitatorWatch::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  if (timer_)
    timer_->cancel();
}

asio::awaitable<void> FacilitatorWatch::run(std::function<void()> on_change) {
  auto self = shared_from_this();
  auto timer = timer_;
  auto fee_payers = [this] {
    std::string all;
    for (const auto& network : networks_)
      all += network + "=" + fee_payer(network) + ";";
    return all;
  };
  std::string known = fee_payers();
  auto delay = ready().ok() ? options_.refresh : options_.first_retry;
  for (;;) {
    timer->expires_after(delay);
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    {
      std::lock_guard lock(mutex_);
      if (stopped_)
        co_return;
    }
    const bool was_ready = ready().ok();
    auto status = co_await refresh();
    if (status.ok()) {
      if (!was_ready)
        spdlog::info("facilitator: reachable and supports every accepted network");
      delay = options_.refresh;
    } else {
      if (was_ready || delay >= options_.max_retry)
        spdlog::warn("facilitator: {}; priced calls are refused until it recovers",
                     status.error().message);
      delay = std::min(delay == options_.refresh ? options_.first_retry : delay * 2,
                       options_.max_retry);
    }
    std::string now_known = fee_payers();
    if (now_known != known) {
      known = now_known;
      if (on_change)
        on_change();
    }
  }
}

}  // namespace x402proxy::proxy
