#include "proxy/pay/payment_request_form.h"

#include "x402/base64.h"
#include "x402/codec.h"
#include "x402/strict_json.h"

namespace x402proxy::proxy {
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

std::optional<x402::SettleResponse> payment_receipt(const json::object& response) {
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
    return std::nullopt;
  const json::value* receipt = holder->if_contains("x402/payment-response");
  if (receipt == nullptr)
    return std::nullopt;
  auto parsed = x402::settle_response_from_json(*receipt);
  if (!parsed.ok())
    return std::nullopt;
  return std::move(parsed).value();
}

}  // namespace x402proxy::proxy
