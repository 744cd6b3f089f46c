#include "facilitator/remote_facilitator.h"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "net/redaction.h"
#include "x402/codec.h"
#include "x402/strict_json.h"

namespace x402proxy::facilitator {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

FacilitatorError transport_error(const net::HttpError& error, const std::string& call) {
  FailureKind kind = error.kind == net::HttpFailure::timeout     ? FailureKind::timeout
                     : error.kind == net::HttpFailure::too_large ? FailureKind::malformed_answer
                                                                 : FailureKind::unreachable;
  FacilitatorError failure{kind, error.reason, call + ": " + error.message};
  // Connecting failed: the request cannot have reached the facilitator.
  failure.sent = error.kind != net::HttpFailure::not_sent;
  return failure;
}

// The answer's JSON object, or why there is none. A non-2xx answer that still carries the x402
// failure body (`field` present) is a payment failure, not a transport one (research §2.4).
Result<json::object, FacilitatorError> answer_object(const net::HttpResponse& response,
                                                     const char* field, const std::string& call) {
  auto parsed = x402::parse_strict_json(response.body);
  const bool ok_status = response.status / 100 == 2;
  if (!parsed.ok() || !parsed->is_object()) {
    if (!ok_status) {
      return FacilitatorError{FailureKind::http_status, "http_" + std::to_string(response.status),
                              call + " answered HTTP " + std::to_string(response.status),
                              static_cast<int>(response.status)};
    }
    return FacilitatorError{FailureKind::malformed_answer, "malformed_answer",
                            call + " answered with something that is not a JSON object",
                            static_cast<int>(response.status)};
  }
  if (!ok_status && !parsed->get_object().contains(field)) {
    std::string detail;
    if (auto* e = parsed->get_object().if_contains("error"); e && e->is_string()) {
      detail = ": " + net::redact_secrets(e->get_string());
    }
    return FacilitatorError{FailureKind::http_status, "http_" + std::to_string(response.status),
                            call + " answered HTTP " + std::to_string(response.status) + detail,
                            static_cast<int>(response.status)};
  }
  return std::move(parsed->get_object());
}

}  // namespace

std::string facilitator_request_body(const x402::PaymentPayload& payment,
                                     const x402::PaymentRequirements& requirements) {
  json::object body;
  body["x402Version"] = payment.x402_version;
  body["paymentPayload"] = x402::to_json(payment);
  body["paymentRequirements"] = x402::to_json(requirements, payment.x402_version);
  return json::serialize(body);
}

Result<std::shared_ptr<RemoteFacilitator>> RemoteFacilitator::create(
    asio::any_io_executor executor, RemoteFacilitatorOptions options) {
  net::HttpClientOptions http_options;
  http_options.tls_verify = options.tls_verify;
  auto client = net::HttpClient::create(std::move(executor), options.url, http_options);
  if (!client.ok())
    return client.error();
  return std::shared_ptr<RemoteFacilitator>(
      new RemoteFacilitator(std::move(client).value(), std::move(options)));
}

asio::awaitable<FacilitatorResult<x402::VerifyResponse>> RemoteFacilitator::verify(
    const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements) {
  const std::string call = "facilitator " + options_.url + " /verify";
  auto response = co_await client_->request(http::verb::post, "/verify",
                                            facilitator_request_body(payment, requirements),
                                            options_.headers, options_.verify_timeout, true);
  if (!response.ok())
    co_return transport_error(response.error(), call);
  auto object = answer_object(*response, "isValid", call);
  if (!object.ok())
    co_return object.error();
  auto verified = x402::verify_response_from_json(*object);
  if (!verified.ok()) {
    co_return FacilitatorError{FailureKind::malformed_answer, "malformed_answer",
                               call + ": " + verified.error().message,
                               static_cast<int>(response->status)};
  }
  if (!verified->is_valid) {
    // The facilitator's words are untrusted: its reason as a code, its message without blobs.
    co_return FacilitatorError{
        FailureKind::payment_rejected,
        net::reason_code(verified->invalid_reason.value_or("invalid_payment")),
        net::redact_secrets(verified->invalid_message.value_or("")),
        static_cast<int>(response->status), verified->payer.value_or("")};
  }
  co_return std::move(verified).value();
}

asio::awaitable<FacilitatorResult<x402::SettleResponse>> RemoteFacilitator::settle(
    const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements,
    std::chrono::steady_clock::time_point deadline) {
  const std::string call = "facilitator " + options_.url + " /settle";
  auto budget = options_.settle_timeout;
  if (deadline != std::chrono::steady_clock::time_point::max()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    budget = std::clamp(left, std::chrono::milliseconds(1), budget);
  }
  // Not retried here: a settle that reached the facilitator may have moved money (research
  // §2.4); the caller decides, knowing the outcome is unknown (facilitator/settlement.h).
  auto response = co_await client_->request(http::verb::post, "/settle",
                                            facilitator_request_body(payment, requirements),
                                            options_.headers, budget, false);
  if (!response.ok())
    co_return transport_error(response.error(), call);
  auto object = answer_object(*response, "success", call);
  if (!object.ok())
    co_return object.error();
  auto settled = x402::settle_response_from_json(*object);
  if (!settled.ok()) {
    co_return FacilitatorError{FailureKind::malformed_answer, "malformed_answer",
                               call + ": " + settled.error().message,
                               static_cast<int>(response->status)};
  }
  if (!settled->success) {
    // HTTP 200 with success:false is a failed settlement (DESIGN pitfalls).
    FacilitatorError failure{FailureKind::payment_rejected,
                             net::reason_code(settled->error_reason.value_or("settle_failed")),
                             net::redact_secrets(settled->error_message.value_or("")),
                             static_cast<int>(response->status), settled->payer.value_or("")};
    // A failure that names a transaction may have moved money: the caller must reconcile it.
    failure.transaction = settled->transaction;
    co_return failure;
  }
  if (settled->transaction.empty()) {
    co_return FacilitatorError{FailureKind::malformed_answer, "malformed_answer",
                               call + ": success without a transaction",
                               static_cast<int>(response->status)};
  }
  co_return std::move(settled).value();
}

asio::awaitable<FacilitatorResult<x402::SupportedResponse>> RemoteFacilitator::supported() {
  const std::string call = "facilitator " + options_.url + " /supported";
  auto response = co_await client_->request(http::verb::get, "/supported", {}, options_.headers,
                                            options_.supported_timeout, true);
  if (!response.ok())
    co_return transport_error(response.error(), call);
  auto object = answer_object(*response, "kinds", call);
  if (!object.ok())
    co_return object.error();
  auto supported = x402::supported_response_from_json(*object);
  if (!supported.ok()) {
    co_return FacilitatorError{FailureKind::malformed_answer, "malformed_answer",
                               call + ": " + supported.error().message,
                               static_cast<int>(response->status)};
  }
  co_return std::move(supported).value();
}

}  // namespace x402proxy::facilitator
