#include "proxy/paid_call.h"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

#include "proxy/client_reply.h"
#include "proxy/http_forwarding.h"
#include "proxy/paid_response_stream.h"
#include "proxy/payment_extraction.h"
#include "x402/codec.h"
#include "x402/networks.h"

namespace x402proxy::proxy {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

constexpr std::string_view kReceiptMetaKey = "x402/payment-response";

bool modern_revision(const PaidCall::Request& request, const McpMessage& call) {
  auto header = request.find("MCP-Protocol-Version");
  if (header != request.end() && header->value() >= "2026-07-28")
    return true;
  return call.body_protocol_version && *call.body_protocol_version >= "2026-07-28";
}

const char* describe(facilitator::FailureKind kind) {
  return facilitator::to_string(kind);
}

}  // namespace

PaidCall::PaidCall(ServeState& state, beast::tcp_stream& client, const Request& request,
                   McpPost& post, const ToolOffer& offer)
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

net::awaitable<bool> PaidCall::reply_payment_required(std::string error) {
  if (payment_)
    record_.outcome = "payment_rejected";
  x402::PaymentRequired required;
  required.x402_version = 2;
  required.error = std::move(error);
  // x402 MCP transport: the resource of a tool is mcp://tool/<name>.
  required.resource.url = "mcp://tool/" + call_.tool_name;
  if (!offer_.description.empty())
    required.resource.description = offer_.description;
  required.accepts = offer_.accepts;
  std::string body = jsonrpc_result(call_.id, payment_required_result(required, binding_));
  co_return co_await write_reply(client_, http::status::ok, std::move(body), keep_alive_,
                                 state_.options.client_write_timeout);
}

net::awaitable<bool> PaidCall::reply_rpc_error(int code, std::string message) {
  co_return co_await write_reply(client_, http::status::ok, jsonrpc_error(call_.id, code, message),
                                 keep_alive_, state_.options.client_write_timeout);
}

void PaidCall::give_back_payment(const std::string& why) {
  record_.outcome = "upstream_failed";
  if (requirement_ != nullptr) {
    state_.metrics->count_payment("upstream_failed", requirement_->network, requirement_->asset);
  }
  state_.replay_guard->release(checked_.replay_key);
  if (journal_id_ != 0) {
    if (auto s = state_.journal->update(journal_id_, PaymentState::upstream_failed, {}, why);
        !s.ok()) {
      spdlog::error("payment journal: {}", s.error().message);
    }
  }
}

net::awaitable<bool> PaidCall::run() {
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

  auto checked = state_.local_check(*payment_, *requirement_);
  if (!checked.ok()) {
    co_return co_await reply_payment_required(checked.error().reason + ": " +
                                              checked.error().message);
  }
  checked_ = std::move(checked).value();

  if (!state_.replay_guard->try_reserve(checked_.replay_key, ReplayGuard::Clock::now())) {
    co_return co_await reply_payment_required(
        "payment_already_used: this payment is already being used or has been used for "
        "another call; sign a new one");
  }

  const auto verify_started = std::chrono::steady_clock::now();
  auto verified = co_await state_.facilitator->verify(*payment_, facilitator_requirement_);
  record_.verify_time = std::chrono::steady_clock::now() - verify_started;
  state_.metrics->verify_latency.observe(record_.verify_time);
  if (!verified.ok()) {
    state_.replay_guard->release(checked_.replay_key);
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
    co_return co_await reply_rpc_error(rpc_code::facilitator_unavailable,
                                       "payment could not be verified: facilitator unavailable (" +
                                           std::string(describe(failure.kind)) + ": " +
                                           failure.message +
                                           "); the call was not forwarded and nothing was charged");
  }

  JournalEntry entry;
  entry.tool = call_.tool_name;
  entry.network = requirement_->network;
  entry.asset = requirement_->asset;
  entry.amount = requirement_->amount;
  entry.pay_to = requirement_->pay_to;
  entry.payer = verified->payer.value_or(checked_.payer);
  entry.replay_key = checked_.replay_key;
  // What settle is called with, so that a restart after a crash can settle a forwarded call.
  entry.payment_json = json::serialize(x402::to_json(*payment_));
  entry.requirements_json =
      json::serialize(x402::to_json(facilitator_requirement_, payment_->x402_version));
  auto row = state_.journal->record_verified(entry);
  if (!row.ok()) {
    // Without a record the payment could be lost in a crash: refuse rather than forward.
    state_.replay_guard->release(checked_.replay_key);
    spdlog::error("payment journal: {}", row.error().message);
    co_return co_await reply_rpc_error(rpc_code::internal_error,
                                       "payment journal unavailable; the call was not forwarded");
  }
  journal_id_ = *row;
  record_.payer = entry.payer;
  state_.metrics->count_payment("verified", entry.network, entry.asset);
  if (local_)
    co_return co_await answer_local();
  co_return co_await forward();
}

net::awaitable<bool> PaidCall::answer_local() {
  if (auto s = state_.journal->update(journal_id_, PaymentState::forwarded); !s.ok()) {
    give_back_payment("journal: " + s.error().message);
    co_return co_await reply_rpc_error(rpc_code::internal_error,
                                       "payment journal unavailable; nothing was charged");
  }
  json::value final_message =
      json::object{{"jsonrpc", "2.0"}, {"id", call_.id}, {"result", local_->result()}};
  std::string text = co_await conclude(std::move(final_message));
  co_return co_await write_reply(client_, http::status::ok, std::move(text), keep_alive_,
                                 state_.options.client_write_timeout);
}

net::awaitable<bool> PaidCall::forward() {
  if (auto s = state_.journal->update(journal_id_, PaymentState::forwarded); !s.ok()) {
    give_back_payment("journal: " + s.error().message);
    co_return co_await reply_rpc_error(rpc_code::internal_error,
                                       "payment journal unavailable; the call was not forwarded");
  }
  auto upstream_request = make_upstream_request(request_, state_.upstream->endpoint(),
                                                body_without_payment(post_), true);
  auto acquired = co_await state_.upstream->acquire();
  if (!acquired.ok()) {
    give_back_payment(acquired.error().message);
    co_return co_await reply_rpc_error(rpc_code::upstream_unavailable,
                                       acquired.error().message + "; payment not settled");
  }
  UpstreamConnection& upstream = **acquired;
  boost::system::error_code ec;
  upstream.stream.expires_after(state_.options.upstream_idle_timeout);
  co_await http::async_write(upstream.stream, upstream_request,
                             net::redirect_error(net::use_awaitable, ec));
  PaidResponseStream stream(state_, client_, upstream, keep_alive_);
  if (!ec)
    ec = co_await stream.read_header();
  if (ec) {
    std::string why = "upstream " + state_.upstream->endpoint().url + " failed: " + ec.message();
    give_back_payment(why);
    co_return co_await reply_rpc_error(rpc_code::upstream_unavailable,
                                       why + "; payment not settled");
  }
  if (stream.status() / 100 != 2) {
    give_back_payment("upstream answered HTTP " + std::to_string(stream.status()));
    co_return co_await stream.pass_through_unpaid();
  }
  auto conclude_fn = [this](json::value message) { return conclude(std::move(message)); };
  // (No co_await inside ?: — GCC 12 destroys the temporaries of such expressions twice.)
  PaidFinish finished;
  if (stream.is_event_stream()) {
    finished = co_await stream.finish_event_stream(call_.id, conclude_fn);
  } else {
    finished = co_await stream.finish_json(call_.id, conclude_fn);
  }
  if (!finished.concluded) {
    give_back_payment(finished.failure);
    if (!finished.response_started) {
      co_return co_await reply_rpc_error(rpc_code::upstream_unavailable,
                                         finished.failure + "; payment not settled");
    }
  }
  if (finished.upstream_reusable)
    state_.upstream->release(std::move(*acquired));
  co_return finished.client_ok;
}

net::awaitable<std::string> PaidCall::conclude(json::value final_message) {
  json::object& message = final_message.as_object();
  json::value* result = message.if_contains("result");
  if (result == nullptr || !result->is_object()) {
    // A JSON-RPC error: the tool did not run (unknown tool, bad arguments), nothing to charge.
    give_back_payment("upstream answered with a JSON-RPC error");
    co_return json::serialize(final_message);
  }
  json::object& result_object = result->get_object();
  if (const json::value* type = result_object.if_contains("resultType");
      type && type->is_string() && type->get_string() == "input_required") {
    // MCP 2026-07-28 MRTR: the call has not completed; the client retries it with the same payment.
    state_.replay_guard->release(checked_.replay_key);
    record_.outcome = "input_required";
    state_.metrics->count_payment("released", requirement_->network, requirement_->asset);
    if (auto s = state_.journal->update(journal_id_, PaymentState::released, {}, "input_required");
        !s.ok()) {
      spdlog::error("payment journal: {}", s.error().message);
    }
    co_return json::serialize(final_message);
  }

  // The tool ran (also when it reports isError: the payment covers the attempt). Settle.
  const auto settle_started = std::chrono::steady_clock::now();
  auto settled = co_await state_.facilitator->settle(*payment_, facilitator_requirement_);
  record_.settle_time = std::chrono::steady_clock::now() - settle_started;
  state_.metrics->settle_latency.observe(record_.settle_time);
  const auto consumed_until = ReplayGuard::Clock::now() + checked_.lock_for;
  state_.replay_guard->mark_consumed(checked_.replay_key, consumed_until);
  if (!settled.ok()) {
    const auto& failure = settled.error();
    std::string reason = failure.reason.empty() ? describe(failure.kind) : failure.reason;
    spdlog::warn("settlement failed for tool {} (journal row {}): {} {}", call_.tool_name,
                 journal_id_, reason, failure.message);
    record_.outcome = "settle_failed";
    state_.metrics->count_payment("settle_failed", requirement_->network, requirement_->asset);
    if (auto s = state_.journal->update(journal_id_, PaymentState::settle_failed, {},
                                        reason + ": " + failure.message);
        !s.ok()) {
      spdlog::error("payment journal: {}", s.error().message);
    }
    // x402 MCP transport, "Settlement Failure": only the payment error, never the tool's content.
    x402::PaymentRequired required;
    required.error = "Payment settlement failed: " + reason +
                     (failure.message.empty() ? "" : " (" + failure.message + ")");
    required.resource.url = "mcp://tool/" + call_.tool_name;
    if (!offer_.description.empty())
      required.resource.description = offer_.description;
    required.accepts = offer_.accepts;
    co_return jsonrpc_result(call_.id, payment_required_result(required, binding_));
  }
  record_.outcome = "paid";
  if (local_ && local_->on_settled)
    local_->on_settled(result_object, *requirement_, checked_.replay_key);
  state_.metrics->count_payment("settled", requirement_->network, requirement_->asset);
  state_.metrics->add_revenue(requirement_->network, requirement_->asset, requirement_->amount);
  if (auto s = state_.journal->update(journal_id_, PaymentState::settled, settled->transaction);
      !s.ok()) {
    spdlog::error("payment journal: {}", s.error().message);
  }
  // x402 MCP transport: the receipt goes in result._meta, merged with the tool's own _meta.
  json::value& meta = result_object["_meta"];
  if (!meta.is_object())
    meta = json::object();
  meta.get_object()[kReceiptMetaKey] = x402::to_json(*settled);
  co_return json::serialize(final_message);
}

}  // namespace x402proxy::proxy
