#include "x402/amount.h"

#include <cstdint>

namespace x402proxy::x402 {
namespace {

// 2^256 - 1 has 78 decimal digits.
constexpr std::string_view kMaxAmount =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

std::string quoted(std::string_view text) {
  constexpr std::size_t kShown = 100;
  std::string out = "\"";
  out.append(text.substr(0, kShown));
  if (text.size() > kShown)
    out += "...";
  out += '"';
  return out;
}

}  // namespace

Result<Amount> parse_amount(std::string_view decimal) {
  if (decimal.empty())
    return make_error("invalid_amount", "amount is empty; expected decimal digits");
  for (const char c : decimal) {
    if (c < '0' || c > '9') {
      return make_error("invalid_amount", "amount " + quoted(decimal) +
                                              " must contain only decimal digits (atomic units)");
    }
  }
  if (decimal.size() > 1 && decimal.front() == '0') {
    return make_error("invalid_amount", "amount " + quoted(decimal) +
                                            " has a leading zero; expected canonical digits");
  }
  if (decimal.size() > kMaxAmount.size() ||
      (decimal.size() == kMaxAmount.size() && decimal > kMaxAmount)) {
    return make_error("invalid_amount", "amount " + quoted(decimal) + " exceeds 2^256 - 1");
  }
  // 19 digits at a time fit a uint64_t, so a 78-digit amount costs five multiprecision steps.
  Amount amount = 0;
  std::size_t pos = 0;
  while (pos < decimal.size()) {
    const std::size_t chunk = std::min<std::size_t>(19, decimal.size() - pos);
    std::uint64_t value = 0;
    std::uint64_t scale = 1;
    for (std::size_t i = 0; i < chunk; ++i) {
      value = value * 10 + static_cast<std::uint64_t>(decimal[pos + i] - '0');
      scale *= 10;
    }
    amount = amount * scale + value;
    pos += chunk;
  }
  return amount;
}

std::string to_string(const Amount& amount) {
  return amount.str();
}

}  // namespace x402proxy::x402
