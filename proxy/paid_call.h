// One priced tools/call, top to bottom (DESIGN "The paywall pipeline"): find the payment, match it
// to an offer, check it locally, lock it against replay, verify it with the facilitator, journal
// it, forward the call without the payment, hold the final response while passing earlier stream
// events, settle, and release the response with its receipt — or withhold it when settlement fails.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include "proxy/call_log.h"
#include "proxy/jsonrpc_reply.h"
#include "proxy/mcp_request.h"
#include "proxy/serve_state.h"

namespace x402proxy::proxy {

class PaidCall {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  PaidCall(ServeState& state, boost::beast::tcp_stream& client, const Request& request,
           McpPost& post, const ToolOffer& offer);

  // Answers the call; returns whether the client connection can serve another request.
  boost::asio::awaitable<bool> run();

  // What happened, for the call's log line and metrics (complete once run() returns).
  const CallRecord& record() const { return record_; }

  // A paid call the proxy answers itself (the billing top-up): `result` is the tool result, and
  // `on_settled` runs once the payment is settled, before the answer leaves, and may rewrite the
  // result (it receives the settled requirement and the payment's replay identity).
  struct LocalAnswer {
    std::function<boost::json::object()> result;
    std::function<void(boost::json::object& result, const x402::PaymentRequirements& paid,
                       const std::string& payment_id)>
        on_settled;
  };
  void answer_locally(LocalAnswer answer) { local_ = std::move(answer); }

 private:
  // Answers without contacting the upstream: the x402 payment-required result with `error`.
  boost::asio::awaitable<bool> reply_payment_required(std::string error);
  boost::asio::awaitable<bool> reply_rpc_error(int code, std::string message);

  boost::asio::awaitable<bool> forward();
  boost::asio::awaitable<bool> answer_local();
  // Decides what the client receives for the upstream's final response to this call: settles a
  // completed call (receipt added) or withholds its content when settlement fails.
  boost::asio::awaitable<std::string> conclude(boost::json::value final_message);
  void give_back_payment(const std::string& why);  // the call did not consume the payment

  ServeState& state_;
  boost::beast::tcp_stream& client_;
  const Request& request_;
  McpPost& post_;
  const McpMessage& call_;
  const ToolOffer& offer_;
  BindingOptions binding_;
  bool keep_alive_;

  // Set once the payment is accepted for forwarding.
  std::optional<x402::PaymentPayload> payment_;
  const x402::PaymentRequirements* requirement_ = nullptr;
  x402::PaymentRequirements facilitator_requirement_;  // the offer in the payment's x402 version
  CheckedPayment checked_;
  std::int64_t journal_id_ = 0;
  CallRecord record_;
  std::optional<LocalAnswer> local_;
};

}  // namespace x402proxy::proxy
