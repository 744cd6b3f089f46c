// Parsers of x402 messages (declared in codec.h). Each keeps the first problem it finds, naming the
// field by its path ("accepts[0].amount") and saying what was expected and what came.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include <boost/json/array.hpp>

#include "x402/codec.h"
#include "x402/json_fields.h"

namespace x402proxy::x402 {
namespace {

namespace json = boost::json;

bool holds_non_finite_number(const json::value& value) {
  switch (value.kind()) {
    case json::kind::double_:
      return !std::isfinite(value.get_double());
    case json::kind::array:
      return std::any_of(
          value.get_array().begin(), value.get_array().end(),
          [](const json::value& element) { return holds_non_finite_number(element); });
    case json::kind::object:
      return std::any_of(
          value.get_object().begin(), value.get_object().end(),
          [](const auto& member) { return holds_non_finite_number(member.value()); });
    default:
      return false;
  }
}

// Boost.JSON reads a number beyond double range as infinity (1e400) or NaN (0e400) and writes them
// back as `Infinity` and `NaN`, which are not JSON. A decoded message is written again (to the
// facilitator, into the payment journal whose recovery parses it back, to a seller), so one whose
// kept parts (payload, extra, extensions, outputSchema) hold such a number is refused here.
std::optional<Error> refuse_unwritable(json::object encoded, const char* reason,
                                       std::string_view what) {
  if (!holds_non_finite_number(json::value(std::move(encoded))))
    return std::nullopt;
  return make_error(reason, std::string(what) +
                                " holds a number out of double range (such as 1e400 or 0e400), "
                                "which cannot be written as JSON again");
}

ResourceInfo read_resource(FieldReader& reader, const json::object& in, std::string_view path) {
  ResourceInfo resource;
  resource.url = reader.required_string(in, path, "url");
  resource.description = reader.optional_string(in, path, "description");
  resource.mime_type = reader.optional_string(in, path, "mimeType");
  return resource;
}

PaymentRequirements read_requirements(FieldReader& reader, const json::value& value,
                                      int x402_version, std::string_view path) {
  PaymentRequirements requirements;
  const json::object* in = reader.object(value, path.empty() ? "payment requirements" : path);
  if (in == nullptr)
    return requirements;
  requirements.scheme = reader.required_string(*in, path, "scheme");
  requirements.network = reader.required_string(*in, path, "network");
  if (x402_version == 2 && !requirements.network.empty() &&
      requirements.network.find(':') == std::string::npos) {
    reader.fail(field_path(path, "network") +
                " must be a CAIP-2 id such as \"eip155:8453\" in x402 v2, "
                "got \"" +
                requirements.network + "\"");
  }
  requirements.amount =
      reader.amount(*in, path, x402_version == 1 ? "maxAmountRequired" : "amount", true);
  requirements.asset = reader.required_string(*in, path, "asset");
  requirements.pay_to = reader.required_string(*in, path, "payTo");
  if (x402_version == 1) {
    // v1 spec §5.1: the resource is described inside each requirement.
    ResourceInfo resource;
    resource.url = reader.required_string(*in, path, "resource");
    resource.description = reader.optional_string(*in, path, "description");
    resource.mime_type = reader.optional_string(*in, path, "mimeType");
    requirements.v1_resource = std::move(resource);
    if (const json::value* schema = in->if_contains("outputSchema")) {
      requirements.v1_output_schema = *schema;
    }
  }
  requirements.max_timeout_seconds = reader.positive_integer(*in, path, "maxTimeoutSeconds");
  if (auto extra = reader.optional_object(*in, path, "extra")) {
    requirements.extra = std::move(*extra);
    requirements.has_extra = true;
  }
  return requirements;
}

std::vector<PaymentRequirements> read_accepts(FieldReader& reader, const json::object& in,
                                              int x402_version) {
  std::vector<PaymentRequirements> accepts;
  const json::value* value = in.if_contains("accepts");
  if (value == nullptr || !value->is_array() || value->get_array().empty()) {
    reader.fail(value == nullptr ? std::string("accepts is missing; expected a non-empty array")
                                 : "accepts must be a non-empty array of payment requirements, "
                                   "got " +
                                       describe_json(*value));
    return accepts;
  }
  const json::array& list = value->get_array();
  accepts.reserve(list.size());
  for (std::size_t i = 0; i < list.size() && !reader.failed(); ++i) {
    accepts.push_back(
        read_requirements(reader, list[i], x402_version, "accepts[" + std::to_string(i) + "]"));
  }
  return accepts;
}

}  // namespace

Result<PaymentRequirements> requirements_from_json(const json::value& json, int x402_version) {
  FieldReader reader("invalid_payment_requirements");
  if (x402_version != 1 && x402_version != 2) {
    return make_error("invalid_x402_version",
                      "x402 version must be 1 or 2, got " + std::to_string(x402_version));
  }
  PaymentRequirements requirements = read_requirements(reader, json, x402_version, "");
  if (reader.failed())
    return reader.error();
  if (auto refused = refuse_unwritable(to_json(requirements, x402_version),
                                       "invalid_payment_requirements", "the payment requirements"))
    return *refused;
  return requirements;
}

Result<PaymentRequired> payment_required_from_json(const json::value& json) {
  FieldReader reader("invalid_payment_required");
  PaymentRequired required;
  const json::object* in = reader.object(json, "the payment-required message");
  if (in == nullptr)
    return reader.error();
  required.x402_version = reader.version(*in, "");
  if (reader.failed())
    return reader.error();
  required.error = reader.optional_string(*in, "", "error");
  if (required.x402_version == 2) {
    const json::value* resource = in->if_contains("resource");
    if (resource == nullptr) {
      reader.fail(
          "resource is missing; expected a ResourceInfo object {url, description?, "
          "mimeType?}");
    } else if (const json::object* object = reader.object(*resource, "resource")) {
      required.resource = read_resource(reader, *object, "resource");
    }
  }
  required.accepts = read_accepts(reader, *in, required.x402_version);
  if (required.x402_version == 2)
    required.extensions = reader.optional_object(*in, "", "extensions");
  if (reader.failed())
    return reader.error();
  if (auto refused = refuse_unwritable(to_json(required), "invalid_payment_required",
                                       "the payment-required message"))
    return *refused;
  return required;
}

Result<PaymentPayload> payment_payload_from_json(const json::value& json) {
  FieldReader reader("invalid_payload");
  PaymentPayload payment;
  const json::object* in = reader.object(json, "the payment payload");
  if (in == nullptr)
    return reader.error();
  payment.x402_version = reader.version(*in, "");
  if (reader.failed())
    return reader.error();
  if (payment.x402_version == 1) {
    // v1 spec §5.2: {x402Version, scheme, network, payload}.
    payment.accepted.scheme = reader.required_string(*in, "", "scheme");
    payment.accepted.network = reader.required_string(*in, "", "network");
  } else {
    if (auto resource = reader.optional_object(*in, "", "resource")) {
      payment.resource = read_resource(reader, *resource, "resource");
    }
    const json::value* accepted = in->if_contains("accepted");
    if (accepted == nullptr) {
      reader.fail("accepted is missing; expected the chosen payment requirements object");
    } else {
      payment.accepted = read_requirements(reader, *accepted, 2, "accepted");
    }
  }
  const json::value* payload = in->if_contains("payload");
  if (payload == nullptr) {
    reader.fail("payload is missing; expected the scheme's payload object");
  } else if (const json::object* object = reader.object(*payload, "payload")) {
    payment.payload = *object;
  }
  if (payment.x402_version == 2)
    payment.extensions = reader.optional_object(*in, "", "extensions");
  if (reader.failed())
    return reader.error();
  if (auto refused = refuse_unwritable(to_json(payment), "invalid_payload", "the payment payload"))
    return *refused;
  return payment;
}

Result<VerifyResponse> verify_response_from_json(const json::value& json) {
  FieldReader reader("invalid_verify_response");
  VerifyResponse response;
  const json::object* in = reader.object(json, "the verify response");
  if (in == nullptr)
    return reader.error();
  response.is_valid = reader.required_bool(*in, "", "isValid");
  response.invalid_reason = reader.optional_string(*in, "", "invalidReason");
  response.invalid_message = reader.optional_string(*in, "", "invalidMessage");
  response.payer = reader.optional_string(*in, "", "payer");
  if (reader.failed())
    return reader.error();
  return response;
}

Result<SettleResponse> settle_response_from_json(const json::value& json) {
  FieldReader reader("invalid_settle_response");
  SettleResponse response;
  const json::object* in = reader.object(json, "the settle response");
  if (in == nullptr)
    return reader.error();
  response.success = reader.required_bool(*in, "", "success");
  response.error_reason = reader.optional_string(*in, "", "errorReason");
  response.error_message = reader.optional_string(*in, "", "errorMessage");
  response.payer = reader.optional_string(*in, "", "payer");
  response.transaction = reader.string_allowing_empty(*in, "", "transaction", response.success);
  response.network = reader.string_allowing_empty(*in, "", "network", response.success);
  if (response.success && !reader.failed() && response.transaction.empty()) {
    reader.fail(
        "transaction is empty in a successful settle response; expected the transaction id");
  }
  if (in->contains("amount") && !in->at("amount").is_null()) {
    response.amount = reader.amount(*in, "", "amount", false);
  }
  response.extensions = reader.optional_object(*in, "", "extensions");
  if (reader.failed())
    return reader.error();
  if (auto refused =
          refuse_unwritable(to_json(response), "invalid_settle_response", "the settle response"))
    return *refused;
  return response;
}

Result<SupportedResponse> supported_response_from_json(const json::value& json) {
  FieldReader reader("invalid_supported_response");
  SupportedResponse response;
  const json::object* in = reader.object(json, "the supported response");
  if (in == nullptr)
    return reader.error();

  const json::value* kinds = in->if_contains("kinds");
  if (kinds == nullptr || !kinds->is_array()) {
    reader.fail(kinds == nullptr ? std::string("kinds is missing; expected an array")
                                 : "kinds must be an array, got " + describe_json(*kinds));
    return reader.error();
  }
  for (std::size_t i = 0; i < kinds->get_array().size() && !reader.failed(); ++i) {
    const std::string path = "kinds[" + std::to_string(i) + "]";
    const json::object* entry = reader.object(kinds->get_array()[i], path);
    if (entry == nullptr)
      break;
    SupportedKind kind;
    kind.x402_version = reader.version(*entry, path);
    kind.scheme = reader.required_string(*entry, path, "scheme");
    kind.network = reader.required_string(*entry, path, "network");
    kind.extra = reader.optional_object(*entry, path, "extra");
    response.kinds.push_back(std::move(kind));
  }

  if (const json::value* extensions = in->if_contains("extensions");
      extensions != nullptr && !extensions->is_null()) {
    const json::array* list = extensions->if_array();
    for (std::size_t i = 0; list != nullptr && i < list->size(); ++i) {
      if (!(*list)[i].is_string())
        list = nullptr;
    }
    if (list == nullptr) {
      reader.fail("extensions must be an array of strings, got " + describe_json(*extensions));
    } else {
      for (const auto& name : *list)
        response.extensions.emplace_back(name.get_string());
    }
  }

  if (auto signers = reader.optional_object(*in, "", "signers")) {
    for (const auto& [pattern, addresses] : *signers) {
      const json::array* list = addresses.if_array();
      for (std::size_t i = 0; list != nullptr && i < list->size(); ++i) {
        if (!(*list)[i].is_string())
          list = nullptr;
      }
      if (list == nullptr) {
        reader.fail(field_path("signers", pattern) + " must be an array of address strings, got " +
                    describe_json(addresses));
        break;
      }
      std::vector<std::string> values;
      for (const auto& address : *list)
        values.emplace_back(address.get_string());
      response.signers.emplace_back(std::string(pattern), std::move(values));
    }
  }
  if (reader.failed())
    return reader.error();
  if (auto refused = refuse_unwritable(to_json(response), "invalid_supported_response",
                                       "the supported response"))
    return *refused;
  return response;
}

}  // namespace x402proxy::x402
