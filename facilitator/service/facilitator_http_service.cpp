#include "facilitator/service/facilitator_http_service.h"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>

#include "facilitator/embedded/embedded_facilitator.h"
#include "facilitator/service/facilitator_call_log.h"
#include "facilitator/service/simulated_solana_rpc.h"
#include "net/http_reply.h"
#include "x402/codec.h"
#include "x402/strict_json.h"

namespace x402proxy::facilitator {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

std::string error_body(const std::string& message) {
  return json::serialize(json::object{{"error", message}});
}

struct CallInput {
  x402::PaymentPayload payment;
  x402::PaymentRequirements requirements;
};

// {x402Version, paymentPayload, paymentRequirements}; requirements in the payload's version.
Result<CallInput> read_call(const std::string& body) {
  auto parsed = x402::parse_strict_json(body);
  if (!parsed.ok())
    return make_error("bad_request", "body is not valid JSON: " + parsed.error().message);
  if (!parsed->is_object())
    return make_error("bad_request", "body must be a JSON object");
  const json::object& object = parsed->get_object();
  const json::value* payload = object.if_contains("paymentPayload");
  const json::value* requirements = object.if_contains("paymentRequirements");
  if (payload == nullptr || requirements == nullptr) {
    return make_error("bad_request", "Missing paymentPayload or paymentRequirements");
  }
  auto payment = x402::payment_payload_from_json(*payload);
  if (!payment.ok())
    return make_error("bad_request", "paymentPayload: " + payment.error().message);
  auto required = x402::requirements_from_json(*requirements, payment->x402_version);
  if (!required.ok()) {
    return make_error("bad_request", "paymentRequirements: " + required.error().message);
  }
  return CallInput{std::move(payment).value(), std::move(required).value()};
}

ApiAnswer make_answer(unsigned status, std::string body) {
  ApiAnswer answer;
  answer.status = status;
  answer.body = std::move(body);
  return answer;
}

// What the log line and the metrics say about a call, from its input.
FacilitatorCallRecord record_of(const std::string& operation, const CallInput& input) {
  FacilitatorCallRecord record;
  record.operation = operation;
  record.network = input.requirements.network;
  record.asset = input.requirements.asset;
  record.amount = input.requirements.amount;
  record.scheme = input.requirements.scheme;
  record.x402_version = input.payment.x402_version;
  return record;
}

void finish(FacilitatorCallRecord& record, FacilitatorMetrics* metrics,
            std::chrono::steady_clock::time_point started) {
  record.elapsed = std::chrono::steady_clock::now() - started;
  log_call_record(record);
  if (metrics != nullptr) {
    metrics->count_call(record.operation, record.outcome, record.network, record.reason,
                        record.elapsed);
    if (record.outcome == "settled")
      metrics->add_settled(record.network, record.asset, record.amount);
  }
}

ApiAnswer verify_answer(const FacilitatorResult<x402::VerifyResponse>& verified,
                        FacilitatorCallRecord& record) {
  if (verified.ok()) {
    record.outcome = "valid";
    record.payer = verified->payer.value_or("");
    return make_answer(200, json::serialize(x402::to_json(*verified)));
  }
  const FacilitatorError& failure = verified.error();
  record.reason = failure.reason;
  record.payer = failure.payer;
  record.detail = failure.message;
  if (failure.kind != FailureKind::payment_rejected) {
    record.outcome = "error";
    return make_answer(500, error_body(failure.message));
  }
  record.outcome = "invalid";
  x402::VerifyResponse response;
  response.invalid_reason = failure.reason;
  response.invalid_message = failure.message;
  if (!failure.payer.empty())
    response.payer = failure.payer;
  return make_answer(200, json::serialize(x402::to_json(response)));
}

ApiAnswer settle_answer(const FacilitatorResult<x402::SettleResponse>& settled,
                        const x402::PaymentRequirements& requirements,
                        FacilitatorCallRecord& record) {
  if (settled.ok()) {
    record.outcome = "settled";
    record.payer = settled->payer.value_or("");
    record.transaction = settled->transaction;
    if (settled->amount)
      record.amount = *settled->amount;
    return make_answer(200, json::serialize(x402::to_json(*settled)));
  }
  const FacilitatorError& failure = settled.error();
  record.reason = failure.reason;
  record.payer = failure.payer;
  record.detail = failure.message;
  record.transaction = failure.transaction;
  if (failure.kind != FailureKind::payment_rejected) {
    record.outcome = "error";
    return make_answer(500, error_body(failure.message));
  }
  record.outcome = "refused";
  x402::SettleResponse response;
  response.error_reason = failure.reason;
  response.error_message = failure.message;
  response.network = requirements.network;
  response.transaction = failure.transaction;
  if (!failure.payer.empty())
    response.payer = failure.payer;
  return make_answer(200, json::serialize(x402::to_json(response)));
}

}  // namespace

asio::awaitable<ApiAnswer> answer_facilitator_call(Facilitator& facilitator, std::string method,
                                                   std::string path, std::string body,
                                                   bool simulate_solana_rpc,
                                                   FacilitatorMetrics* metrics) {
  if (simulate_solana_rpc && path == "/solana-rpc") {
    // JSON-RPC over HTTP: the transport always answers 200; failures are JSON-RPC errors.
    if (method != "POST") {
      ApiAnswer refused = make_answer(405, error_body("use POST /solana-rpc"));
      co_return refused;
    }
    // The simulated chain's token accounts are the embedded facilitator's ledger; in front of
    // any other facilitator there is no ledger to show, only the registry's mints.
    auto* embedded = dynamic_cast<EmbeddedFacilitator*>(&facilitator);
    ApiAnswer rpc = make_answer(
        200, answer_simulated_solana_rpc(body, embedded ? &embedded->ledger() : nullptr));
    co_return rpc;
  }
  if (metrics != nullptr && path == "/metrics") {
    if (method != "GET") {
      ApiAnswer refused = make_answer(405, error_body("use GET /metrics"));
      co_return refused;
    }
    ApiAnswer scrape = make_answer(200, metrics->render());
    scrape.content_type = "text/plain; version=0.0.4";
    co_return scrape;
  }
  if (path == "/supported") {
    if (method != "GET") {
      ApiAnswer refused = make_answer(405, error_body("use GET /supported"));
      co_return refused;
    }
    auto supported = co_await facilitator.supported();
    ApiAnswer out = supported.ok() ? make_answer(200, json::serialize(x402::to_json(*supported)))
                                   : make_answer(500, error_body(supported.error().message));
    co_return out;
  }
  if (path != "/verify" && path != "/settle") {
    ApiAnswer unknown = make_answer(
        404, error_body("not found: the API is POST /verify, POST /settle, GET /supported"));
    co_return unknown;
  }
  if (method != "POST") {
    ApiAnswer refused = make_answer(405, error_body("use POST " + path));
    co_return refused;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::string operation = path.substr(1);
  auto input = read_call(body);
  if (!input.ok()) {
    FacilitatorCallRecord record;
    record.operation = operation;
    record.outcome = "bad_request";
    record.detail = input.error().message;
    finish(record, metrics, started);
    ApiAnswer bad = make_answer(400, error_body(input.error().message));
    co_return bad;
  }
  FacilitatorCallRecord record = record_of(operation, *input);
  if (operation == "verify") {
    auto verified = co_await facilitator.verify(input->payment, input->requirements);
    ApiAnswer out = verify_answer(verified, record);
    finish(record, metrics, started);
    co_return out;
  }
  auto settled = co_await facilitator.settle(input->payment, input->requirements);
  ApiAnswer out = settle_answer(settled, input->requirements, record);
  finish(record, metrics, started);
  co_return out;
}

namespace {

constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr auto kTimeout = std::chrono::seconds(30);

asio::awaitable<bool> serve_call(std::shared_ptr<Facilitator> facilitator, bool simulate_solana_rpc,
                                 std::shared_ptr<FacilitatorMetrics> metrics,
                                 beast::tcp_stream& stream, net::HttpRequest& request) {
  std::string target(request.target());
  std::string path = target.substr(0, target.find('?'));
  ApiAnswer answer = co_await answer_facilitator_call(
      *facilitator, std::string(request.method_string()), path, std::move(request.body()),
      simulate_solana_rpc, metrics.get());
  metrics->count_http(path, answer.status);
  // verify and settle have their own line (facilitator_call_log.h); this one is for the rest.
  spdlog::debug("facilitator {} {} -> {}", request.method_string(), path, answer.status);
  co_return co_await net::write_reply(stream, static_cast<http::status>(answer.status),
                                      std::move(answer.body), request.keep_alive(), kTimeout,
                                      answer.content_type.c_str());
}

}  // namespace

Result<std::unique_ptr<FacilitatorHttpService>> FacilitatorHttpService::bind(
    asio::io_context& context, const std::string& address, std::shared_ptr<Facilitator> facilitator,
    bool simulate_solana_rpc) {
  net::HttpServerOptions options;
  options.body_limit = kBodyLimit;
  options.keep_alive_timeout = kTimeout;
  options.read_timeout = kTimeout;
  options.write_timeout = kTimeout;
  options.name = "facilitator service";
  net::HttpServerHandlers handlers;
  auto metrics = std::make_shared<FacilitatorMetrics>();
  handlers.on_request = [facilitator, simulate_solana_rpc, metrics](beast::tcp_stream& stream,
                                                                    net::HttpRequest& request,
                                                                    const std::string&) {
    return serve_call(facilitator, simulate_solana_rpc, metrics, stream, request);
  };
  handlers.read_failure_body = [](net::ReadFailure failure,
                                  std::string_view) -> std::optional<std::string> {
    if (failure == net::ReadFailure::body_too_large)
      return error_body("request body over 64 KiB");
    return std::nullopt;  // closed, timed out or garbled: the connection just ends
  };
  auto server = net::HttpServer::bind(context, address, std::move(options), std::move(handlers));
  if (!server.ok())
    return server.error();
  return std::unique_ptr<FacilitatorHttpService>(
      new FacilitatorHttpService(std::move(server).value()));
}

}  // namespace x402proxy::facilitator
