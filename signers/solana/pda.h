// Program-derived addresses and associated token accounts (the SPL associated-token-account
// program's derivation: seeds [owner, token program, mint]).
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "signers/solana/base58.h"
#include "x402/result.h"

namespace x402proxy::signers::solana {

inline constexpr std::string_view kTokenProgram = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
inline constexpr std::string_view kToken2022Program = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
inline constexpr std::string_view kAssociatedTokenProgram =
    "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";
inline constexpr std::string_view kComputeBudgetProgram =
    "ComputeBudget111111111111111111111111111111";
inline constexpr std::string_view kMemoProgram = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";
inline constexpr std::string_view kLighthouseProgram =
    "L2TExMFKdjpN9kozasaurPirfHy9P8sbXoAN1qA3S95";

Pubkey program_pubkey(std::string_view base58_address);  // for the constants above

// find_program_address: the first bump from 255 down whose hash lies off the curve.
Result<Pubkey> find_program_address(const std::vector<std::span<const std::uint8_t>>& seeds,
                                    const Pubkey& program);
Result<Pubkey> associated_token_account(const Pubkey& owner, const Pubkey& mint,
                                        const Pubkey& token_program);

}  // namespace x402proxy::signers::solana
