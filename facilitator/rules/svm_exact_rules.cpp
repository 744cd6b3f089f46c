#include "facilitator/rules/svm_exact_rules.h"

#include <algorithm>
#include <array>

#include "facilitator/rules/payment_identity.h"

#include "signers/solana/pda.h"
#include "signers/solana/transaction.h"
#include "x402/base64.h"
#include "x402/networks.h"

namespace x402proxy::facilitator {
namespace sol = signers::solana;

namespace {

constexpr std::uint64_t kMaxComputeUnitPrice = 5'000'000;  // micro-lamports per CU (5 lamports)

std::uint64_t read_le(const std::vector<std::uint8_t>& data, std::size_t offset, int bytes) {
  std::uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i)
    value = value << 8 | data[offset + static_cast<std::size_t>(i)];
  return value;
}

Error refuse(const char* reason, std::string message) {
  return make_error(std::string("invalid_exact_svm_") + reason, std::move(message));
}

}  // namespace

Result<VerifiedSvmPayment> verify_exact_svm(const x402::PaymentPayload& payment,
                                            const x402::PaymentRequirements& requirements,
                                            std::span<const std::string> fee_payers) {
  if (requirements.scheme != "exact" || payment.accepted.scheme != "exact") {
    return refuse("unsupported_scheme", "expected scheme exact, got " + payment.accepted.scheme);
  }
  if (x402::to_caip2(payment.accepted.network) != x402::to_caip2(requirements.network)) {
    return refuse("network_mismatch", "the payment is for " + payment.accepted.network +
                                          ", expected " + requirements.network);
  }
  const boost::json::value* fee_payer_text = requirements.extra.if_contains("feePayer");
  if (fee_payer_text == nullptr || !fee_payer_text->is_string()) {
    return refuse("payload_missing_fee_payer", "the requirement names no extra.feePayer");
  }
  const std::string fee_payer_name(fee_payer_text->get_string());
  if (std::find(fee_payers.begin(), fee_payers.end(), fee_payer_name) == fee_payers.end()) {
    return refuse("fee_payer_not_managed_by_facilitator",
                  "fee payer " + fee_payer_name + " is not one of this facilitator's");
  }
  const boost::json::value* encoded = payment.payload.if_contains("transaction");
  if (encoded == nullptr || !encoded->is_string()) {
    return refuse("payload_transaction_could_not_be_decoded",
                  "payload.transaction must be a base64 string");
  }
  auto wire = x402::base64_decode(encoded->get_string());
  if (!wire.ok()) {
    return refuse("payload_transaction_could_not_be_decoded", "payload.transaction is not base64");
  }
  auto parsed = sol::parse_transaction(
      std::span(reinterpret_cast<const std::uint8_t*>(wire->data()), wire->size()));
  if (!parsed.ok())
    return parsed.error();
  const sol::Message& message = parsed->message;
  const auto& instructions = message.instructions;
  const auto& keys = message.account_keys;
  auto fee_payer = sol::decode_pubkey(fee_payer_name);
  if (!fee_payer.ok() || keys.empty() || !(keys[0] == *fee_payer)) {
    return refuse("fee_payer_mismatch", "the transaction's fee payer is not " + fee_payer_name);
  }
  if (instructions.size() < 3 || instructions.size() > 6) {
    return refuse("payload_transaction_instructions_length",
                  "expected 3 to 6 instructions, got " + std::to_string(instructions.size()));
  }
  const sol::Pubkey compute_budget = sol::program_pubkey(sol::kComputeBudgetProgram);
  const auto& limit = instructions[0];
  if (!(keys[limit.program_index] == compute_budget) || limit.data.size() != 5 ||
      limit.data[0] != 2) {
    return refuse("payload_transaction_instructions_compute_limit_instruction",
                  "instruction 1 must be ComputeBudget SetComputeUnitLimit");
  }
  const auto& price = instructions[1];
  if (!(keys[price.program_index] == compute_budget) || price.data.size() != 9 ||
      price.data[0] != 3) {
    return refuse("payload_transaction_instructions_compute_price_instruction",
                  "instruction 2 must be ComputeBudget SetComputeUnitPrice");
  }
  if (read_le(price.data, 1, 8) > kMaxComputeUnitPrice) {
    return refuse("payload_transaction_instructions_compute_price_instruction_too_high",
                  "compute unit price above 5 lamports per unit");
  }
  const auto& transfer = instructions[2];
  const sol::Pubkey& token_program = keys[transfer.program_index];
  const bool spl = token_program == sol::program_pubkey(sol::kTokenProgram) ||
                   token_program == sol::program_pubkey(sol::kToken2022Program);
  if (!spl || transfer.data.size() != 10 || transfer.data[0] != 12 ||
      transfer.accounts.size() != 4) {
    return refuse("payload_no_transfer_instruction",
                  "instruction 3 must be an SPL TransferChecked");
  }
  const sol::Pubkey& source = keys[transfer.accounts[0]];
  const sol::Pubkey& mint = keys[transfer.accounts[1]];
  const sol::Pubkey& destination = keys[transfer.accounts[2]];
  const std::size_t authority_index = transfer.accounts[3];
  const sol::Pubkey& authority = keys[authority_index];
  auto asset = sol::decode_pubkey(requirements.asset);
  if (!asset.ok() || !(mint == *asset)) {
    return refuse("payload_mint_mismatch", "the transfer moves mint " + sol::base58_encode(mint) +
                                               ", expected " + requirements.asset);
  }
  auto pay_to = sol::decode_pubkey(requirements.pay_to);
  auto expected_destination = pay_to.ok()
                                  ? sol::associated_token_account(*pay_to, mint, token_program)
                                  : Result<sol::Pubkey>(pay_to.error());
  if (!expected_destination.ok() || !(destination == *expected_destination)) {
    return refuse("payload_recipient_mismatch",
                  "the transfer goes to " + sol::base58_encode(destination) +
                      ", not to the associated token account of " + requirements.pay_to);
  }
  auto required = x402::parse_amount(requirements.amount);
  const std::uint64_t amount = read_le(transfer.data, 1, 8);
  if (!required.ok() || x402::Amount(amount) != *required) {
    return refuse("payload_amount_mismatch", "the transfer is for " + std::to_string(amount) +
                                                 ", expected exactly " + requirements.amount);
  }
  // The fee payer signs last and pays fees only: it must never be able to move funds here.
  if (authority == *fee_payer || source == *fee_payer) {
    return refuse("payload_transaction_fee_payer_transferring_funds",
                  "the fee payer is the transfer authority");
  }
  for (const auto& instruction : instructions) {
    for (auto index : instruction.accounts) {
      if (index == 0) {
        return refuse("payload_transaction_fee_payer_transferring_funds",
                      "the fee payer appears in an instruction's accounts");
      }
    }
  }
  const sol::Pubkey memo_program = sol::program_pubkey(sol::kMemoProgram);
  const sol::Pubkey lighthouse = sol::program_pubkey(sol::kLighthouseProgram);
  static const char* unknown_reasons[] = {"payload_unknown_fourth_instruction",
                                          "payload_unknown_fifth_instruction",
                                          "payload_unknown_sixth_instruction"};
  std::vector<const sol::CompiledInstruction*> memos;
  for (std::size_t i = 3; i < instructions.size(); ++i) {
    const sol::Pubkey& program = keys[instructions[i].program_index];
    if (program == memo_program) {
      memos.push_back(&instructions[i]);
    } else if (!(program == lighthouse)) {
      return refuse(unknown_reasons[i - 3], "instruction " + std::to_string(i + 1) +
                                                " may only be Memo or Lighthouse, not " +
                                                sol::base58_encode(program));
    }
  }
  if (const boost::json::value* memo = requirements.extra.if_contains("memo");
      memo && memo->is_string()) {
    if (memos.size() != 1) {
      return refuse("payload_memo_count", "expected exactly one Memo carrying extra.memo");
    }
    std::string_view expected = memo->get_string();
    if (std::string_view(reinterpret_cast<const char*>(memos[0]->data.data()),
                         memos[0]->data.size()) != expected) {
      return refuse("payload_memo_mismatch", "the Memo does not carry extra.memo");
    }
  }
  // The buyer's signature, in the authority's signer slot, over the message bytes.
  if (!message.is_signer(authority_index) ||
      !sol::verify_signature(authority, parsed->message_bytes,
                             parsed->signatures[authority_index])) {
    return refuse("payload_signature_invalid",
                  "the transfer authority's signature is missing or invalid");
  }
  VerifiedSvmPayment verified;
  verified.payer = sol::base58_encode(authority);
  verified.destination = sol::base58_encode(destination);
  verified.amount = amount;
  // The replay identity is what the buyer signed, the message: the fee payer's signature slot is
  // empty in the buyer's transaction and can carry anything, so two copies differing only there
  // are the same payment (DESIGN pitfalls).
  verified.payment_id = svm_payment_identity(requirements.network, parsed->message_bytes);
  return verified;
}

}  // namespace x402proxy::facilitator
