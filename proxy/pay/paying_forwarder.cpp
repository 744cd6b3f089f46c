#include "proxy/pay/paying_forwarder.h"

#include <ctime>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "proxy/pay/payment_request_form.h"
#include "x402/base64.h"
#include "x402/codec.h"
#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::proxy {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kPaymentMetaKey = "x402/payment";
constexpr std::string_view kCapabilitiesMetaKey = "io.modelcontextprotocol/clientCapabilities";
constexpr std::string_view kPaymentExtension = "org.x402/payment";

json::object& params_meta(json::object& request) {
  json::value& params = request["params"];
  if (!params.is_object())
    params = json::object();
  json::value& meta = params.get_object()["_meta"];
  if (!meta.is_object())
    meta = json::object();
  return meta.get_object();
}

// MCP 2026-07-28: clients advertise per request which extensions they handle; advertising
// org.x402/payment asks the seller for the extension binding (x402 MCP transport, "Binding
// Selection"). Merged into what the client itself sent, never replacing it.
void advertise_payment_extension(json::object& request) {
  json::value& caps = params_meta(request)[kCapabilitiesMetaKey];
  if (!caps.is_object())
    caps = json::object();
  json::value& extensions = caps.get_object()["extensions"];
  if (!extensions.is_object())
    extensions = json::object();
  if (!extensions.get_object().contains(kPaymentExtension))
    extensions.get_object()[kPaymentExtension] = json::object();
}

std::string tool_name_of(const json::object& request) {
  const json::value* params = request.if_contains("params");
  if (params == nullptr || !params->is_object())
    return {};
  const json::value* name = params->get_object().if_contains("name");
  return name != nullptr && name->is_string() ? std::string(name->get_string()) : std::string();
}

std::string method_of(const json::object& message) {
  const json::value* method = message.if_contains("method");
  return method != nullptr && method->is_string() ? std::string(method->get_string())
                                                  : std::string();
}

std::string usd(const x402::Amount& micros) {
  return x402::format_usd(micros, 6);
}

}  // namespace

struct PayingForwarder::Exchange {
  Result<RemoteAnswer> answer = make_error("remote.unreachable", "not sent");
  bool sent = false;
  std::string final_text;     // the server's answer to this request, when one came
  json::value final_message;  // its parse (null when none came)
};

PayingForwarder::PayingForwarder(std::shared_ptr<RemoteSession> remote,
                                 std::vector<std::unique_ptr<PaymentSigner>> signers,
                                 std::vector<std::string> token_priority,
                                 std::vector<std::string> networks,
                                 std::unique_ptr<signers::SpendingLedger> ledger,
                                 PayingForwarderOptions options)
    : remote_(std::move(remote)),
      signers_(std::move(signers)),
      ledger_(std::move(ledger)),
      options_(options) {
  for (const auto& signer : signers_)
    policy_.signers.push_back(signer->family());
  policy_.tokens = std::move(token_priority);
  policy_.networks = std::move(networks);
}

namespace {

void answer_error(const PayingForwarder::ClientWriter& to_client, const json::value& id, int code,
                  const std::string& message, json::object data = {}) {
  json::object error{{"code", code}, {"message", message}};
  if (!data.empty())
    error["data"] = std::move(data);
  to_client(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", error}}));
}

}  // namespace

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
    co_await pay_and_retry(to_client, std::move(request), std::move(exchange), deadline);
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
                                                            json::object request, Exchange first,
                                                            Clock::time_point deadline) {
  const json::value id = request["id"];
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
  const RecognizedPaymentRequest payment_request = std::move(**recognized);
  const x402::PaymentRequired& required = payment_request.required;
  spdlog::info("tool {}: the seller asks for payment ({}, x402 v{}, {} offer(s))", tool,
               to_string(payment_request.form), required.x402_version, required.accepts.size());

  auto selection = signers::select_payment_candidates(required.accepts, policy_);
  std::vector<std::string> failures;
  for (const auto& skipped : selection.skipped)
    failures.push_back(skipped.reason);
  std::optional<Error> limit_refusal;
  bool anything_signed = false;
  const auto fallback_deadline = Clock::now() + options_.fallback_budget;

  for (std::size_t n = 0; n < selection.candidates.size(); ++n) {
    const signers::PaymentCandidate& candidate = selection.candidates[n];
    if (n > 0 && Clock::now() >= fallback_deadline) {
      failures.push_back("fallback stopped: its 5 s budget is spent");
      break;
    }
    const x402::PaymentRequirements& offer = required.accepts[candidate.offer];
    PaymentSigner& signer = *signers_[candidate.signer];
    auto amount = x402::parse_amount(offer.amount);
    if (!amount.ok()) {
      failures.push_back(signers::describe_offer(offer) + ": " + amount.error().message);
      continue;
    }
    signers::PlannedPayment planned;
    planned.tool = tool;
    planned.seller = remote_->url();
    planned.network = x402::to_caip2(offer.network);
    planned.asset = offer.asset;
    planned.pay_to = offer.pay_to;
    planned.amount = *amount;
    planned.usd_micros = signers::usd_micros_from_atomic(*amount, candidate.asset->decimals);
    auto reservation = ledger_->reserve(planned, std::time(nullptr));
    if (!reservation.ok()) {
      if (reservation.error().reason.starts_with("limit.") && !limit_refusal)
        limit_refusal = reservation.error();
      failures.push_back(signers::describe_offer(offer) + ": " + reservation.error().message);
      continue;
    }
    auto payload = co_await signer.create_payload(offer);
    if (!payload.ok()) {
      spdlog::warn("tool {}: {}; falling back to the next candidate", tool,
                   payload.error().message);
      (void)ledger_->release(*reservation, payload.error().message);
      failures.push_back(signers::describe_offer(offer) + ": " + payload.error().message);
      continue;
    }
    anything_signed = true;
    x402::PaymentPayload payment;
    payment.x402_version = required.x402_version;
    if (required.x402_version >= 2)
      payment.resource = required.resource;
    payment.accepted = offer;
    payment.payload = std::move(payload).value();
    const json::object payment_json = x402::to_json(payment);
    spdlog::info("tool {}: paying {} with {} {}", tool, signers::describe_offer(offer),
                 signer.family() == x402::NetworkFamily::evm ? "evm" : "solana", signer.address());

    json::object retry = request;
    std::vector<std::pair<std::string, std::string>> headers;
    if (payment_request.form == PaymentRequestForm::http_402) {
      headers.emplace_back(required.x402_version >= 2 ? "PAYMENT-SIGNATURE" : "X-PAYMENT",
                           x402::base64_encode(json::serialize(payment_json)));
    } else {
      params_meta(retry)[kPaymentMetaKey] = payment_json;
    }
    auto exchange = co_await send(to_client, id, json::serialize(retry), "tools/call", tool,
                                  std::move(headers), deadline);
    if (!exchange.answer.ok()) {
      if (!exchange.sent) {
        (void)ledger_->release(*reservation, exchange.answer.error().message);
        answer_error(to_client, id, pay_code::remote_unavailable,
                     exchange.answer.error().message + "; the payment was not sent");
        co_return;
      }
      // It left with a valid signature: the seller may settle it. It counts against the limits.
      (void)ledger_->mark_unconfirmed(*reservation, exchange.answer.error().message);
      answer_error(to_client, id, pay_code::outcome_unknown,
                   "payment sent for tool " + tool + " but the answer was lost (" +
                       exchange.answer.error().message +
                       "); it may have been settled and is recorded as unconfirmed");
      co_return;
    }
    // The seller still asks for payment: it refused this one (its "error" says why).
    std::optional<RecognizedPaymentRequest> again;
    if (exchange.answer->status == 402) {
      if (auto r = recognize_http_402(exchange.answer->payment_required, exchange.answer->body);
          r.ok())
        again = std::move(r).value();
    } else if (exchange.final_message.is_object()) {
      if (auto r = recognize_payment_request(exchange.final_message.get_object()); r.ok())
        again = std::move(*r);
    }
    if (again.has_value() || (exchange.answer->status == 402)) {
      const std::string why =
          again && again->required.error ? *again->required.error : "no reason given";
      spdlog::warn("tool {}: the seller refused the payment ({}); trying the next candidate", tool,
                   why);
      (void)ledger_->release(*reservation, "seller refused: " + why);
      failures.push_back(signers::describe_offer(offer) + ": the seller refused it: " + why);
      continue;
    }
    if (exchange.final_text.empty()) {
      (void)ledger_->mark_unconfirmed(*reservation, "no JSON-RPC answer");
      answer_error(to_client, id, pay_code::outcome_unknown,
                   "payment sent for tool " + tool + " but the seller answered HTTP " +
                       std::to_string(exchange.answer->status) +
                       " without a result; it is recorded as unconfirmed");
      co_return;
    }
    std::optional<x402::SettleResponse> receipt =
        payment_receipt(exchange.final_message.get_object());
    if (!receipt && !exchange.answer->payment_response.empty()) {
      if (auto decoded = x402::base64_decode(exchange.answer->payment_response); decoded.ok()) {
        boost::system::error_code ec;
        auto value = json::parse(*decoded, ec);
        if (!ec) {
          if (auto parsed = x402::settle_response_from_json(value); parsed.ok())
            receipt = std::move(parsed).value();
        }
      }
    }
    if (receipt && receipt->success) {
      (void)ledger_->mark_paid(*reservation, receipt->transaction,
                               json::serialize(x402::to_json(*receipt)));
      spdlog::info("tool {}: paid {}; receipt: transaction {} on {}", tool, usd(planned.usd_micros),
                   receipt->transaction, receipt->network);
    } else {
      (void)ledger_->mark_unconfirmed(*reservation, "the seller's answer carries no receipt");
      spdlog::warn(
          "tool {}: the seller answered without a settlement receipt; the payment is "
          "recorded as unconfirmed",
          tool);
    }
    to_client(std::move(exchange.final_text));
    co_return;
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

}  // namespace x402proxy::proxy
