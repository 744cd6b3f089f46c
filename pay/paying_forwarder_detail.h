// Shared by the two halves of PayingForwarder (internal to pay/): paying_forwarder.cpp chooses
// and signs a payment, paid_delivery.cpp sends it and judges the seller's answer.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "pay/paying_forwarder.h"

namespace x402proxy::pay::detail {

using Clock = std::chrono::steady_clock;

// The seller's retry hint for a pending settlement, kept between 1 and 10 s: never a busy loop,
// never a long silence inside the redeem budget.
inline constexpr int kDefaultRetrySeconds = 2;
inline constexpr int kMinRetrySeconds = 1;
inline constexpr int kMaxRetrySeconds = 10;
// The redeem budget ends this long before the call's deadline, so that its last retry can still
// be answered (serve takes up to its redeem_wait, 5 s, to look once more).
inline constexpr auto kLastRetryAllowance = std::chrono::seconds(10);

std::string usd(const x402::Amount& micros);
// A failed ledger write loses bookkeeping, not money: it is logged and the call goes on.
void note_ledger(const Status& status, std::string_view what);
boost::asio::awaitable<void> sleep_for(Clock::duration duration);
void answer_error(const PayingForwarder::ClientWriter& to_client, const boost::json::value& id,
                  int code, const std::string& message, boost::json::object data = {});

}  // namespace x402proxy::pay::detail

namespace x402proxy::pay {

struct PayingForwarder::Exchange {
  Result<RemoteAnswer> answer = make_error("remote.unreachable", "not sent");
  bool sent = false;
  std::string final_text;            // the server's answer to this request, when one came
  boost::json::value final_message;  // its parse (null when none came)
};

// A signed payment and its ledger row, as deliver_paid sends it (again).
struct PayingForwarder::SentPayment {
  std::int64_t row = 0;
  std::string payment_text;  // the payment JSON, resent unchanged; never logged
  std::string header;        // the HTTP header it travels in; "" for params._meta
  std::string price;         // "$0.001", for messages
  bool sent_before = false;  // an earlier call sent it: it may already have bought something
};

struct PayingForwarder::Refusal {
  std::string reason;
  std::optional<RecognizedPaymentRequest> fresh_request;
};

struct PayingForwarder::ResumeOutcome {
  bool answered = false;                                  // the client has its answer
  std::optional<RecognizedPaymentRequest> fresh_request;  // refused: the seller's new offer
};

}  // namespace x402proxy::pay
