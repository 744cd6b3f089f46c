// EVM addresses: 20 bytes, written with the EIP-55 mixed-case checksum.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "x402/result.h"

namespace x402proxy::signers::evm {

struct Address {
  std::array<std::uint8_t, 20> bytes{};
  bool operator==(const Address&) const = default;
};

// "0x" + 40 hex digits. All-lower or all-upper case is accepted as is; mixed case must carry a
// correct EIP-55 checksum (a typo in a checksummed address is caught, not paid to).
Result<Address> parse_address(std::string_view text);
std::string to_checksum_string(const Address& address);  // EIP-55
// keccak256 of the 64-byte uncompressed public key (without the 0x04 prefix), last 20 bytes.
Address address_from_public_key(const std::array<std::uint8_t, 64>& public_key);

}  // namespace x402proxy::signers::evm
