// Prices as people write them ("$0.001") turned into atomic token units and back, with integer
// arithmetic only: a USD stablecoin's atomic unit is 10^-decimals dollars (research §3.6: "$0.01"
// is "10000" for 6-decimal USDC).
#pragma once

#include <string>
#include <string_view>

#include "x402/amount.h"
#include "x402/result.h"

namespace x402proxy::x402 {

// Accepted: an optional leading '$', then digits, optionally '.' and one or more digits:
// "$0.001", "0.001", "$1", "1.50", "$1000.5". Refused (reason "invalid_price"): empty, a sign
// ("-1", "+1"), spaces, thousands separators ("$1,000": ambiguous across locales), exponents,
// ".5" and "5." (write "0.5", "5"), and more significant decimal places than the token has
// (`"$0.0000001" has more decimal places than USDC's 6`). Trailing zeros past the token's
// precision are accepted because the value is still exact ("$1.0000000" is 1000000 for USDC).
// `token_name` only makes the message concrete ("USDC"); it may be empty.
Result<Amount> usd_price_to_atomic(std::string_view price, unsigned decimals,
                                   std::string_view token_name = {});

// For display: "$" + the amount in whole units with trailing zeros dropped ("$0.001", "$1.5",
// "$0").
std::string format_usd(const Amount& atomic, unsigned decimals);

}  // namespace x402proxy::x402
