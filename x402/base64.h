// Standard base64 (RFC 4648 §4: alphabet A-Z a-z 0-9 + /, '=' padding), the encoding of every x402
// HTTP header (PAYMENT-REQUIRED, PAYMENT-SIGNATURE, PAYMENT-RESPONSE and the v1 X-PAYMENT headers,
// x402 transports-v2/http.md).
#pragma once

#include <string>
#include <string_view>

#include "x402/result.h"

namespace x402proxy::x402 {

// Padded standard base64, no line breaks.
std::string base64_encode(std::string_view bytes);

// Strict decoding (reason "base64.invalid"): only the standard alphabet; the length must be a
// multiple of 4 with at most two '=' and only at the end; the unused bits of the last symbol must
// be zero (RFC 4648 §3.5), so every byte string has exactly one accepted encoding. Whitespace,
// URL-safe '-' and '_', missing padding and data after padding are refused.
Result<std::string> base64_decode(std::string_view text);

}  // namespace x402proxy::x402
