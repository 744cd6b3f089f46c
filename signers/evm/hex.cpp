#include "signers/evm/hex.h"

namespace x402proxy::signers::evm {
namespace {
int nibble(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes, bool prefix) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = prefix ? "0x" : "";
  out.reserve(out.size() + bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

Result<std::vector<std::uint8_t>> from_hex(std::string_view text, std::size_t expected_size) {
  if (text.starts_with("0x") || text.starts_with("0X"))
    text.remove_prefix(2);
  if (text.size() % 2 != 0)
    return make_error("hex.invalid", "odd number of hex digits");
  if (expected_size != 0 && text.size() != expected_size * 2) {
    return make_error("hex.invalid", "expected " + std::to_string(expected_size) + " bytes, got " +
                                         std::to_string(text.size() / 2));
  }
  std::vector<std::uint8_t> out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int high = nibble(text[2 * i]);
    int low = nibble(text[2 * i + 1]);
    if (high < 0 || low < 0)
      return make_error("hex.invalid", "not a hex digit");
    out[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return out;
}

}  // namespace x402proxy::signers::evm
