#include "pay/paying_forwarder.h"

#include "mcp/jsonrpc_reply.h"

#include <openssl/evp.h>

#include <algorithm>
#include <ctime>

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "x402/base64.h"
#include "x402/codec.h"
#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::pay {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kPaymentMetaKey = "x402/payment";
constexpr std::string_view kCapabilitiesMetaKey = "io.modelcontextprotocol/clientCapabilities";
constexpr std::string_view kPaymentExtension = "org.x402/payment";

// The seller's retry hint for a pending settlement, kept between 1 and 10 s: never a busy loop,
// never a long silence inside the redeem budget.
constexpr int kDefaultRetrySeconds = 2;
constexpr int kMinRetrySeconds = 1;
constexpr int kMaxRetrySeconds = 10;
// The redeem budget ends this long before the call's deadline, so that its last retry can still
// be answered (serve takes up to its redeem_wait, 5 s, to look once more).
constexpr auto kLastRetryAllowance = std::chrono::seconds(10);

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

// Object keys sorted at every level, so that two spellings of one argument object are one call.
void append_canonical(std::string& out, const json::value& value) {
  if (value.is_object()) {
    std::vector<const json::key_value_pair*> members;
    for (const auto& member : value.get_object())
      members.push_back(&member);
    std::sort(members.begin(), members.end(),
              [](const auto* a, const auto* b) { return a->key() < b->key(); });
    out += '{';
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0)
        out += ',';
      out += json::serialize(json::string(members[i]->key()));
      out += ':';
      append_canonical(out, members[i]->value());
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    const json::array& items = value.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0)
        out += ',';
      append_canonical(out, items[i]);
    }
    out += ']';
  } else {
    out += json::serialize(value);
  }
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 15];
  }
  return hex;
}

// A failed ledger write loses bookkeeping, not money: it is logged and the call goes on.
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
                  const std::string& message, json::object data = {}) {
  to_client(mcp::jsonrpc_error(id, code, message, std::move(data)));
}

}  // namespace

std::string call_fingerprint(const std::string& seller, const std::string& tool,
                             const json::object& request) {
  std::string text = seller;
  text += '\n';
  text += tool;
  text += '\n';
  const json::value* arguments = nullptr;
  if (const json::value* params = request.if_contains("params"); params && params->is_object())
    arguments = params->get_object().if_contains("arguments");
  append_canonical(text, arguments != nullptr ? *arguments : json::value());
  return sha256_hex(text);
}

struct PayingForwarder::Exchange {
  Result<RemoteAnswer> answer = make_error("remote.unreachable", "not sent");
  bool sent = false;
  std::string final_text;     // the server's answer to this request, when one came
  json::value final_message;  // its parse (null when none came)
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
