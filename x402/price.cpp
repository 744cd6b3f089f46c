#include "x402/price.h"

namespace x402proxy::x402 {
namespace {

// A 256-bit amount has at most 78 digits; no token has more decimals than that can show.
constexpr unsigned kMaxDecimals = 77;

Error invalid_price(std::string_view price, std::string_view why) {
  constexpr std::size_t kShown = 40;
  std::string message = "price \"";
  message.append(price.substr(0, kShown));
  if (price.size() > kShown)
    message += "...";
  message += "\" ";
  message.append(why);
  return make_error("invalid_price", std::move(message));
}

bool all_digits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9')
      return false;
  }
  return true;
}

}  // namespace

Result<Amount> usd_price_to_atomic(std::string_view price, unsigned decimals,
                                   std::string_view token_name) {
  if (decimals > kMaxDecimals) {
    return invalid_price(
        price, "cannot be priced in a token with " + std::to_string(decimals) + " decimals");
  }
  std::string_view number = price;
  if (!number.empty() && number.front() == '$')
    number.remove_prefix(1);
  if (number.empty())
    return invalid_price(price, "is empty; expected e.g. \"$0.001\"");
  if (number.find(',') != std::string_view::npos) {
    return invalid_price(price, "uses a thousands separator; write e.g. \"$1000.50\"");
  }
  if (number.front() == '-')
    return invalid_price(price, "is negative");

  const std::size_t dot = number.find('.');
  const std::string_view whole = number.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
  if (whole.empty() || !all_digits(whole) || !all_digits(fraction) ||
      (dot != std::string_view::npos && fraction.empty())) {
    return invalid_price(price, "is not a plain decimal number; expected e.g. \"$0.001\" or \"2\"");
  }

  const std::size_t significant = fraction.find_last_not_of('0') + 1;  // npos + 1 == 0
  if (significant > decimals) {
    std::string message = "has more decimal places than ";
    if (token_name.empty()) {
      message += "the token's ";
    } else {
      message.append(token_name);
      message += "'s ";
    }
    message += std::to_string(decimals);
    return invalid_price(price, message);
  }

  // atomic = whole * 10^decimals + fraction padded to `decimals` digits, as one digit string.
  std::string digits(whole);
  digits.append(fraction.substr(0, significant));
  digits.append(decimals - significant, '0');
  const std::size_t first_nonzero = digits.find_first_not_of('0');
  if (first_nonzero == std::string::npos)
    return Amount{0};
  auto atomic = parse_amount(std::string_view(digits).substr(first_nonzero));
  if (!atomic)
    return invalid_price(price, "is too large for a 256-bit amount");
  return atomic;
}

std::string format_usd(const Amount& atomic, unsigned decimals) {
  std::string digits = atomic.str();
  if (digits.size() <= decimals)
    digits.insert(0, decimals + 1 - digits.size(), '0');
  std::string out = "$";
  out.append(digits, 0, digits.size() - decimals);
  std::string fraction = digits.substr(digits.size() - decimals);
  const std::size_t last = fraction.find_last_not_of('0');
  if (last != std::string::npos) {
    out += '.';
    out.append(fraction, 0, last + 1);
  }
  return out;
}

}  // namespace x402proxy::x402
