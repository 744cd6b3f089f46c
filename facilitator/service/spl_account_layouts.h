// The raw bytes of SPL Token accounts, as a Solana node returns them for getAccountInfo with
// encoding base64 or base58 (solana-program-library token/program/src/state.rs, `Pack` layouts;
// the same for Token-2022 accounts without extensions). A buyer's client decodes these itself:
// @x402/svm 2.27 reads the mint through @solana-program/token-2022 `fetchMint`, which asks for
// base64 and decodes the 82-byte layout (decimals at byte 44).
#pragma once

#include <array>
#include <cstdint>

#include "signers/solana/base58.h"

namespace x402proxy::facilitator {

inline constexpr std::size_t kMintSize = 82;
inline constexpr std::size_t kTokenAccountSize = 165;

// Mint: mint_authority COption<Pubkey> (u32 tag + 32), supply u64, decimals u8,
// is_initialized bool, freeze_authority COption<Pubkey>. No authorities: the simulated chain
// mints nothing.
std::array<std::uint8_t, kMintSize> mint_layout(std::uint64_t supply, std::uint8_t decimals);

// Account: mint, owner, amount u64, delegate COption<Pubkey>, state u8 (1 = initialized),
// is_native COption<u64> (u32 tag + 8), delegated_amount u64, close_authority COption<Pubkey>.
std::array<std::uint8_t, kTokenAccountSize> token_account_layout(
    const signers::solana::Pubkey& mint, const signers::solana::Pubkey& owner,
    std::uint64_t amount);

}  // namespace x402proxy::facilitator
