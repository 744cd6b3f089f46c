// Keccak-256 as Ethereum uses it (the original Keccak padding, not SHA3-256). OpenSSL 3.0 has no
// such digest; Crypto++'s Keccak_256 does (see research/cpp-deps-and-style.md §1.2).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace x402proxy::signers::evm {

using Hash32 = std::array<std::uint8_t, 32>;

Hash32 keccak256(std::span<const std::uint8_t> bytes);
Hash32 keccak256(std::string_view text);

}  // namespace x402proxy::signers::evm
