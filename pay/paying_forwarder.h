// The heart of `pay`: forwards each message of the local MCP client to the paid server and, when a
// tool call is answered with "pay first" (any form of payment_request_form.h), pays and retries:
//   1. select the offers this wallet can pay (signers/payment_selector.h);
//   2. reserve the price against the spending limits — a refusal here means nothing is signed;
//   3. sign with the candidate's key; a failing signer falls back to the next candidate, and the
//      fallback stops 5 s after it began so that a dead key or RPC node never hangs the client;
//   4. keep the signed payment with its ledger row, then resend the call with it in
//      params._meta["x402/payment"] (or the header the seller used for HTTP 402);
//   5. judge the answer (classify_paid_answer). Only a refusal at verification proves the
//      payment cannot settle, so only then is the next candidate signed. A settlement failure
//      ends the call (-32055); a pending settlement is asked again with the same payment until
//      the result comes or the redeem budget ends (-32054); a result is recorded as paid with
//      the seller's receipt and handed to the client.
// One client call therefore moves at most one payment. A payment whose outcome stays open is
// kept with a fingerprint of its call, and the next identical call sends it again instead of
// calling unpaid, so a retrying client redeems what it paid rather than paying twice.
// Notifications and server-to-client requests on the way pass to the client at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "pay/call_messages.h"
#include "pay/payment_request_form.h"
#include "pay/payment_selector.h"
#include "pay/payment_signer.h"
#include "pay/remote_session.h"
#include "pay/spending_limits.h"

namespace x402proxy::pay {

// JSON-RPC error codes `pay` answers with (server-defined range).
namespace pay_code {
inline constexpr int remote_unavailable = -32603;
inline constexpr int limit_exceeded = -32051;     // a spending limit forbids the price
inline constexpr int payment_failed = -32052;     // no candidate could pay
inline constexpr int seller_malformed = -32053;   // the seller's payment request is unreadable
inline constexpr int outcome_unknown = -32054;    // paid; settlement pending or the answer lost
inline constexpr int settlement_failed = -32055;  // paid; the seller could not settle it
}  // namespace pay_code

struct PayingForwarderOptions {
  std::chrono::milliseconds request_timeout{120000};
  std::chrono::milliseconds fallback_budget{5000};
  // How long one call asks again about a payment the seller reports pending (wallet
  // redeem_timeout); it ends earlier when the call's request_timeout would not leave time for
  // the last answer.
  std::chrono::milliseconds redeem_timeout{60000};
  // Stablecoins the wallet adds to the registry's (wallet `assets`).
  std::vector<x402::AssetInfo> assets;
};

class PayingForwarder {
 public:
  using ClientWriter = std::function<void(std::string message)>;

  PayingForwarder(std::shared_ptr<RemoteSession> remote,
                  std::vector<std::unique_ptr<PaymentSigner>> signers,
                  std::vector<std::string> token_priority, std::vector<std::string> networks,
                  std::unique_ptr<pay::SpendingLedger> ledger, PayingForwarderOptions options);

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
  struct SentPayment;
  struct Refusal;
  struct ResumeOutcome;
  boost::asio::awaitable<void> pay_and_retry(const ClientWriter& to_client,
                                             const boost::json::object& request, Exchange first,
                                             const std::string& fingerprint,
                                             std::chrono::steady_clock::time_point deadline);
  // Signs and sends, candidate after candidate, until one is not refused at verification.
  boost::asio::awaitable<void> pay_for(const ClientWriter& to_client,
                                       const boost::json::object& request,
                                       const RecognizedPaymentRequest& payment_request,
                                       const std::string& fingerprint,
                                       std::chrono::steady_clock::time_point deadline);
  // An identical earlier call's payment still open: sent again before anything else.
  boost::asio::awaitable<ResumeOutcome> resume_held_payment(
      const ClientWriter& to_client, const boost::json::object& request,
      const std::string& fingerprint, std::chrono::steady_clock::time_point deadline);
  // Sends the call with `payment` and follows the answer to its end. Returns the refusal when
  // the seller proved the payment cannot settle (the client is not answered yet); otherwise the
  // client has its answer.
  boost::asio::awaitable<std::optional<Refusal>> deliver_paid(
      const ClientWriter& to_client, const boost::json::object& request, const SentPayment& payment,
      std::chrono::steady_clock::time_point deadline);

  std::shared_ptr<RemoteSession> remote_;
  std::vector<std::unique_ptr<PaymentSigner>> signers_;
  pay::SelectionPolicy policy_;
  std::unique_ptr<pay::SpendingLedger> ledger_;
  PayingForwarderOptions options_;
  bool session_ready_ = false;
  // Ledger rows whose payment a call of this process is sending right now: an identical call
  // arriving meanwhile must not send the same payment beside it. One thread uses the forwarder.
  std::set<std::int64_t> delivering_;
};

}  // namespace x402proxy::pay
