// One priced tools/call paid with x402, top to bottom (DESIGN "The paywall pipeline"): find the
// payment, match it to an offer; if the journal already knows this payment (a buyer retrying
// after "settlement pending"), redeem it instead of running anything; otherwise check it
// locally, lock it against replay, verify it with the facilitator, journal it, and then
//   settle after (the default): forward the call without the payment, hold its final response,
//     settle, and release the result with its receipt — or withhold it when settlement fails;
//   settle before (`settle: before`, x402 paymentFlow "upfront"): settle, then forward.
// A settlement whose outcome is not known in time is answered "settlement pending" and kept:
// the buyer redeems the result with the same payment once settlement is proven.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include "facilitator/settlement.h"
#include "mcp/jsonrpc_reply.h"
#include "mcp/mcp_request.h"
#include "mcp/paid_answers.h"
#include "proxy/operations/call_log.h"
#include "proxy/serve_state.h"

namespace x402proxy::proxy {

class HeldCall;
class PaymentRecord;

class PaidCall {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  PaidCall(const ServeState& state, boost::beast::tcp_stream& client, const Request& request,
           mcp::McpPost& post, const ToolOffer& offer);

  // Answers the call; returns whether the client connection can serve another request.
  boost::asio::awaitable<bool> run();

  // What happened, for the call's log line and metrics (complete once run() returns).
  const CallRecord& record() const { return record_; }

  // A paid call the proxy answers itself (the billing top-up): `result` is the tool result, and
  // `on_settled` runs once the payment is settled, before the answer leaves, and may rewrite the
  // result (it receives the settled requirement and the payment's replay identity).
  // `credit_account` is recorded with the payment so that a settlement proven later credits it.
  struct LocalAnswer {
    std::function<boost::json::object()> result;
    std::function<void(boost::json::object& result, const x402::PaymentRequirements& paid,
                       const std::string& payment_id)>
        on_settled;
    std::string credit_account;
  };
  void answer_locally(LocalAnswer answer) { local_ = std::move(answer); }

 private:
  boost::asio::awaitable<bool> reply(boost::json::object result);
  boost::asio::awaitable<bool> reply_payment_required(std::string error);
  boost::asio::awaitable<bool> reply_rpc_error(int code, std::string message);

  // A payment the journal knows: answered from its row (kept result, pending, failed), or run
  // now when it was settled but its result never reached the buyer. nullopt: not handled.
  boost::asio::awaitable<std::optional<bool>> redeem(const JournalEntry& row);
  boost::asio::awaitable<bool> settle_after(PaymentRecord& record);
  boost::asio::awaitable<bool> settle_before(PaymentRecord& record);
  boost::asio::awaitable<bool> answer_local(PaymentRecord& record);
  // Runs the tool for a payment already settled (settle-first, or a result lost in a crash) and
  // answers with its result and `receipt`.
  boost::asio::awaitable<bool> run_settled(PaymentRecord* record, std::int64_t row,
                                           const boost::json::object& receipt);
  // The final answer for the settlement `settled` of the call whose tool result is `result`.
  boost::json::object settled_answer(boost::json::object result, const facilitator::Settlement& s);
  boost::json::object unsettled_answer(const facilitator::Settlement& settlement);
  // The first answer carrying a payment's result claims its delivery; a retry of the same
  // payment racing it gets "payment already used" instead of a second copy.
  boost::asio::awaitable<bool> claim_delivery(std::int64_t row);
  boost::asio::awaitable<void> finish_delivery(std::int64_t row, bool written);
  SettlementJob job(std::int64_t row) const;
  mcp::PaymentFacts facts(const std::string& transaction) const;
  mcp::PaymentFacts facts(const JournalEntry& row) const;
  Request upstream_request();

  const ServeState& state_;
  boost::beast::tcp_stream& client_;
  const Request& request_;
  mcp::McpPost& post_;
  const mcp::McpMessage& call_;
  const ToolOffer& offer_;
  mcp::BindingOptions binding_;
  bool keep_alive_;

  // Set once the payment is matched to an offer.
  std::optional<x402::PaymentPayload> payment_;
  std::string upstream_body_;  // the client's body less its payment, byte for byte
  const x402::PaymentRequirements* requirement_ = nullptr;
  x402::PaymentRequirements facilitator_requirement_;  // the offer in the payment's x402 version
  CheckedPayment checked_;
  CallRecord record_;
  std::optional<LocalAnswer> local_;
};

}  // namespace x402proxy::proxy
