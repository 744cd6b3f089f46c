#include "signers/solana/exact_svm_payment.h"

#include "signers/evm/hex.h"
#include "signers/solana/pda.h"
#include "x402/amount.h"
#include "x402/base64.h"

namespace x402proxy::signers::solana {
namespace json = boost::json;

namespace {

void put_le(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

}  // namespace

Result<json::object> create_exact_svm_payload(const SolanaKey& buyer,
                                              const x402::PaymentRequirements& requirements,
                                              const SolanaChainData& chain,
                                              std::optional<std::string> memo) {
  const json::value* fee_payer_text = requirements.extra.if_contains("feePayer");
  if (fee_payer_text == nullptr || !fee_payer_text->is_string()) {
    return make_error("invalid_exact_svm_payload_missing_fee_payer",
                      "the requirement's extra.feePayer names no fee payer");
  }
  auto fee_payer = decode_pubkey(fee_payer_text->get_string());
  auto mint = decode_pubkey(requirements.asset);
  auto pay_to = decode_pubkey(requirements.pay_to);
  auto amount = x402::parse_amount(requirements.amount);
  if (!fee_payer.ok() || !mint.ok() || !pay_to.ok() || !amount.ok() ||
      *amount > x402::Amount(UINT64_MAX)) {
    return make_error("invalid_payment_requirements",
                      "feePayer, asset, payTo or amount is not valid for Solana");
  }
  auto source = associated_token_account(buyer.public_key(), *mint, chain.token_program);
  auto destination = associated_token_account(*pay_to, *mint, chain.token_program);
  if (!source.ok())
    return source.error();
  if (!destination.ok())
    return destination.error();

  if (!memo) {
    if (const json::value* seller_memo = requirements.extra.if_contains("memo");
        seller_memo && seller_memo->is_string()) {
      memo = std::string(seller_memo->get_string());
    } else {
      auto nonce = random_secret(16);
      if (!nonce.ok())
        return nonce.error();
      memo = evm::to_hex(std::span(nonce->data(), nonce->size()), false);
    }
  }
  const Pubkey compute_budget = program_pubkey(kComputeBudgetProgram);
  std::vector<Instruction> instructions(4);
  instructions[0].program = compute_budget;
  instructions[0].data = {0x02};
  put_le(instructions[0].data, kComputeUnitLimit, 4);
  instructions[1].program = compute_budget;
  instructions[1].data = {0x03};
  put_le(instructions[1].data, kComputeUnitPriceMicroLamports, 8);
  instructions[2].program = chain.token_program;
  instructions[2].accounts = {{*source, false, true},
                              {*mint, false, false},
                              {*destination, false, true},
                              {buyer.public_key(), true, false}};
  instructions[2].data = {0x0c};  // TransferChecked
  put_le(instructions[2].data, static_cast<std::uint64_t>(*amount), 8);
  instructions[2].data.push_back(static_cast<std::uint8_t>(chain.mint_decimals));
  instructions[3].program = program_pubkey(kMemoProgram);
  instructions[3].data.assign(memo->begin(), memo->end());

  Message message = compile_message(*fee_payer, chain.recent_blockhash, instructions);
  std::vector<std::uint8_t> message_bytes = serialize_message(message);
  std::vector<Signature64> signatures(message.required_signatures);  // zeros: not signed yet
  for (std::size_t i = 0; i < message.required_signatures; ++i) {
    if (message.account_keys[i] == buyer.public_key())
      signatures[i] = buyer.sign(message_bytes);
  }
  auto wire = serialize_transaction(signatures, message_bytes);
  return json::object{
      {"transaction", x402::base64_encode(std::string_view(
                          reinterpret_cast<const char*>(wire.data()), wire.size()))}};
}

}  // namespace x402proxy::signers::solana
