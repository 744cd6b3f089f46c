// The heart of `pay`: forwards each message of the local MCP client to the paid server and, when a
// tool call is answered with "pay first" (any form of payment_request_form.h), pays and retries:
//   1. select the offers this wallet can pay (signers/payment_selector.h);
//   2. reserve the price against the spending limits — a refusal here means nothing is signed;
//   3. sign with the candidate's key; a failing signer falls back to the next candidate, and the
//      fallback stops 5 s after it began so that a dead key or RPC node never hangs the client;
//   4. resend the call with the payment in params._meta["x402/payment"] (or the header the seller
//      used for HTTP 402); a seller that refuses it gets the next candidate;
//   5. record the outcome (paid with the seller's receipt, or unconfirmed) and answer the client
//      with the seller's result, receipt included.
// Notifications and server-to-client requests on the way pass to the client at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "proxy/pay/payment_signer.h"
#include "proxy/pay/remote_session.h"
#include "signers/payment_selector.h"
#include "signers/spending_limits.h"

namespace x402proxy::proxy {

// JSON-RPC error codes `pay` answers with (server-defined range).
namespace pay_code {
inline constexpr int remote_unavailable = -32603;
inline constexpr int limit_exceeded = -32051;    // a spending limit forbids the price
inline constexpr int payment_failed = -32052;    // no candidate could pay
inline constexpr int seller_malformed = -32053;  // the seller's payment request is unreadable
inline constexpr int outcome_unknown = -32054;   // paid, but the seller's answer was lost
}  // namespace pay_code

struct PayingForwarderOptions {
  std::chrono::milliseconds request_timeout{120000};
  std::chrono::milliseconds fallback_budget{5000};
};

class PayingForwarder {
 public:
  using ClientWriter = std::function<void(std::string message)>;

  PayingForwarder(std::shared_ptr<RemoteSession> remote,
                  std::vector<std::unique_ptr<PaymentSigner>> signers,
                  std::vector<std::string> token_priority, std::vector<std::string> networks,
                  std::unique_ptr<signers::SpendingLedger> ledger, PayingForwarderOptions options);

  // One message from the client, parsed. Everything the server sends on its way back (the
  // answer, notifications, server requests) goes to `to_client`; a request gets exactly one
  // answer, written before the returned awaitable completes.
  boost::asio::awaitable<void> handle(std::string text, boost::json::value message,
                                      ClientWriter to_client);

  RemoteSession& remote() { return *remote_; }
  std::shared_ptr<RemoteSession> remote_ptr() { return remote_; }
  // Called once a session exists (after initialize): the bridge may open the server stream.
  std::function<void()> on_session_ready;

 private:
  struct Exchange;
  boost::asio::awaitable<Exchange> send(const ClientWriter& to_client, const boost::json::value& id,
                                        std::string body, std::string_view method,
                                        std::string_view tool,
                                        std::vector<std::pair<std::string, std::string>> headers,
                                        std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<void> pay_and_retry(const ClientWriter& to_client,
                                             boost::json::object request, Exchange first,
                                             std::chrono::steady_clock::time_point deadline);

  std::shared_ptr<RemoteSession> remote_;
  std::vector<std::unique_ptr<PaymentSigner>> signers_;
  signers::SelectionPolicy policy_;
  std::unique_ptr<signers::SpendingLedger> ledger_;
  PayingForwarderOptions options_;
  bool session_ready_ = false;
};

}  // namespace x402proxy::proxy
