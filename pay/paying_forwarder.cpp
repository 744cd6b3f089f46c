// PayingForwarder's first half: a client message forwarded, a payment request recognized, an
// offer chosen within the limits, signed, and a held payment resumed. The second half (sending
// a signed payment and judging the answer) is paid_delivery.cpp.
#include "pay/paying_forwarder.h"

#include <algorithm>
#include <ctime>

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "mcp/jsonrpc_reply.h"
#include "pay/call_messages.h"
#include "pay/paying_forwarder_detail.h"
#include "x402/base64.h"
#include "x402/codec.h"
#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::pay {
namespace json = boost::json;

using namespace detail;

PayingForwarder::PayingForwarder(std::shared_ptr<RemoteSession> remote,
                                 std::vector<std::unique_ptr<PaymentSigner>> signers,
                                 std::vector<std::string> token_priority,
                                 std::vector<std::string> networks,
                                 std::unique_ptr<pay::SpendingLedger> ledger,
                                 PayingForwarderOptions options)
    : remote_(std::move(remote)),
      signers_(std::move(signers)),
      ledger_(std::move(ledger)),
      options_(options) {
  for (const auto& signer : signers_)
    policy_.signers.push_back(signer->family());
  policy_.tokens = std::move(token_priority);
  policy_.networks = std::move(networks);
  policy_.assets = options_.assets;
}

boost::asio::awaitable<PayingForwarder::Exchange> PayingForwarder::send(
    const ClientWriter& to_client, const json::value& id, std::string body, std::string_view method,
    std::string_view tool, std::vector<std::pair<std::string, std::string>> headers,
    Clock::time_point deadline) {
  Exchange exchange;
  RemoteMessageSink sink = [&](std::string text, json::value parsed) {
    if (!id.is_null() && parsed.is_object()) {
      const json::object& m = parsed.get_object();
      const json::value* mid = m.if_contains("id");
      if (mid != nullptr && *mid == id && !m.contains("method") &&
          (m.contains("result") || m.contains("error"))) {
        exchange.final_text = std::move(text);
        exchange.final_message = std::move(parsed);
        return;
      }
    }
    to_client(std::move(text));  // notifications and server requests pass at once
  };
  exchange.answer = co_await remote_->post(std::move(body), method, tool, std::move(headers),
                                           deadline, sink, exchange.sent);
  co_return exchange;
}

boost::asio::awaitable<void> PayingForwarder::handle(std::string text, json::value message,
                                                     ClientWriter to_client) {
  const auto deadline = Clock::now() + options_.request_timeout;
  if (!message.is_object() || !message.get_object().contains("method") ||
      !message.get_object().contains("id")) {
    // Notifications, the client's answers to server requests, batches: forwarded as they are.
    auto exchange = co_await send(to_client, json::value(), std::move(text), "", "", {}, deadline);
    if (!exchange.answer.ok())
      spdlog::warn("a client notification or response was not delivered: {}",
                   exchange.answer.error().message);
    co_return;
  }
  json::object request = std::move(message.get_object());
  const json::value id = request["id"];
  const std::string method = method_of(request);
  const bool is_tool_call = method == "tools/call";
  const std::string tool = is_tool_call ? tool_name_of(request) : std::string();
  if (is_tool_call && remote_->modern()) {
    advertise_payment_extension(request);
    text = json::serialize(request);
  }
  std::string fingerprint;
  if (is_tool_call) {
    fingerprint = call_fingerprint(remote_->url(), tool, request);
    auto resumed = co_await resume_held_payment(to_client, request, fingerprint, deadline);
    if (resumed.answered)
      co_return;
    if (resumed.fresh_request) {
      co_await pay_for(to_client, request, *resumed.fresh_request, fingerprint, deadline);
      co_return;
    }
  }
  auto exchange = co_await send(to_client, id, text, method, tool, {}, deadline);
  if (!exchange.answer.ok()) {
    answer_error(to_client, id, pay_code::remote_unavailable, exchange.answer.error().message);
    co_return;
  }
  if (method == "initialize" && exchange.final_message.is_object()) {
    const json::value* result = exchange.final_message.get_object().if_contains("result");
    if (result != nullptr && result->is_object()) {
      if (const json::value* v = result->get_object().if_contains("protocolVersion");
          v && v->is_string()) {
        remote_->set_protocol_version(std::string(v->get_string()));
      }
    }
  }
  if (is_tool_call && (exchange.answer->status == 402 || exchange.final_message.is_object())) {
    co_await pay_and_retry(to_client, request, std::move(exchange), fingerprint, deadline);
    co_return;
  }
  if (!exchange.final_text.empty()) {
    to_client(std::move(exchange.final_text));
  } else {
    answer_error(
        to_client, id, pay_code::remote_unavailable,
        "the paid MCP server answered HTTP " + std::to_string(exchange.answer->status) +
            " without a JSON-RPC answer" +
            (exchange.answer->body.empty() ? "" : ": " + exchange.answer->body.substr(0, 300)));
  }
  if (method == "initialize" && !session_ready_ && exchange.answer->status / 100 == 2) {
    session_ready_ = true;
    if (on_session_ready)
      on_session_ready();
  }
}

boost::asio::awaitable<void> PayingForwarder::pay_and_retry(const ClientWriter& to_client,
                                                            const json::object& request,
                                                            Exchange first,
                                                            const std::string& fingerprint,
                                                            Clock::time_point deadline) {
  const json::value& id = request.at("id");
  const std::string tool = tool_name_of(request);
  Result<std::optional<RecognizedPaymentRequest>> recognized =
      std::optional<RecognizedPaymentRequest>();
  if (first.answer->status == 402) {
    auto from_http = recognize_http_402(first.answer->payment_required, first.answer->body);
    if (from_http.ok())
      recognized = std::optional<RecognizedPaymentRequest>(std::move(from_http).value());
    else
      recognized = from_http.error();
  } else {
    recognized = recognize_payment_request(first.final_message.get_object());
  }
  if (!recognized.ok()) {
    spdlog::warn("tool {}: {}; nothing signed", tool, recognized.error().message);
    answer_error(to_client, id, pay_code::seller_malformed,
                 recognized.error().message + "; nothing was paid");
    co_return;
  }
  if (!recognized->has_value()) {
    to_client(std::move(first.final_text));  // not a payment request: the tool's own answer
    co_return;
  }
  co_await pay_for(to_client, request, **recognized, fingerprint, deadline);
}

boost::asio::awaitable<PayingForwarder::ResumeOutcome> PayingForwarder::resume_held_payment(
    const ClientWriter& to_client, const json::object& request, const std::string& fingerprint,
    Clock::time_point deadline) {
  ResumeOutcome outcome;
  auto held = ledger_->find_held_payment(fingerprint, std::time(nullptr));
  if (!held.ok()) {
    spdlog::warn("spending ledger: cannot look for a pending payment: {}", held.error().message);
    co_return outcome;
  }
  // A row another call of this process is sending right now stays with that call.
  if (!held->has_value() || delivering_.contains((*held)->id))
    co_return outcome;
  const pay::HeldPaymentRow& row = **held;
  SentPayment payment;
  payment.row = row.id;
  payment.payment_text = row.payment_json;
  payment.header = row.header;
  auto micros = x402::parse_amount(row.usd_micros);
  payment.price = micros.ok() ? usd(*micros) : row.usd_micros + " micro-dollars";
  payment.sent_before = true;
  spdlog::info(
      "tool {}: an identical call's payment (ledger row {}, {} to {} on {}) is still unconfirmed; "
      "sending it again instead of paying anew",
      row.tool, row.id, payment.price, row.pay_to, row.network);
  auto refusal = co_await deliver_paid(to_client, request, payment, deadline);
  if (!refusal) {
    outcome.answered = true;
    co_return outcome;
  }
  // Refused at verification: that payment can never settle, so this call may pay afresh.
  outcome.fresh_request = std::move(refusal->fresh_request);
  co_return outcome;
}

boost::asio::awaitable<void> PayingForwarder::pay_for(
    const ClientWriter& to_client, const json::object& request,
    const RecognizedPaymentRequest& payment_request, const std::string& fingerprint,
    Clock::time_point deadline) {
  const json::value& id = request.at("id");
  const std::string tool = tool_name_of(request);
  const x402::PaymentRequired& required = payment_request.required;
  spdlog::info("tool {}: the seller asks for payment ({}, x402 v{}, {} offer(s))", tool,
               to_string(payment_request.form), required.x402_version, required.accepts.size());

  auto selection = pay::select_payment_candidates(required.accepts, policy_);
  std::vector<std::string> failures;
  for (const auto& skipped : selection.skipped)
    failures.push_back(skipped.reason);
  std::optional<Error> limit_refusal;
  bool anything_signed = false;
  const auto fallback_deadline = Clock::now() + options_.fallback_budget;

  for (std::size_t n = 0; n < selection.candidates.size(); ++n) {
    const pay::PaymentCandidate& candidate = selection.candidates[n];
    if (n > 0 && Clock::now() >= fallback_deadline) {
      failures.push_back("fallback stopped: its 5 s budget is spent");
      break;
    }
    const x402::PaymentRequirements& offer = required.accepts[candidate.offer];
    PaymentSigner& signer = *signers_[candidate.signer];
    auto amount = x402::parse_amount(offer.amount);
    if (!amount.ok()) {
      failures.push_back(pay::describe_offer(offer) + ": " + amount.error().message);
      continue;
    }
    pay::PlannedPayment planned;
    planned.tool = tool;
    planned.seller = remote_->url();
    planned.network = x402::to_caip2(offer.network);
    planned.asset = offer.asset;
    planned.pay_to = offer.pay_to;
    planned.amount = *amount;
    planned.usd_micros = pay::usd_micros_from_atomic(*amount, candidate.asset.decimals);
    auto reservation = ledger_->reserve(planned, std::time(nullptr));
    if (!reservation.ok()) {
      if (pay::is_limit(reservation.error().kind) && !limit_refusal)
        limit_refusal = Error(reservation.error());
      failures.push_back(pay::describe_offer(offer) + ": " + reservation.error().message);
      continue;
    }
    auto payload = co_await signer.create_payload(offer);
    if (!payload.ok()) {
      spdlog::warn("tool {}: {}; falling back to the next candidate", tool,
                   payload.error().message);
      note_ledger(ledger_->release(*reservation, payload.error().message), "a released payment");
      failures.push_back(pay::describe_offer(offer) + ": " + payload.error().message);
      continue;
    }
    anything_signed = true;
    x402::PaymentPayload payment;
    payment.x402_version = required.x402_version;
    if (required.x402_version >= 2)
      payment.resource = required.resource;
    payment.accepted = offer;
    payment.payload = std::move(payload).value();
    spdlog::info("tool {}: paying {} with {} {}", tool, pay::describe_offer(offer),
                 signer.family() == x402::NetworkFamily::evm ? "evm" : "solana", signer.address());

    SentPayment sent;
    sent.row = *reservation;
    sent.payment_text = json::serialize(x402::to_json(payment));
    if (payment_request.form == PaymentRequestForm::http_402)
      sent.header = required.x402_version >= 2 ? "PAYMENT-SIGNATURE" : "X-PAYMENT";
    sent.price = usd(planned.usd_micros);
    // Kept before it leaves: whatever becomes of the answer, an identical call can redeem it.
    note_ledger(ledger_->hold_payment(sent.row, fingerprint, sent.payment_text, sent.header),
                "the payment sent");
    auto refusal = co_await deliver_paid(to_client, request, sent, deadline);
    if (!refusal)
      co_return;
    failures.push_back(pay::describe_offer(offer) + ": the seller refused it: " + refusal->reason);
  }

  std::string joined;
  for (const auto& f : failures)
    joined += (joined.empty() ? "" : "; ") + f;
  json::object data{{"tool", tool}, {"paymentRequired", x402::to_json(required)}};
  if (limit_refusal && !anything_signed) {
    data["reason"] = limit_refusal->reason;
    spdlog::warn("tool {}: refused by the spending limits: {}", tool, limit_refusal->message);
    answer_error(to_client, id, pay_code::limit_exceeded,
                 "payment refused by the wallet's spending limits: " + limit_refusal->message +
                     " (nothing was signed)",
                 std::move(data));
    co_return;
  }
  data["reason"] = "payment_failed";
  answer_error(
      to_client, id, pay_code::payment_failed,
      "could not pay for tool " + tool + ": " + (joined.empty() ? std::string("no offer") : joined),
      std::move(data));
}

}  // namespace x402proxy::pay
