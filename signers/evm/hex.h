// 0x-prefixed hexadecimal, as EVM payloads write addresses, nonces and signatures.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "x402/result.h"

namespace x402proxy::signers::evm {

std::string to_hex(std::span<const std::uint8_t> bytes, bool prefix = true);
// Accepts an optional 0x prefix and either case; `expected_size` bytes when non-zero.
Result<std::vector<std::uint8_t>> from_hex(std::string_view text, std::size_t expected_size = 0);

}  // namespace x402proxy::signers::evm
