#include "signers/evm/address.h"

#include <cctype>

#include "signers/evm/hex.h"
#include "signers/evm/keccak.h"

namespace x402proxy::signers::evm {

std::string to_checksum_string(const Address& address) {
  std::string lower = to_hex(address.bytes, false);
  Hash32 hash = keccak256(lower);
  std::string out = "0x";
  for (std::size_t i = 0; i < lower.size(); ++i) {
    const int nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xf;
    out.push_back(nibble >= 8 ? static_cast<char>(std::toupper(lower[i])) : lower[i]);
  }
  return out;
}

Result<Address> parse_address(std::string_view text) {
  if (text.size() != 42 || !text.starts_with("0x")) {
    return make_error("address.invalid", "an EVM address is 0x and 40 hex digits");
  }
  auto bytes = from_hex(text, 20);
  if (!bytes.ok())
    return make_error("address.invalid", "an EVM address is 0x and 40 hex digits");
  Address address;
  std::copy(bytes->begin(), bytes->end(), address.bytes.begin());
  std::string_view digits = text.substr(2);
  bool has_lower = false, has_upper = false;
  for (char c : digits) {
    has_lower = has_lower || (c >= 'a' && c <= 'f');
    has_upper = has_upper || (c >= 'A' && c <= 'F');
  }
  if (has_lower && has_upper && to_checksum_string(address) != text) {
    return make_error("address.checksum", "EIP-55 checksum mismatch in " + std::string(text));
  }
  return address;
}

Address address_from_public_key(const std::array<std::uint8_t, 64>& public_key) {
  Hash32 hash = keccak256(public_key);
  Address address;
  std::copy(hash.begin() + 12, hash.end(), address.bytes.begin());
  return address;
}

}  // namespace x402proxy::signers::evm
