#include "pay/payment_request_form.h"

#include <algorithm>

#include "x402/base64.h"
#include "x402/codec.h"
#include "x402/strict_json.h"

namespace x402proxy::pay {
namespace json = boost::json;

namespace {

Error malformed(PaymentRequestForm form, const std::string& why) {
  return make_error("seller.malformed_payment_required",
                    std::string("the seller's payment request (") + to_string(form) +
                        " form) is malformed: " + why);
}

// Looks like a PaymentRequired: both fields every version has. Anything else in an error result
// is the tool's own error and passes to the client untouched.
bool looks_like_payment_required(const json::value& value) {
  return value.is_object() && value.get_object().contains("x402Version") &&
         value.get_object().contains("accepts");
}

Result<std::optional<RecognizedPaymentRequest>> parse_as(PaymentRequestForm form,
                                                         const json::value& value) {
  auto required = x402::payment_required_from_json(value);
  if (!required.ok())
    return malformed(form, required.error().message);
  if (required->accepts.empty())
    return malformed(form, "\"accepts\" is empty: there is nothing to pay");
  return std::optional<RecognizedPaymentRequest>(
      RecognizedPaymentRequest{form, std::move(required).value()});
}

// content[0].text of a tool result, parsed, when it holds a PaymentRequired (directly, or in the
// {"x402/error": {"code": 402, "data": …}} wrapper of the intermediate @x402/mcp text).
std::optional<json::value> payment_required_in_text(const json::object& result) {
  const json::value* content = result.if_contains("content");
  if (content == nullptr || !content->is_array() || content->get_array().empty())
    return std::nullopt;
  const json::value& first = content->get_array().front();
  if (!first.is_object())
    return std::nullopt;
  const json::value* text = first.get_object().if_contains("text");
  if (text == nullptr || !text->is_string())
    return std::nullopt;
  auto parsed = x402::parse_strict_json(text->get_string());
  if (!parsed.ok())
    return std::nullopt;
  if (looks_like_payment_required(*parsed))
    return std::move(parsed).value();
  if (parsed->is_object()) {
    if (const json::value* wrapped = parsed->get_object().if_contains("x402/error");
        wrapped && wrapped->is_object()) {
      if (const json::value* data = wrapped->get_object().if_contains("data");
          data && looks_like_payment_required(*data)) {
        return *data;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(PaymentRequestForm form) {
  switch (form) {
    case PaymentRequestForm::tool_result:
      return "tool-result binding";
    case PaymentRequestForm::extension:
      return "extension binding";
    case PaymentRequestForm::jsonrpc_error:
      return "JSON-RPC error 402";
    case PaymentRequestForm::http_402:
      return "HTTP 402";
  }
  return "unknown";
}

Result<std::optional<RecognizedPaymentRequest>> recognize_payment_request(
    const json::object& response) {
  if (const json::value* error = response.if_contains("error"); error && error->is_object()) {
    const json::object& e = error->get_object();
    const json::value* code = e.if_contains("code");
    if (code == nullptr || !code->is_number() || code->to_number<double>() != 402)
      return std::optional<RecognizedPaymentRequest>();
    const json::value* data = e.if_contains("data");
    if (data == nullptr)
      return malformed(PaymentRequestForm::jsonrpc_error, "error 402 without \"data\"");
    return parse_as(PaymentRequestForm::jsonrpc_error, *data);
  }
  const json::value* result_value = response.if_contains("result");
  if (result_value == nullptr || !result_value->is_object())
    return std::optional<RecognizedPaymentRequest>();
  const json::object& result = result_value->get_object();

  if (const json::value* type = result.if_contains("resultType");
      type && type->is_string() && type->get_string() == "payment_required") {
    const json::value* required = result.if_contains("paymentRequired");
    if (required == nullptr) {
      return malformed(PaymentRequestForm::extension,
                       "resultType \"payment_required\" without \"paymentRequired\"");
    }
    return parse_as(PaymentRequestForm::extension, *required);
  }

  const json::value* is_error = result.if_contains("isError");
  if (is_error == nullptr || !is_error->is_bool() || !is_error->get_bool())
    return std::optional<RecognizedPaymentRequest>();
  if (const json::value* structured = result.if_contains("structuredContent");
      structured && looks_like_payment_required(*structured)) {
    return parse_as(PaymentRequestForm::tool_result, *structured);
  }
  if (auto text = payment_required_in_text(result))
    return parse_as(PaymentRequestForm::tool_result, *text);
  if (const json::value* meta = result.if_contains("_meta"); meta && meta->is_object()) {
    if (const json::value* e = meta->get_object().if_contains("x402/error");
        e && looks_like_payment_required(*e)) {
      return parse_as(PaymentRequestForm::tool_result, *e);
    }
  }
  return std::optional<RecognizedPaymentRequest>();
}

Result<RecognizedPaymentRequest> recognize_http_402(std::string_view payment_required_header,
                                                    std::string_view body) {
  json::value parsed;
  if (!payment_required_header.empty()) {
    auto decoded = x402::base64_decode(payment_required_header);
    if (!decoded.ok()) {
      return malformed(PaymentRequestForm::http_402,
                       "PAYMENT-REQUIRED header is not base64: " + decoded.error().message);
    }
    auto json_value = x402::parse_strict_json(*decoded);
    if (!json_value.ok()) {
      return malformed(PaymentRequestForm::http_402,
                       "PAYMENT-REQUIRED header is not JSON: " + json_value.error().message);
    }
    parsed = std::move(json_value).value();
  } else {
    auto json_value = x402::parse_strict_json(body);
    if (!json_value.ok()) {
      return malformed(
          PaymentRequestForm::http_402,
          "no PAYMENT-REQUIRED header and the body is not JSON: " + json_value.error().message);
    }
    parsed = std::move(json_value).value();
  }
  auto recognized = parse_as(PaymentRequestForm::http_402, parsed);
  if (!recognized.ok())
    return recognized.error();
  return std::move(**recognized);
}

namespace {

// The receipt object as the seller sent it (payment_receipt parses it; retryAfterSeconds is
// serve's addition and not part of a SettleResponse).
const json::object* raw_receipt(const json::object& response) {
  const json::object* holder = nullptr;
  if (const json::value* result = response.if_contains("result"); result && result->is_object()) {
    if (const json::value* meta = result->get_object().if_contains("_meta");
        meta && meta->is_object()) {
      holder = &meta->get_object();
    }
  } else if (const json::value* error = response.if_contains("error");
             error && error->is_object()) {
    if (const json::value* data = error->get_object().if_contains("data");
        data && data->is_object()) {
      holder = &data->get_object();
    }
  }
  if (holder == nullptr)
    return nullptr;
  const json::value* receipt = holder->if_contains("x402/payment-response");
  return receipt != nullptr && receipt->is_object() ? &receipt->get_object() : nullptr;
}

std::optional<x402::SettleResponse> receipt_from_header(std::string_view header) {
  if (header.empty())
    return std::nullopt;
  auto decoded = x402::base64_decode(header);
  if (!decoded.ok())
    return std::nullopt;
  auto value = x402::parse_strict_json(*decoded);
  if (!value.ok())
    return std::nullopt;
  auto parsed = x402::settle_response_from_json(*value);
  if (!parsed.ok())
    return std::nullopt;
  return std::move(parsed).value();
}

constexpr std::string_view kSettlementFailedPrefix = "Payment settlement failed: ";

// A failed receipt names what became of the payment (serve's paid_answers.h).
PaidAnswer from_failed_receipt(const x402::SettleResponse& receipt, const std::string& error_text) {
  PaidAnswer answer;
  const std::string code = receipt.error_reason.value_or("");
  if (code == "settlement_pending") {
    answer.outcome = PaidOutcome::pending;
  } else if (code == "payment_in_use") {
    answer.outcome = PaidOutcome::in_use;
  } else if (code == "settlement_unproven") {
    answer.outcome = PaidOutcome::unproven;
  } else {
    answer.outcome = PaidOutcome::settlement_failed;
  }
  if (answer.outcome == PaidOutcome::settlement_failed && !error_text.empty()) {
    answer.reason = error_text.starts_with(kSettlementFailedPrefix)
                        ? error_text.substr(kSettlementFailedPrefix.size())
                        : error_text;
  } else {
    answer.reason = code.empty() ? std::string("the receipt gives no reason") : code;
  }
  if (receipt.error_message && !receipt.error_message->empty() && answer.reason == code)
    answer.reason += " (" + *receipt.error_message + ")";
  answer.receipt = receipt;
  return answer;
}

}  // namespace

std::optional<x402::SettleResponse> payment_receipt(const json::object& response) {
  const json::object* receipt = raw_receipt(response);
  if (receipt == nullptr)
    return std::nullopt;
  auto parsed = x402::settle_response_from_json(*receipt);
  if (!parsed.ok())
    return std::nullopt;
  return std::move(parsed).value();
}

const char* to_string(PaidOutcome outcome) {
  switch (outcome) {
    case PaidOutcome::answered:
      return "answered";
    case PaidOutcome::refused:
      return "refused";
    case PaidOutcome::settlement_failed:
      return "settlement failed";
    case PaidOutcome::unproven:
      return "settlement unproven";
    case PaidOutcome::pending:
      return "settlement pending";
    case PaidOutcome::in_use:
      return "payment in use";
  }
  return "unknown";
}

PaidAnswer classify_paid_answer(const json::object* response, unsigned status,
                                std::string_view payment_required_header,
                                std::string_view payment_response_header, std::string_view body) {
  std::optional<x402::SettleResponse> receipt;
  if (response != nullptr)
    receipt = payment_receipt(*response);
  if (!receipt)
    receipt = receipt_from_header(payment_response_header);

  if (status == 402) {
    // x402 HTTP transport: a 402 carrying PAYMENT-RESPONSE reports a settlement attempt; a plain
    // 402 re-offers because the payment was refused before anything ran.
    if (!payment_response_header.empty()) {
      if (receipt && !receipt->success)
        return from_failed_receipt(*receipt, "");
      PaidAnswer failed;
      failed.outcome = PaidOutcome::settlement_failed;
      failed.reason = "HTTP 402 with a PAYMENT-RESPONSE header";
      failed.receipt = receipt;
      return failed;
    }
    PaidAnswer refused;
    refused.outcome = PaidOutcome::refused;
    if (auto fresh = recognize_http_402(payment_required_header, body); fresh.ok()) {
      refused.reason = fresh->required.error.value_or("no reason given");
      refused.fresh_request = std::move(fresh).value();
    } else {
      refused.reason = "no reason given";
    }
    return refused;
  }

  PaidAnswer answer;
  if (response == nullptr) {
    answer.receipt = receipt;
    return answer;
  }
  const json::object* raw = raw_receipt(*response);
  if (raw != nullptr && !receipt) {
    // A receipt that does not parse still says an attempt was made: unless it claims success,
    // it is read as a failure, never as "nothing happened".
    const json::value* success = raw->if_contains("success");
    if (success == nullptr || !success->is_bool() || !success->get_bool()) {
      x402::SettleResponse loose;
      if (const json::value* code = raw->if_contains("errorReason"); code && code->is_string())
        loose.error_reason = std::string(code->get_string());
      if (const json::value* tx = raw->if_contains("transaction"); tx && tx->is_string())
        loose.transaction = std::string(tx->get_string());
      receipt = std::move(loose);
    }
  }
  answer.receipt = receipt;
  // A success receipt means the money moved, whatever else the answer says.
  if (receipt && receipt->success)
    return answer;
  auto recognized = recognize_payment_request(*response);
  const bool asks_again = recognized.ok() && recognized->has_value();
  const std::string error_text =
      asks_again ? (*recognized)->required.error.value_or("") : std::string();
  if (receipt && !receipt->success) {
    answer = from_failed_receipt(*receipt, error_text);
    if (const json::value* after = raw != nullptr ? raw->if_contains("retryAfterSeconds") : nullptr;
        after && after->is_number()) {
      // Clamped by the caller; a double here only says how long to wait, never an amount.
      answer.retry_after_seconds =
          static_cast<int>(std::clamp(after->to_number<double>(), 0.0, 3600.0));
    }
    return answer;
  }
  if (!asks_again)
    return answer;
  if (error_text.starts_with(kSettlementFailedPrefix)) {
    // The official @x402/mcp wrapper states a settlement failure this way, without a receipt.
    answer.outcome = PaidOutcome::settlement_failed;
    answer.reason = error_text.substr(kSettlementFailedPrefix.size());
    return answer;
  }
  answer.outcome = PaidOutcome::refused;
  answer.reason = error_text.empty() ? std::string("no reason given") : error_text;
  answer.fresh_request = std::move(**recognized);
  return answer;
}

}  // namespace x402proxy::pay
