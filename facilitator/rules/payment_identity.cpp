#include "facilitator/rules/payment_identity.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <openssl/sha.h>

#include "signers/evm/exact_evm_payment.h"
#include "signers/evm/hex.h"
#include "signers/solana/base58.h"
#include "signers/solana/transaction.h"
#include "x402/base64.h"
#include "x402/networks.h"

namespace x402proxy::facilitator {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string evm_payment_identity(std::string_view network, std::string_view asset,
                                 std::string_view from_address, std::string_view nonce_hex) {
  return "evm:" + x402::to_caip2(network) + ":" + lower(asset) + ":" + lower(from_address) + ":" +
         lower(nonce_hex);
}

std::string svm_payment_identity(std::string_view network,
                                 std::span<const std::uint8_t> message_bytes) {
  std::array<std::uint8_t, SHA256_DIGEST_LENGTH> digest{};
  SHA256(message_bytes.data(), message_bytes.size(), digest.data());
  return "svm:" + x402::to_caip2(network) + ":" + signers::solana::base58_encode(digest);
}

Result<std::string> payment_identity(const x402::PaymentPayload& payment,
                                     const x402::PaymentRequirements& requirements) {
  auto network = x402::describe_network(requirements.network);
  if (!network)
    return make_error("invalid_network", "unknown network " + requirements.network);
  if (network->family == x402::NetworkFamily::evm) {
    auto payload = signers::evm::read_exact_evm_payload(payment.payload);
    if (!payload.ok())
      return payload.error();
    const auto& authorization = payload->authorization;
    return evm_payment_identity(requirements.network, requirements.asset,
                                signers::evm::to_checksum_string(authorization.from),
                                signers::evm::to_hex(authorization.nonce));
  }
  const boost::json::value* encoded = payment.payload.if_contains("transaction");
  if (encoded == nullptr || !encoded->is_string())
    return make_error("invalid_payload", "payload.transaction must be a base64 string");
  auto wire = x402::base64_decode(encoded->get_string());
  if (!wire.ok())
    return make_error("invalid_payload", "payload.transaction is not base64");
  auto parsed = signers::solana::parse_transaction(
      std::span(reinterpret_cast<const std::uint8_t*>(wire->data()), wire->size()));
  if (!parsed.ok())
    return make_error("invalid_payload", "payload.transaction: " + parsed.error().message);
  return svm_payment_identity(requirements.network, parsed->message_bytes);
}

}  // namespace x402proxy::facilitator
