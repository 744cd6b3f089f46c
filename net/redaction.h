// Text that came from a facilitator (or any peer) is untrusted and may carry what must never be
// logged or echoed: a facilitator's error message can quote the signed authorization (v, r, s,
// calldata) of a payment that is still valid (DESIGN pitfalls). What reaches a log line, the
// journal or an answer is reduced to a reason code and a short message with every long hex,
// base58 or base64 run cut out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace x402proxy::net {

// A reason code as the x402 APIs spell them (letters, digits, '_', '.', '-'), at most 64
// characters; anything else becomes "unspecified".
std::string reason_code(std::string_view text);

// `text` with control characters replaced, every run of more than 40 hex digits (with or without
// 0x: longer than an address) and every run of 45 or more base58/base64 characters that mixes
// upper case and digits (longer than a Solana address) replaced by "[redacted]", and cut to
// `max_length` characters.
std::string redact_secrets(std::string_view text, std::size_t max_length = 160);

}  // namespace x402proxy::net
