// The x402 "exact" scheme on Solana (specs/schemes/exact/scheme_exact_svm.md, research §4): the
// buyer's partially signed transaction — compute limit, compute price, SPL TransferChecked to the
// payee's associated token account, a Memo — with the facilitator as fee payer (slot 0 left empty).
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "signers/solana/ed25519.h"
#include "signers/solana/pda.h"
#include "signers/solana/transaction.h"
#include "x402/types.h"

namespace x402proxy::signers::solana {

inline constexpr std::uint32_t kComputeUnitLimit = 20'000;  // the reference client's defaults
inline constexpr std::uint64_t kComputeUnitPriceMicroLamports = 1;

// What the buyer needs from the chain (a Solana JSON-RPC node in production).
struct SolanaChainData {
  Pubkey recent_blockhash{};
  unsigned mint_decimals = 6;
  Pubkey token_program = program_pubkey(kTokenProgram);
};

// payload {"transaction": base64 wire transaction}. `memo`: extra.memo when the seller set one,
// else a random 16-byte nonce in hex (makes each payment a distinct transaction).
Result<boost::json::object> create_exact_svm_payload(
    const SolanaKey& buyer, const x402::PaymentRequirements& requirements,
    const SolanaChainData& chain, std::optional<std::string> memo = std::nullopt);

}  // namespace x402proxy::signers::solana
