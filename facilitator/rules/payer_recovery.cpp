#include "facilitator/rules/payer_recovery.h"

#include "signers/evm/address.h"
#include "signers/solana/pda.h"
#include "signers/solana/transaction.h"
#include "x402/base64.h"

namespace x402proxy::facilitator {
namespace sol = signers::solana;

namespace {

std::string evm_payer(const boost::json::object& authorization) {
  const boost::json::value* from = authorization.if_contains("from");
  if (from == nullptr || !from->is_string())
    return {};
  auto address = signers::evm::parse_address(from->get_string());
  return address.ok() ? signers::evm::to_checksum_string(*address) : std::string();
}

// The token program's TransferChecked (instruction 12: source, mint, destination, authority), as
// @x402/svm's getTokenPayerFromTransaction looks for it.
std::string svm_payer(std::string_view encoded) {
  auto wire = x402::base64_decode(encoded);
  if (!wire.ok())
    return {};
  auto parsed = sol::parse_transaction(
      std::span(reinterpret_cast<const std::uint8_t*>(wire->data()), wire->size()));
  if (!parsed.ok())
    return {};
  const auto& keys = parsed->message.account_keys;
  const sol::Pubkey token = sol::program_pubkey(sol::kTokenProgram);
  const sol::Pubkey token_2022 = sol::program_pubkey(sol::kToken2022Program);
  for (const auto& instruction : parsed->message.instructions) {
    const sol::Pubkey& program = keys[instruction.program_index];
    if (!(program == token) && !(program == token_2022))
      continue;
    if (instruction.data.empty() || instruction.data[0] != 12 || instruction.accounts.size() < 4)
      continue;
    return sol::base58_encode(keys[instruction.accounts[3]]);
  }
  return {};
}

}  // namespace

std::string recover_payer(const x402::PaymentPayload& payment) {
  if (const boost::json::value* authorization = payment.payload.if_contains("authorization");
      authorization != nullptr && authorization->is_object()) {
    return evm_payer(authorization->get_object());
  }
  if (const boost::json::value* transaction = payment.payload.if_contains("transaction");
      transaction != nullptr && transaction->is_string()) {
    return svm_payer(transaction->get_string());
  }
  return {};
}

}  // namespace x402proxy::facilitator
