// Atomic token amounts. On the wire they are decimal strings in the uint256 range (x402 v2 §5.1.2
// "amount", EIP-3009 "value"); here they become 256-bit unsigned integers so they can be compared
// and added without overflow or rounding. Never a double (STYLE rule 6).
#pragma once

#include <string>
#include <string_view>

#include <boost/multiprecision/cpp_int.hpp>

#include "x402/result.h"

namespace x402proxy::x402 {

using Amount = boost::multiprecision::uint256_t;

// Parses a canonical decimal amount: one or more ASCII digits, no sign, no spaces, no leading zero
// (except "0" itself, so each number has one spelling), at most 2^256 - 1.
// Reason "invalid_amount"; the message quotes (a bounded prefix of) the input.
Result<Amount> parse_amount(std::string_view decimal);

// Decimal digits, no leading zeros ("0" for zero): the wire form parse_amount accepts.
std::string to_string(const Amount& amount);

}  // namespace x402proxy::x402
