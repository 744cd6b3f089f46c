#include "signers/solana/base58.h"

#include <algorithm>

namespace x402proxy::signers::solana {
namespace {
constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
}

std::string base58_encode(std::span<const std::uint8_t> bytes) {
  std::size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == 0)
    ++zeros;
  std::vector<std::uint8_t> digits;  // base 58, little-endian
  digits.reserve(bytes.size() * 138 / 100 + 1);
  for (std::size_t i = zeros; i < bytes.size(); ++i) {
    unsigned carry = bytes[i];
    for (auto& digit : digits) {
      carry += static_cast<unsigned>(digit) << 8;
      digit = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it)
    out.push_back(kAlphabet[*it]);
  return out;
}

Result<std::vector<std::uint8_t>> base58_decode(std::string_view text) {
  std::size_t ones = 0;
  while (ones < text.size() && text[ones] == '1')
    ++ones;
  std::vector<std::uint8_t> bytes;  // base 256, little-endian
  for (std::size_t i = ones; i < text.size(); ++i) {
    auto position = kAlphabet.find(text[i]);
    if (position == std::string_view::npos) {
      return make_error("solana.base58", "not a base58 character at position " + std::to_string(i));
    }
    unsigned carry = static_cast<unsigned>(position);
    for (auto& byte : bytes) {
      carry += static_cast<unsigned>(byte) * 58;
      byte = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  std::vector<std::uint8_t> out(ones, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  return out;
}

Result<Pubkey> decode_pubkey(std::string_view text) {
  auto bytes = base58_decode(text);
  if (!bytes.ok() || bytes->size() != 32) {
    return make_error("solana.address", "not a base58 32-byte Solana address: \"" +
                                            std::string(text.substr(0, 64)) + "\"");
  }
  Pubkey key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

}  // namespace x402proxy::signers::solana
