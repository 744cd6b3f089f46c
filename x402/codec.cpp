// Encoders and the requirement matching rule; the parsers are in codec_parse.cpp.
#include <algorithm>
#include <array>
#include <span>
#include <string_view>

#include <boost/json/array.hpp>

#include "x402/codec.h"

namespace x402proxy::x402 {
namespace {

namespace json = boost::json;

void put_optional(json::object& out, std::string_view key,
                  const std::optional<std::string>& value) {
  if (value)
    out.emplace(key, *value);
}

}  // namespace

json::object to_json(const ResourceInfo& resource) {
  json::object out;
  out.emplace("url", resource.url);
  put_optional(out, "description", resource.description);
  put_optional(out, "mimeType", resource.mime_type);
  return out;
}

json::object to_json(const PaymentRequirements& requirements, int x402_version) {
  json::object out;
  out.emplace("scheme", requirements.scheme);
  out.emplace("network", requirements.network);
  if (x402_version == 1) {
    // v1 spec §5.1: the price is "maxAmountRequired" and the resource is described inline.
    out.emplace("maxAmountRequired", requirements.amount);
    out.emplace("asset", requirements.asset);
    out.emplace("payTo", requirements.pay_to);
    const ResourceInfo resource = requirements.v1_resource.value_or(ResourceInfo{});
    out.emplace("resource", resource.url);
    out.emplace("description", resource.description.value_or(""));
    put_optional(out, "mimeType", resource.mime_type);
    if (requirements.v1_output_schema)
      out.emplace("outputSchema", *requirements.v1_output_schema);
  } else {
    out.emplace("amount", requirements.amount);
    out.emplace("asset", requirements.asset);
    out.emplace("payTo", requirements.pay_to);
  }
  out.emplace("maxTimeoutSeconds", requirements.max_timeout_seconds);
  if (requirements.has_extra)
    out.emplace("extra", requirements.extra);
  return out;
}

json::object to_json(const PaymentRequired& required) {
  json::object out;
  out.emplace("x402Version", required.x402_version);
  put_optional(out, "error", required.error);
  if (required.x402_version != 1)
    out.emplace("resource", to_json(required.resource));
  json::array accepts;
  accepts.reserve(required.accepts.size());
  for (const auto& requirements : required.accepts) {
    accepts.push_back(to_json(requirements, required.x402_version));
  }
  out.emplace("accepts", std::move(accepts));
  if (required.x402_version != 1 && required.extensions) {
    out.emplace("extensions", *required.extensions);
  }
  return out;
}

json::object to_json(const PaymentPayload& payment) {
  json::object out;
  out.emplace("x402Version", payment.x402_version);
  if (payment.x402_version == 1) {
    out.emplace("scheme", payment.accepted.scheme);
    out.emplace("network", payment.accepted.network);
    out.emplace("payload", payment.payload);
    return out;
  }
  if (payment.resource)
    out.emplace("resource", to_json(*payment.resource));
  out.emplace("accepted", to_json(payment.accepted, payment.x402_version));
  out.emplace("payload", payment.payload);
  if (payment.extensions)
    out.emplace("extensions", *payment.extensions);
  return out;
}

json::object to_json(const VerifyResponse& response) {
  json::object out;
  out.emplace("isValid", response.is_valid);
  put_optional(out, "invalidReason", response.invalid_reason);
  put_optional(out, "invalidMessage", response.invalid_message);
  put_optional(out, "payer", response.payer);
  return out;
}

json::object to_json(const SettleResponse& response) {
  json::object out;
  out.emplace("success", response.success);
  put_optional(out, "errorReason", response.error_reason);
  put_optional(out, "errorMessage", response.error_message);
  out.emplace("transaction", response.transaction);
  out.emplace("network", response.network);
  put_optional(out, "payer", response.payer);
  put_optional(out, "amount", response.amount);
  if (response.extensions)
    out.emplace("extensions", *response.extensions);
  return out;
}

json::object to_json(const SupportedResponse& response) {
  json::array kinds;
  kinds.reserve(response.kinds.size());
  for (const auto& kind : response.kinds) {
    json::object entry;
    entry.emplace("x402Version", kind.x402_version);
    entry.emplace("scheme", kind.scheme);
    entry.emplace("network", kind.network);
    if (kind.extra)
      entry.emplace("extra", *kind.extra);
    kinds.push_back(std::move(entry));
  }
  json::array extensions(response.extensions.begin(), response.extensions.end());
  json::object signers;
  for (const auto& [pattern, addresses] : response.signers) {
    signers.emplace(pattern, json::array(addresses.begin(), addresses.end()));
  }
  json::object out;
  out.emplace("kinds", std::move(kinds));
  out.emplace("extensions", std::move(extensions));
  out.emplace("signers", std::move(signers));
  return out;
}

namespace {

bool value_contains(const json::value& expected, const json::value& actual);

// @x402/core 2.27 objectContainsSubset without additive fields: every key of `expected` (but the
// skipped ones) is in `actual` with a value that contains it (objects) or equals it (the rest).
bool object_contains(const json::object& expected, const json::object& actual,
                     std::span<const std::string_view> skipped_keys = {}) {
  for (const auto& [key, value] : expected) {
    if (std::find(skipped_keys.begin(), skipped_keys.end(), key) != skipped_keys.end())
      continue;
    const json::value* found = actual.if_contains(key);
    if (found == nullptr || !value_contains(value, *found))
      return false;
  }
  return true;
}

bool value_contains(const json::value& expected, const json::value& actual) {
  if (!expected.is_object())
    return expected == actual;
  if (!actual.is_object())
    return false;
  return object_contains(expected.get_object(), actual.get_object());
}

// Fields a scheme fills per payment, excluded from the subset check (@x402/svm 2.27
// `dynamicExtraFields`: exact -> recentBlockhash, lastValidBlockHeight; upto adds recentSlot).
std::span<const std::string_view> dynamic_extra_fields(const PaymentRequirements& offered) {
  static constexpr std::array<std::string_view, 3> kSolanaUpto = {
      "recentBlockhash", "lastValidBlockHeight", "recentSlot"};
  static constexpr std::array<std::string_view, 2> kSolanaExact = {"recentBlockhash",
                                                                   "lastValidBlockHeight"};
  // "solana:<genesis>" (v2) and "solana", "solana-devnet", ... (v1).
  if (!offered.network.starts_with("solana"))
    return {};
  if (offered.scheme == "exact")
    return kSolanaExact;
  if (offered.scheme == "upto")
    return kSolanaUpto;
  return {};
}

}  // namespace

bool requirements_match(const PaymentRequirements& offered, const PaymentRequirements& accepted) {
  const bool core_equal = offered.scheme == accepted.scheme &&
                          offered.network == accepted.network &&
                          offered.amount == accepted.amount && offered.asset == accepted.asset &&
                          offered.pay_to == accepted.pay_to &&
                          offered.max_timeout_seconds == accepted.max_timeout_seconds &&
                          offered.v1_resource == accepted.v1_resource &&
                          offered.v1_output_schema == accepted.v1_output_schema;
  if (!core_equal)
    return false;
  if (!offered.has_extra)
    return true;
  if (!accepted.has_extra)
    return false;  // even {} is not contained in "absent"
  return object_contains(offered.extra, accepted.extra, dynamic_extra_fields(offered));
}

}  // namespace x402proxy::x402
