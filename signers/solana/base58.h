// Base58 (Bitcoin alphabet), as Solana writes addresses, blockhashes and signatures.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "x402/result.h"

namespace x402proxy::signers::solana {

using Pubkey = std::array<std::uint8_t, 32>;

std::string base58_encode(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> base58_decode(std::string_view text);
// A 32-byte key or hash; reason "solana.address".
Result<Pubkey> decode_pubkey(std::string_view text);

}  // namespace x402proxy::signers::solana
