#include "signers/evm/exact_evm_payment.h"

#include "signers/evm/hex.h"
#include "x402/amount.h"
#include "x402/networks.h"

namespace x402proxy::signers::evm {
namespace json = boost::json;

namespace {

Error invalid(const std::string& message) {
  return make_error("invalid_payload", message);
}

Result<std::string_view> text_field(const json::object& object, std::string_view key,
                                    const char* where) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return invalid(std::string(where) + "." + std::string(key) + " must be a string");
  }
  return std::string_view(value->get_string());
}

Result<Uint256> uint_field(const json::object& object, std::string_view key) {
  auto text = text_field(object, key, "payload.authorization");
  if (!text.ok())
    return text.error();
  auto amount = x402::parse_amount(*text);
  if (!amount.ok()) {
    return invalid("payload.authorization." + std::string(key) + " must be a decimal integer");
  }
  return Uint256(*amount);
}

}  // namespace

Result<Eip712Domain> eip712_domain_for(const x402::PaymentRequirements& requirements) {
  const json::value* name = requirements.extra.if_contains("name");
  const json::value* version = requirements.extra.if_contains("version");
  if (name == nullptr || version == nullptr || !name->is_string() || !version->is_string()) {
    return make_error("invalid_exact_evm_missing_eip712_domain",
                      "the requirement's extra must give the token's EIP-712 name and version");
  }
  const x402::Network* network = x402::find_network(requirements.network);
  std::uint64_t chain_id = 0;
  if (network != nullptr && network->family == x402::NetworkFamily::evm) {
    chain_id = network->evm_chain_id;
  } else if (requirements.network.starts_with("eip155:")) {
    auto id = x402::parse_amount(std::string_view(requirements.network).substr(7));
    if (id.ok() && *id <= x402::Amount(UINT64_MAX))
      chain_id = static_cast<std::uint64_t>(*id);
  }
  if (chain_id == 0) {
    return make_error("invalid_network", "not an EVM network: " + requirements.network);
  }
  auto contract = parse_address(requirements.asset);
  if (!contract.ok()) {
    return make_error("invalid_payment_requirements", "the asset is not an EVM address");
  }
  return Eip712Domain{std::string(name->get_string()), std::string(version->get_string()), chain_id,
                      *contract};
}

Result<ExactEvmPayload> read_exact_evm_payload(const json::object& payload) {
  ExactEvmPayload out;
  auto signature_text = text_field(payload, "signature", "payload");
  if (!signature_text.ok())
    return signature_text.error();
  auto signature = from_hex(*signature_text);
  if (!signature.ok())
    return invalid("payload.signature must be 0x-prefixed hex");
  out.signature_size = signature->size();
  if (signature->size() == 65)
    std::copy(signature->begin(), signature->end(), out.signature.begin());

  const json::value* authorization_value = payload.if_contains("authorization");
  if (authorization_value == nullptr || !authorization_value->is_object()) {
    return invalid("payload.authorization must be an object");
  }
  const json::object& authorization = authorization_value->get_object();
  for (auto [key, target] :
       {std::pair{"from", &out.authorization.from}, std::pair{"to", &out.authorization.to}}) {
    auto text = text_field(authorization, key, "payload.authorization");
    if (!text.ok())
      return text.error();
    auto address = parse_address(*text);
    if (!address.ok()) {
      return invalid("payload.authorization." + std::string(key) + ": " + address.error().message);
    }
    *target = *address;
  }
  for (auto [key, target] : {std::pair{"value", &out.authorization.value},
                             std::pair{"validAfter", &out.authorization.valid_after},
                             std::pair{"validBefore", &out.authorization.valid_before}}) {
    auto value = uint_field(authorization, key);
    if (!value.ok())
      return value.error();
    *target = *value;
  }
  auto nonce_text = text_field(authorization, "nonce", "payload.authorization");
  if (!nonce_text.ok())
    return nonce_text.error();
  auto nonce = from_hex(*nonce_text, 32);
  if (!nonce.ok() || !nonce_text->starts_with("0x")) {
    return invalid("payload.authorization.nonce must be 0x and 64 hex digits");
  }
  std::copy(nonce->begin(), nonce->end(), out.authorization.nonce.begin());
  return out;
}

json::object write_exact_evm_payload(const ExactEvmPayload& payload) {
  const auto& a = payload.authorization;
  json::object authorization{{"from", to_checksum_string(a.from)},
                             {"to", to_checksum_string(a.to)},
                             {"value", a.value.str()},
                             {"validAfter", a.valid_after.str()},
                             {"validBefore", a.valid_before.str()},
                             {"nonce", to_hex(a.nonce)}};
  return json::object{{"signature", to_hex(payload.signature)}, {"authorization", authorization}};
}

Result<json::object> create_exact_evm_payload(const EvmKey& key,
                                              const x402::PaymentRequirements& requirements,
                                              std::int64_t now_unix, std::optional<Hash32> nonce) {
  auto domain = eip712_domain_for(requirements);
  if (!domain.ok())
    return domain.error();
  auto pay_to = parse_address(requirements.pay_to);
  if (!pay_to.ok())
    return make_error("invalid_payment_requirements", "payTo is not an EVM address");
  auto amount = x402::parse_amount(requirements.amount);
  if (!amount.ok())
    return make_error("invalid_payment_requirements", "amount is not an integer");
  ExactEvmPayload payload;
  payload.authorization.from = key.address();
  payload.authorization.to = *pay_to;
  payload.authorization.value = Uint256(*amount);
  payload.authorization.valid_after = Uint256(std::max<std::int64_t>(now_unix - 600, 0));
  payload.authorization.valid_before =
      Uint256(now_unix) + Uint256(requirements.max_timeout_seconds);
  if (nonce) {
    payload.authorization.nonce = *nonce;
  } else {
    auto random = random_secret(32);
    if (!random.ok())
      return random.error();
    std::copy(random->data(), random->data() + 32, payload.authorization.nonce.begin());
  }
  payload.signature = key.sign_digest(typed_data_digest(*domain, payload.authorization));
  return write_exact_evm_payload(payload);
}

}  // namespace x402proxy::signers::evm
