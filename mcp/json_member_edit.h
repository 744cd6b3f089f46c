// Editing a JSON text without re-serializing it: the byte range of one member of nested objects,
// found by a small scanner over the original text, and the text with that member cut out. A
// paid call's body reaches the upstream exactly as the client sent it, less the payment: a
// parse-and-serialize round trip would turn 1e400 into Infinity and 2^64 into a double (DESIGN
// pitfalls). The text must already have passed the strict parser (x402/strict_json.h); on
// anything else the scanner finds nothing rather than guess.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace x402proxy::mcp {

// [begin, end) of a member "key": value, and where its object's separators are.
struct MemberSpan {
  std::size_t key_begin = 0;     // the opening quote of the key
  std::size_t value_end = 0;     // one past the value's last byte
  std::size_t object_begin = 0;  // the '{' of the object holding it
};

// The member at `path` (object keys from the top-level value down), compared after unescaping.
std::optional<MemberSpan> find_member(std::string_view text,
                                      std::initializer_list<std::string_view> path);

// `text` without that member (and the one comma that separated it from a neighbour), every
// other byte unchanged.
std::string without_member(std::string_view text, const MemberSpan& member);

// A JSON-RPC request text without its x402 payment, `params._meta["x402/payment"]` (x402 MCP
// transport), and without `_meta` itself when the payment was all it held; every other byte as
// the client sent it. The text unchanged when it carries no such member; nullopt when it is not
// JSON the scanner can follow (the caller refuses rather than re-serialize).
std::optional<std::string> without_payment_member(std::string_view text);

}  // namespace x402proxy::mcp
