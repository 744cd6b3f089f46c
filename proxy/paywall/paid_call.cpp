// The paid call, one coroutine read top to bottom (STYLE: one flow per coroutine; DESIGN "The
// paywall pipeline"): about 480 lines because the steps — match, redeem, check, verify, journal,
// forward, settle, answer — are one sequence whose early answers share the call's state.
#include "proxy/paywall/paid_call.h"

#include <ctime>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "facilitator/rules/payment_identity.h"
#include "net/http_reply.h"
#include "proxy/paywall/held_call.h"
#include "proxy/paywall/payment_extraction.h"
#include "proxy/paywall/payment_record.h"
#include "proxy/upstream/http_forwarding.h"
#include "x402/codec.h"
#include "x402/networks.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using facilitator::Settlement;
using facilitator::SettlementOutcome;

namespace {

bool modern_revision(const PaidCall::Request& request, const mcp::McpMessage& call) {
  auto header = request.find("MCP-Protocol-Version");
  if (header != request.end() && header->value() >= "2026-07-28")
    return true;
  return call.body_protocol_version && *call.body_protocol_version >= "2026-07-28";
}

const char* describe(facilitator::FailureKind kind) {
  return facilitator::to_string(kind);
}

// The tool's own result object of a final response, or nullptr for a JSON-RPC error.
json::object* result_of(json::value& message) {
  json::value* result = message.as_object().if_contains("result");
  return result != nullptr && result->is_object() ? &result->get_object() : nullptr;
}

bool is_input_required(const json::object& result) {
  const json::value* type = result.if_contains("resultType");
  return type && type->is_string() && type->get_string() == "input_required";
}

constexpr int kPendingRetrySeconds = 5;

std::int64_t unix_millis_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

PaidCall::PaidCall(const ServeState& state, boost::beast::tcp_stream& client,
                   const Request& request, mcp::McpPost& post, const ToolOffer& offer)
    : state_(state),
      client_(client),
      request_(request),
      post_(post),
      call_(post.messages.front()),
      offer_(offer),
      binding_{call_.advertises_payment_extension, modern_revision(request, call_)},
      keep_alive_(request.keep_alive()) {
  record_.id = call_.id;
  record_.tool = call_.tool_name;
  record_.price = !offer.usd.empty()      ? offer.usd
                  : offer.accepts.empty() ? std::string("?")
                                          : offer.accepts.front().amount + " atomic units";
  record_.outcome = "payment_required";
}

asio::awaitable<bool> PaidCall::reply(json::object result) {
  co_return co_await net::write_reply(client_, http::status::ok,
                                      mcp::jsonrpc_result(call_.id, std::move(result)), keep_alive_,
                                      state_.options.client_write_timeout);
}

asio::awaitable<bool> PaidCall::reply_payment_required(std::string error) {
  if (payment_)
    record_.outcome = "payment_rejected";
  co_return co_await reply(
      mcp::payment_required_answer(offer_.price(), call_.tool_name, error, binding_));
}

asio::awaitable<bool> PaidCall::reply_rpc_error(int code, std::string message) {
  co_return co_await net::write_reply(client_, http::status::ok,
                                      mcp::jsonrpc_error(call_.id, code, message), keep_alive_,
                                      state_.options.client_write_timeout);
}

mcp::PaymentFacts PaidCall::facts(const std::string& transaction) const {
  return mcp::PaymentFacts{x402::to_caip2(requirement_->network), checked_.payer,
                           requirement_->amount, transaction};
}

mcp::PaymentFacts PaidCall::facts(const JournalEntry& row) const {
  std::string transaction = row.transaction;
  if (transaction.empty()) {
    // Pending: the last transaction a facilitator named, if any.
    auto space = row.seen_transactions.rfind(' ');
    transaction = space == std::string::npos ? row.seen_transactions
                                             : row.seen_transactions.substr(space + 1);
  }
  return mcp::PaymentFacts{x402::to_caip2(row.network), row.payer, row.amount, transaction};
}

SettlementJob PaidCall::job(std::int64_t row) const {
  SettlementJob job;
  job.row = row;
  job.payment = *payment_;
  job.requirements = facilitator_requirement_;
  job.valid_until = checked_.valid_until;
  if (local_)
    job.credit_account = local_->credit_account;
  job.replay_key = checked_.replay_key;
  return job;
}

PaidCall::Request PaidCall::upstream_request() {
  return make_upstream_request(request_, state_.upstream->endpoint(), upstream_body_);
}

asio::awaitable<bool> PaidCall::run() {
  if (offer_.accepts.empty()) {
    // Every way to pay is on a network whose facilitator data (the Solana fee payer) is not
    // known yet: nothing can be offered or verified.
    record_.outcome = "facilitator_unavailable";
    co_return co_await reply_rpc_error(
        mcp::rpc_code::facilitator_unavailable,
        "payment service unavailable: the facilitator has not answered yet, so no payment can be "
        "offered for this tool; retry shortly");
  }
  auto extracted = extract_payment(call_, request_);
  if (!extracted.ok()) {
    record_.outcome = "payment_rejected";
    co_return co_await reply_payment_required(extracted.error().reason + ": " +
                                              extracted.error().message);
  }
  if (!extracted->has_value()) {
    co_return co_await reply_payment_required("Payment required to access this tool");
  }
  payment_ = std::move(**extracted);
  if (auto body = body_without_payment(request_.body())) {
    upstream_body_ = std::move(*body);
  } else {
    // The strict parser accepted it, so this should not happen; if it does, the body is not
    // re-serialized (it would change the client's numbers) and nothing is verified or run.
    record_.outcome = "payment_rejected";
    co_return co_await reply_rpc_error(mcp::rpc_code::invalid_request,
                                       "Invalid Request: the payment could not be separated from "
                                       "the request body; the call was not run");
  }

  auto matched = match_offer(offer_, *payment_, call_.tool_name);
  if (!matched.ok())
    co_return co_await reply_payment_required(matched.error().message);
  requirement_ = *matched;
  facilitator_requirement_ = *requirement_;
  if (payment_->x402_version == 1) {
    // An x402 v1 payment is verified against the v1 form of the offer: network by v1 name,
    // maxAmountRequired, and the resource inline (x402 v1 specification §5).
    facilitator_requirement_.network = x402::to_v1_name(requirement_->network);
    facilitator_requirement_.v1_resource = x402::ResourceInfo{
        "mcp://tool/" + call_.tool_name,
        offer_.description.empty() ? std::optional<std::string>("") : offer_.description,
        std::string("application/json")};
  }

  // A payment the journal already knows is a buyer coming back for what it paid (or a copy):
  // it is answered from its row, never verified and run as a new call.
  if (auto identity = facilitator::payment_identity(*payment_, *requirement_); identity.ok()) {
    const std::string key = *identity;
    auto lookup = [key](PaymentJournal& journal) { return journal.find_by_replay_key(key); };
    auto known = co_await state_.journal->run(std::move(lookup));
    if (!known.ok()) {
      spdlog::error("payment journal: {}", known.error().message);
      co_return co_await reply_rpc_error(mcp::rpc_code::internal_error,
                                         "payment journal unavailable; the call was not run");
    }
    if (known->has_value() && (*known)->payment_json == json::serialize(x402::to_json(*payment_))) {
      auto redeemed = co_await redeem(**known);
      if (redeemed)
        co_return *redeemed;
    }
  }

  auto checked = state_.local_check(*payment_, *requirement_);
  if (!checked.ok()) {
    co_return co_await reply_payment_required(checked.error().reason + ": " +
                                              checked.error().message);
  }
  checked_ = std::move(checked).value();
  record_.payer = checked_.payer;

  PaymentRecord record(state_, checked_.replay_key, *requirement_);
  auto locked = co_await record.lock();
  if (!locked.ok()) {
    // The store cannot say whether this payment is in use: refuse rather than risk a second run.
    spdlog::error("replay lock: {}", locked.error().message);
    record_.outcome = "store_unavailable";
    co_return co_await reply_rpc_error(mcp::rpc_code::internal_error,
                                       "payment store unavailable; the call was not run and "
                                       "nothing was charged");
  }
  if (!*locked) {
    record_.outcome = "payment_in_use";
    co_return co_await reply(mcp::payment_in_use_answer(call_.tool_name, facts(""), binding_));
  }

  const auto verify_started = std::chrono::steady_clock::now();
  auto verified = co_await state_.facilitator->verify(*payment_, facilitator_requirement_);
  record_.verify_time = std::chrono::steady_clock::now() - verify_started;
  state_.metrics->verify_latency.observe(record_.verify_time);
  if (!verified.ok()) {
    record.release_unused();
    const auto& failure = verified.error();
    if (failure.kind == facilitator::FailureKind::payment_rejected) {
      // Built before the co_await: GCC 12 mishandles conditional temporaries in a co_await
      // full-expression.
      std::string reason = failure.reason;
      if (!failure.message.empty())
        reason += ": " + failure.message;
      co_return co_await reply_payment_required(std::move(reason));
    }
    spdlog::warn("verify failed for tool {}: {} ({})", call_.tool_name, failure.message,
                 describe(failure.kind));
    record_.outcome = "facilitator_unavailable";
    co_return co_await reply_rpc_error(mcp::rpc_code::facilitator_unavailable,
                                       "payment could not be verified: facilitator unavailable (" +
                                           std::string(describe(failure.kind)) + ": " +
                                           failure.message +
                                           "); the call was not forwarded and nothing was charged");
  }
  if (verified->payer)
    checked_.payer = *verified->payer;
  record_.payer = checked_.payer;

  JournalEntry entry;
  entry.tool = call_.tool_name;
  entry.network = requirement_->network;
  entry.asset = requirement_->asset;
  entry.amount = requirement_->amount;
  entry.pay_to = requirement_->pay_to;
  entry.payer = checked_.payer;
  entry.replay_key = checked_.replay_key;
  entry.flow = offer_.settle_before ? SettleFlow::before : SettleFlow::after;
  entry.valid_until = checked_.valid_until;
  if (local_)
    entry.credit_account = local_->credit_account;
  // What settle is called with, so that a later run can settle it after a crash, and what a
  // buyer's retry is compared with.
  entry.payment_json = json::serialize(x402::to_json(*payment_));
  entry.requirements_json =
      json::serialize(x402::to_json(facilitator_requirement_, payment_->x402_version));
  auto opened = co_await record.open(entry);
  if (!opened.ok()) {
    // Without a record the payment could be lost in a crash: refuse rather than forward.
    record.release_unused();
    co_return co_await reply_rpc_error(mcp::rpc_code::internal_error,
                                       "payment journal unavailable; the call was not forwarded");
  }
  if (local_)
    co_return co_await answer_local(record);
  if (offer_.settle_before)
    co_return co_await settle_before(record);
  co_return co_await settle_after(record);
}

json::object PaidCall::settled_answer(json::object result, const Settlement& settlement) {
  mcp::attach_receipt(result, mcp::receipt_json(facts(settlement.transaction)));
  return result;
}

json::object PaidCall::unsettled_answer(const Settlement& settlement) {
  if (settlement.outcome == SettlementOutcome::refused) {
    record_.outcome = "settle_failed";
    // x402 MCP transport, "Settlement Failure": only the payment error, never the tool's content.
    return mcp::settlement_failed_answer(offer_.price(), call_.tool_name, settlement.detail(),
                                         facts(""), binding_);
  }
  record_.outcome = "settle_pending";
  return mcp::settlement_pending_answer(call_.tool_name, facts(settlement.transaction),
                                        kPendingRetrySeconds, binding_);
}

asio::awaitable<bool> PaidCall::settle_after(PaymentRecord& record) {
  HeldCall held(state_, client_, keep_alive_, call_.id);
  auto forwarded = co_await held.forward(upstream_request(), [&]() -> asio::awaitable<Status> {
    co_return co_await record.forwarded();
  });
  switch (forwarded.kind) {
    case HeldResult::Kind::not_forwarded:
    case HeldResult::Kind::failed: {
      co_await record.given_back(PaymentState::upstream_failed, forwarded.why);
      record_.outcome = "upstream_failed";
      co_return co_await held.fail(mcp::rpc_code::upstream_unavailable,
                                   forwarded.why + "; payment not settled");
    }
    case HeldResult::Kind::upstream_http:
      co_await record.given_back(PaymentState::upstream_failed, forwarded.why);
      record_.outcome = "upstream_failed";
      co_return held.client_ok();
    case HeldResult::Kind::final_message:
      break;
  }
  json::object* result = result_of(forwarded.message);
  if (result == nullptr) {
    // A JSON-RPC error: the tool did not run (unknown tool, bad arguments), nothing to charge.
    co_await record.given_back(PaymentState::upstream_failed,
                               "upstream answered with a JSON-RPC error");
    record_.outcome = "upstream_failed";
    co_return co_await held.deliver(json::serialize(forwarded.message));
  }
  if (is_input_required(*result)) {
    // MCP 2026-07-28 MRTR: the call has not completed; the client retries it with the same
    // payment.
    co_await record.given_back(PaymentState::released, "input_required");
    record_.outcome = "input_required";
    co_return co_await held.deliver(json::serialize(forwarded.message));
  }
  if (!offer_.charge_tool_errors && mcp::reports_tool_error(*result)) {
    // charge_tool_errors: false — the operator chose the official x402 MCP server wrapper's rule
    // (an isError result is not settled), stated in the offer's resource.description: the
    // verified payment is released unsettled and the buyer keeps its money; the result still
    // goes out, without a receipt.
    co_await record.given_back(PaymentState::released,
                               "tool_error: not charged (charge_tool_errors false)");
    record_.outcome = "tool_error_not_charged";
    co_return co_await held.deliver(json::serialize(forwarded.message));
  }
  // The tool ran (also when it reports isError, unless charge_tool_errors is false: the payment
  // covers the attempt). Its result is kept with the row before settle is asked, so that
  // whatever happens next the buyer can redeem it.
  (void)co_await record.settling(json::serialize(*result));
  const auto settle_started = std::chrono::steady_clock::now();
  Settlement settlement =
      co_await state_.settlement->settle(job(record.row()), state_.settlement->options().call_wait);
  record_.settle_time = std::chrono::steady_clock::now() - settle_started;
  record.keep_locked_until(checked_.valid_until);
  if (settlement.outcome == SettlementOutcome::settled) {
    if (!co_await claim_delivery(record.row())) {
      record_.outcome = "payment_spent";
      co_return co_await held.deliver(mcp::jsonrpc_result(
          call_.id,
          mcp::payment_spent_answer(call_.tool_name, facts(settlement.transaction), binding_)));
    }
    record_.outcome = "paid";
    json::object answer = settled_answer(std::move(*result), settlement);
    json::value& message = forwarded.message;
    message.as_object()["result"] = std::move(answer);
    const bool ok = co_await held.deliver(json::serialize(message));
    co_await finish_delivery(record.row(), held.delivered());
    co_return ok;
  }
  co_return co_await held.deliver(mcp::jsonrpc_result(call_.id, unsettled_answer(settlement)));
}

asio::awaitable<bool> PaidCall::settle_before(PaymentRecord& record) {
  (void)co_await record.settling({});
  const auto settle_started = std::chrono::steady_clock::now();
  Settlement settlement =
      co_await state_.settlement->settle(job(record.row()), state_.settlement->options().call_wait);
  record_.settle_time = std::chrono::steady_clock::now() - settle_started;
  record.keep_locked_until(checked_.valid_until);
  if (settlement.outcome != SettlementOutcome::settled) {
    // Nothing ran: refused means nothing is owed; pending means the buyer retries with the same
    // payment and the tool runs once the settlement is proven.
    co_return co_await reply(unsettled_answer(settlement));
  }
  co_return co_await run_settled(&record, record.row(),
                                 mcp::receipt_json(facts(settlement.transaction)));
}

asio::awaitable<bool> PaidCall::run_settled(PaymentRecord* record, std::int64_t row,
                                            const json::object& receipt) {
  HeldCall held(state_, client_, keep_alive_, call_.id);
  auto forwarded = co_await held.forward(upstream_request(), [&]() -> asio::awaitable<Status> {
    if (record != nullptr)
      co_return co_await record->forwarded();
    auto mark = [row](PaymentJournal& journal) { return journal.mark_forwarded(row); };
    co_return co_await state_.journal->run(std::move(mark));
  });
  if (forwarded.kind != HeldResult::Kind::final_message) {
    // Paid, but the tool gave no result: the buyer keeps a receipt it can redeem.
    record_.outcome = "paid_undelivered";
    std::string message = "the payment was settled (transaction " +
                          std::string(receipt.at("transaction").as_string()) +
                          ") but the tool did not answer: " + forwarded.why +
                          "; retry the same call with the same payment to receive its result";
    if (forwarded.kind == HeldResult::Kind::upstream_http)
      co_return held.client_ok();
    co_return co_await held.fail(mcp::rpc_code::upstream_unavailable, message);
  }
  json::value& message = forwarded.message;
  if (json::object* result = result_of(message)) {
    // Kept until it is delivered, in case this answer is lost too.
    const std::string kept = json::serialize(*result);
    const std::int64_t expires = unix_millis_now() + state_.options.result_lifetime.count();
    auto keep = [row, &kept, expires](PaymentJournal& journal) {
      return journal.keep_result(row, kept, expires);
    };
    (void)co_await state_.journal->run(std::move(keep));
    mcp::attach_receipt(*result, receipt);
  }
  if (!co_await claim_delivery(row)) {
    record_.outcome = "payment_spent";
    const std::string transaction(receipt.at("transaction").as_string());
    co_return co_await held.deliver(mcp::jsonrpc_result(
        call_.id, mcp::payment_spent_answer(call_.tool_name, facts(transaction), binding_)));
  }
  record_.outcome = "paid";
  const bool ok = co_await held.deliver(json::serialize(message));
  co_await finish_delivery(row, held.delivered());
  co_return ok;
}

asio::awaitable<bool> PaidCall::answer_local(PaymentRecord& record) {
  auto marked = co_await record.forwarded();
  if (!marked.ok()) {
    co_await record.given_back(PaymentState::upstream_failed, "journal unavailable");
    co_return co_await reply_rpc_error(mcp::rpc_code::internal_error,
                                       "payment journal unavailable; nothing was charged");
  }
  json::object result = local_->result();
  (void)co_await record.settling(json::serialize(result));
  Settlement settlement =
      co_await state_.settlement->settle(job(record.row()), state_.settlement->options().call_wait);
  record.keep_locked_until(checked_.valid_until);
  if (settlement.outcome != SettlementOutcome::settled)
    co_return co_await reply(unsettled_answer(settlement));
  record_.outcome = "paid";
  if (local_->on_settled)
    local_->on_settled(result, *requirement_, checked_.replay_key);
  if (!co_await claim_delivery(record.row())) {
    record_.outcome = "payment_spent";
    co_return co_await reply(
        mcp::payment_spent_answer(call_.tool_name, facts(settlement.transaction), binding_));
  }
  bool written = false;
  const bool ok = co_await net::write_reply(
      client_, http::status::ok,
      mcp::jsonrpc_result(call_.id, settled_answer(std::move(result), settlement)), keep_alive_,
      state_.options.client_write_timeout, "application/json", &written);
  co_await finish_delivery(record.row(), written);
  co_return ok;
}

asio::awaitable<bool> PaidCall::claim_delivery(std::int64_t row) {
  auto claim = [row](PaymentJournal& journal) { return journal.claim_delivery(row); };
  auto claimed = co_await state_.journal->run(std::move(claim));
  if (!claimed.ok()) {
    // The journal cannot say: deliver. Two copies of a paid result are better than none.
    spdlog::error("payment journal: row {}: {}", row, claimed.error().message);
    co_return true;
  }
  co_return *claimed;
}

asio::awaitable<void> PaidCall::finish_delivery(std::int64_t row, bool written) {
  // Written: the kept result has done its job. Not written (the client left): the claim is
  // given back so that a retry with the same payment receives the result.
  auto finish = [row, written](PaymentJournal& journal) {
    return written ? journal.mark_delivered(row) : journal.release_delivery(row);
  };
  auto done = co_await state_.journal->run(std::move(finish));
  if (!done.ok())
    spdlog::error("payment journal: row {}: {}", row, done.error().message);
}

asio::awaitable<std::optional<bool>> PaidCall::redeem(const JournalEntry& known) {
  JournalEntry row = known;
  const bool given_back = row.state == PaymentState::upstream_failed ||
                          row.state == PaymentState::released ||
                          row.state == PaymentState::abandoned;
  if (!given_back && row.tool != call_.tool_name) {
    // One payment buys one call of the tool it was offered for: the same authorization sent
    // for another tool at the same price is not a retry.
    record_.outcome = "payment_rejected";
    co_return co_await reply_payment_required("payment already used for another tool (" + row.tool +
                                              ")");
  }
  switch (row.state) {
    case PaymentState::upstream_failed:
    case PaymentState::released:
    case PaymentState::abandoned:
      co_return std::nullopt;  // given back unused: it may buy this call as a new payment
    case PaymentState::verified:
    case PaymentState::forwarded:
      record_.outcome = "payment_in_use";
      co_return co_await reply(mcp::payment_in_use_answer(call_.tool_name, facts(row), binding_));
    case PaymentState::settling:
    case PaymentState::settle_pending: {
      // One more look before answering: a proof from the chain or another settle attempt.
      auto looked = co_await state_.settlement->reconcile(row.id, state_.options.redeem_wait);
      if (looked.ok())
        row = std::move(looked).value();
      break;
    }
    default:
      break;
  }
  checked_.payer = row.payer;
  record_.payer = row.payer;
  if (row.state == PaymentState::settled) {
    const json::object receipt = mcp::receipt_json(facts(row));
    if (row.delivered_ms != 0) {
      record_.outcome = "payment_spent";
      co_return co_await reply(mcp::payment_spent_answer(call_.tool_name, facts(row), binding_));
    }
    if (!row.result_json.empty()) {
      boost::system::error_code ec;
      json::value kept = json::parse(row.result_json, ec);
      if (!ec && kept.is_object()) {
        if (!co_await claim_delivery(row.id)) {
          // Another retry of this payment has just taken its result.
          record_.outcome = "payment_spent";
          co_return co_await reply(
              mcp::payment_spent_answer(call_.tool_name, facts(row), binding_));
        }
        json::object result = std::move(kept.get_object());
        mcp::attach_receipt(result, receipt);
        record_.outcome = "redeemed";
        bool written = false;
        const bool ok = co_await net::write_reply(
            client_, http::status::ok, mcp::jsonrpc_result(call_.id, std::move(result)),
            keep_alive_, state_.options.client_write_timeout, "application/json", &written);
        co_await finish_delivery(row.id, written);
        co_return ok;
      }
    }
    if (row.credit_account.empty()) {
      // Settled, and its result never reached the buyer (settle-first, or lost with a crashed
      // run): the call runs now, once, for the payment that bought it.
      const std::string redeeming = "redeem:" + row.replay_key;
      auto locks = state_.replay_locks;
      auto take = [locks, redeeming] { return locks->try_lock(redeeming); };
      auto taken = co_await state_.journal->store().run(std::move(take));
      if (!taken.ok() || !*taken) {
        record_.outcome = "payment_in_use";
        co_return co_await reply(mcp::payment_in_use_answer(call_.tool_name, facts(row), binding_));
      }
      const bool ok = co_await run_settled(nullptr, row.id, receipt);
      state_.journal->store().post([locks, redeeming] { locks->release(redeeming); });
      co_return ok;
    }
    record_.outcome = "redeemed";
    co_return co_await reply(mcp::payment_spent_answer(call_.tool_name, facts(row), binding_));
  }
  if (row.state == PaymentState::settle_failed) {
    record_.outcome = "settle_failed";
    co_return co_await reply(mcp::settlement_failed_answer(offer_.price(), call_.tool_name,
                                                           row.detail, facts(row), binding_));
  }
  if (row.state == PaymentState::settle_unproven) {
    record_.outcome = "settle_unproven";
    co_return co_await reply(
        mcp::settlement_unproven_answer(call_.tool_name, facts(row), binding_));
  }
  record_.outcome = "settle_pending";
  co_return co_await reply(
      mcp::settlement_pending_answer(call_.tool_name, facts(row), kPendingRetrySeconds, binding_));
}

}  // namespace x402proxy::proxy
