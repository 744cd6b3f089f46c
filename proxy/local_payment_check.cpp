#include "proxy/local_payment_check.h"

#include <algorithm>
#include <cctype>

#include "x402/amount.h"
#include "x402/networks.h"

namespace x402proxy::proxy {
namespace json = boost::json;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<std::string> string_field(const json::object& object, std::string_view key,
                                 const char* reason, const std::string& where) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return make_error(reason, where + "." + std::string(key) + " must be a string");
  }
  return std::string(value->get_string());
}

// x402 exact EVM (research §3.3–3.4): payload {signature, authorization{from,to,value,validAfter,
// validBefore,nonce}}. Reason names follow @x402/evm's facilitator.
Result<CheckedPayment> check_evm(const x402::PaymentPayload& payment,
                                 const x402::PaymentRequirements& required, std::int64_t now,
                                 std::int64_t skew) {
  const json::value* authorization_value = payment.payload.if_contains("authorization");
  if (authorization_value == nullptr || !authorization_value->is_object()) {
    return make_error("invalid_payload", "payload.authorization must be an object");
  }
  const json::object& authorization = authorization_value->get_object();
  const std::string where = "payload.authorization";
  auto signature = string_field(payment.payload, "signature", "invalid_payload", "payload");
  auto from = string_field(authorization, "from", "invalid_payload", where);
  auto to = string_field(authorization, "to", "invalid_payload", where);
  auto value = string_field(authorization, "value", "invalid_payload", where);
  auto valid_after = string_field(authorization, "validAfter", "invalid_payload", where);
  auto valid_before = string_field(authorization, "validBefore", "invalid_payload", where);
  auto nonce = string_field(authorization, "nonce", "invalid_payload", where);
  for (const auto* field : {&signature, &from, &to, &value, &valid_after, &valid_before, &nonce}) {
    if (!field->ok())
      return field->error();
  }
  if (nonce->size() != 66 || !nonce->starts_with("0x")) {
    return make_error("invalid_payload",
                      "payload.authorization.nonce must be 0x and 64 hex digits");
  }
  if (lower(*to) != lower(required.pay_to)) {
    return make_error("invalid_exact_evm_recipient_mismatch",
                      "the authorization pays " + *to + ", expected " + required.pay_to);
  }
  auto amount = x402::parse_amount(*value);
  auto required_amount = x402::parse_amount(required.amount);
  if (!amount.ok() || !required_amount.ok() || *amount != *required_amount) {
    return make_error(
        "invalid_exact_evm_authorization_value",
        "the authorization is for " + *value + ", expected exactly " + required.amount);
  }
  auto after = x402::parse_amount(*valid_after);
  auto before = x402::parse_amount(*valid_before);
  if (!after.ok() || !before.ok() || *before > x402::Amount(INT64_MAX) ||
      *after > x402::Amount(INT64_MAX)) {
    return make_error("invalid_payload", "validAfter and validBefore must be unix seconds");
  }
  const auto before_s = static_cast<std::int64_t>(*before);
  const auto after_s = static_cast<std::int64_t>(*after);
  // The reference facilitator wants 6 s of validity left, for a block to include the transfer.
  if (before_s < now + 6 - skew) {
    return make_error(
        "invalid_exact_evm_payload_authorization_valid_before",
        "the authorization expired at " + *valid_before + " (now " + std::to_string(now) + ")");
  }
  if (after_s > now + skew) {
    return make_error("invalid_exact_evm_payload_authorization_valid_after",
                      "the authorization is not valid before " + *valid_after + " (now " +
                          std::to_string(now) + ")");
  }
  CheckedPayment checked;
  checked.payer = *from;
  // EIP-3009 nonces are unique per (token, from): that pair is the payment's identity.
  checked.replay_key = "evm:" + required.network + ":" + lower(required.asset) + ":" +
                       lower(*from) + ":" + lower(*nonce);
  checked.lock_for = std::chrono::seconds(std::max<std::int64_t>(before_s - now + skew, 0) + 1);
  return checked;
}

// x402 exact SVM (research §4.3): payload {transaction: base64}. Solana de-duplicates identical
// transactions, so the transaction itself is the identity; 120 s covers its blockhash lifetime.
Result<CheckedPayment> check_svm(const x402::PaymentPayload& payment) {
  auto transaction = string_field(payment.payload, "transaction", "invalid_payload", "payload");
  if (!transaction.ok())
    return transaction.error();
  if (transaction->empty())
    return make_error("invalid_payload", "payload.transaction is empty");
  CheckedPayment checked;
  checked.replay_key = "svm:" + *transaction;
  checked.lock_for = std::chrono::seconds(120);
  return checked;
}

}  // namespace

Result<CheckedPayment> check_payment_locally(const x402::PaymentPayload& payment,
                                             const x402::PaymentRequirements& required,
                                             std::int64_t now_unix,
                                             std::chrono::seconds clock_skew) {
  if (required.scheme != "exact") {
    return make_error("unsupported_scheme",
                      "only the exact scheme is accepted, not " + required.scheme);
  }
  const x402::Network* network = x402::find_network(required.network);
  if (network == nullptr)
    return make_error("invalid_network", "unknown network " + required.network);
  if (network->family == x402::NetworkFamily::evm) {
    return check_evm(payment, required, now_unix, clock_skew.count());
  }
  return check_svm(payment);
}

LocalCheck make_local_check(std::chrono::seconds clock_skew) {
  return
      [clock_skew](const x402::PaymentPayload& payment, const x402::PaymentRequirements& required) {
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        return check_payment_locally(payment, required, now, clock_skew);
      };
}

}  // namespace x402proxy::proxy
