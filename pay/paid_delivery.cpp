// PayingForwarder's second half: a signed payment sent to the seller (again, when it is being
// redeemed) and the seller's answer judged — paid, pending and redeemed with the same payment,
// or refused. The first half (choosing and signing) is paying_forwarder.cpp.
#include <set>

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
using detail::Clock;

namespace detail {

std::string usd(const x402::Amount& micros) {
  return x402::format_usd(micros, 6);
}

void note_ledger(const Status& status, std::string_view what) {
  if (!status.ok())
    spdlog::warn("spending ledger: cannot record {}: {}", what, status.error().message);
}

boost::asio::awaitable<void> sleep_for(Clock::duration duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  boost::system::error_code ignored;
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
}

void answer_error(const PayingForwarder::ClientWriter& to_client, const json::value& id, int code,
                  const std::string& message, json::object data) {
  to_client(mcp::jsonrpc_error(id, code, message, std::move(data)));
}

}  // namespace detail

using namespace detail;

boost::asio::awaitable<std::optional<PayingForwarder::Refusal>> PayingForwarder::deliver_paid(
    const ClientWriter& to_client, const json::object& request, const SentPayment& payment,
    Clock::time_point deadline) {
  const json::value& id = request.at("id");
  const std::string tool = tool_name_of(request);
  delivering_.insert(payment.row);
  struct Unclaim {
    std::set<std::int64_t>& rows;
    std::int64_t row;
    ~Unclaim() { rows.erase(row); }
  } unclaim{delivering_, payment.row};

  json::value payment_json;
  if (payment.header.empty()) {
    boost::system::error_code ec;
    payment_json = json::parse(payment.payment_text, ec);
    if (ec || !payment_json.is_object()) {
      // Only a damaged ledger gets here. The row cannot be redeemed, and this call must not pay
      // again either: that payment may have moved money.
      note_ledger(ledger_->mark_unconfirmed(payment.row, "the held payment is unreadable",
                                            pay::HeldPayment::drop),
                  "an unreadable held payment");
      answer_error(to_client, id, pay_code::outcome_unknown,
                   "the unconfirmed payment for tool " + tool +
                       " is unreadable in the spending ledger; nothing was sent");
      co_return std::nullopt;
    }
  }
  const std::string redeem_hint =
      "the next identical call sends this same payment again instead of paying anew";
  bool ever_sent = payment.sent_before;
  std::optional<Clock::time_point> redeem_end;
  for (;;) {
    json::object retry = request;
    std::vector<std::pair<std::string, std::string>> headers;
    if (payment.header.empty())
      params_meta(retry)[kPaymentMetaKey] = payment_json;
    else
      headers.emplace_back(payment.header, x402::base64_encode(payment.payment_text));
    auto exchange = co_await send(to_client, id, json::serialize(retry), "tools/call", tool,
                                  std::move(headers), deadline);
    if (!exchange.answer.ok()) {
      const std::string why = exchange.answer.error().message;
      if (!exchange.sent && !ever_sent) {
        note_ledger(ledger_->release(payment.row, why), "a payment never sent");
        answer_error(to_client, id, pay_code::remote_unavailable,
                     why + "; the payment was not sent");
        co_return std::nullopt;
      }
      if (!exchange.sent) {
        answer_error(to_client, id, pay_code::remote_unavailable,
                     why + "; the payment for tool " + tool + " (" + payment.price +
                         ") sent earlier is still unconfirmed; " + redeem_hint);
        co_return std::nullopt;
      }
      // It left with a valid signature: the seller may settle it. It counts against the limits.
      note_ledger(ledger_->mark_unconfirmed(payment.row, why), "an unconfirmed payment");
      answer_error(
          to_client, id, pay_code::outcome_unknown,
          "payment sent for tool " + tool + " (" + payment.price + ") but the answer was lost (" +
              why + "); it may have been settled and is recorded as unconfirmed; " + redeem_hint);
      co_return std::nullopt;
    }
    ever_sent = true;
    const RemoteAnswer& http = *exchange.answer;
    if (http.status != 402 && exchange.final_text.empty()) {
      note_ledger(ledger_->mark_unconfirmed(payment.row, "no JSON-RPC answer"),
                  "an unconfirmed payment");
      answer_error(to_client, id, pay_code::outcome_unknown,
                   "payment sent for tool " + tool + " (" + payment.price +
                       ") but the seller answered HTTP " + std::to_string(http.status) +
                       " without a result; it is recorded as unconfirmed; " + redeem_hint);
      co_return std::nullopt;
    }
    const json::object* message =
        exchange.final_message.is_object() ? &exchange.final_message.get_object() : nullptr;
    PaidAnswer paid = classify_paid_answer(message, http.status, http.payment_required,
                                           http.payment_response, http.body);
    const std::string transaction = paid.receipt ? paid.receipt->transaction : std::string();
    json::object data{{"tool", tool}};
    if (!transaction.empty())
      data["transaction"] = transaction;
    if (paid.receipt && !paid.receipt->network.empty())
      data["network"] = paid.receipt->network;
    if (paid.receipt && paid.receipt->payer)
      data["payer"] = *paid.receipt->payer;

    switch (paid.outcome) {
      case PaidOutcome::refused:
        spdlog::warn("tool {}: the seller refused the payment before running the tool ({})", tool,
                     paid.reason);
        note_ledger(ledger_->release(payment.row, "seller refused: " + paid.reason),
                    "a refused payment");
        co_return Refusal{paid.reason, std::move(paid.fresh_request)};

      case PaidOutcome::settlement_failed:
      case PaidOutcome::unproven: {
        // The tool may have run and an attempt consumed the authorization: signing another
        // could pay twice for this call. The row keeps counting against the limits.
        const bool unproven = paid.outcome == PaidOutcome::unproven;
        spdlog::warn("tool {}: {} ({}); not paying again", tool, to_string(paid.outcome),
                     paid.reason);
        note_ledger(ledger_->mark_unconfirmed(
                        payment.row, std::string(to_string(paid.outcome)) + ": " + paid.reason,
                        pay::HeldPayment::drop, transaction),
                    "a failed settlement");
        data["reason"] = unproven ? "settlement_unproven" : "settlement_failed";
        data["sellerReason"] = paid.reason;
        answer_error(to_client, id, pay_code::settlement_failed,
                     std::string(unproven ? "the seller could not prove the settlement"
                                          : "the seller could not settle the payment") +
                         " for tool " + tool + " (" + payment.price + "): " + paid.reason +
                         "; nothing more was paid (the payment stays recorded as unconfirmed)",
                     std::move(data));
        co_return std::nullopt;
      }

      case PaidOutcome::pending:
      case PaidOutcome::in_use: {
        note_ledger(ledger_->mark_unconfirmed(payment.row, to_string(paid.outcome),
                                              pay::HeldPayment::keep, transaction),
                    "a pending payment");
        const auto now = Clock::now();
        if (!redeem_end)
          redeem_end = std::min(now + options_.redeem_timeout, deadline - kLastRetryAllowance);
        if (now >= *redeem_end) {
          spdlog::warn("tool {}: settlement still pending{}{} at the end of the redeem budget",
                       tool, transaction.empty() ? "" : ", transaction ", transaction);
          data["reason"] = "settlement_pending";
          answer_error(
              to_client, id, pay_code::outcome_unknown,
              "the payment for tool " + tool + " (" + payment.price + ") is pending settlement" +
                  (transaction.empty() ? std::string() : " (transaction " + transaction + ")") +
                  ": the seller has not confirmed it in time; it is recorded as unconfirmed, "
                  "and " +
                  redeem_hint,
              std::move(data));
          co_return std::nullopt;
        }
        const int hint = std::clamp(paid.retry_after_seconds.value_or(kDefaultRetrySeconds),
                                    kMinRetrySeconds, kMaxRetrySeconds);
        const auto wait = std::min<Clock::duration>(std::chrono::seconds(hint), *redeem_end - now);
        spdlog::info("tool {}: the seller reports {}; asking again with the same payment in {} ms",
                     tool, to_string(paid.outcome),
                     std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
        co_await sleep_for(wait);
        continue;
      }

      case PaidOutcome::answered:
        if (paid.receipt && paid.receipt->success) {
          note_ledger(ledger_->mark_paid(payment.row, transaction,
                                         json::serialize(x402::to_json(*paid.receipt))),
                      "a paid payment");
          spdlog::info("tool {}: paid {}; receipt: transaction {} on {}", tool, payment.price,
                       transaction, paid.receipt->network);
        } else {
          // Delivered without a receipt: the call is done, so its payment is not sent again,
          // but nothing proves it settled.
          note_ledger(
              ledger_->mark_unconfirmed(payment.row, "the seller's answer carries no receipt",
                                        pay::HeldPayment::drop),
              "an unconfirmed payment");
          spdlog::warn(
              "tool {}: the seller answered without a settlement receipt; the payment is "
              "recorded as unconfirmed",
              tool);
        }
        to_client(std::move(exchange.final_text));
        co_return std::nullopt;
    }
  }
}

}  // namespace x402proxy::pay
