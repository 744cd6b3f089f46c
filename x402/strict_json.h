// Strict JSON parsing for everything a client sends us.
//
// Boost.JSON, like most parsers, silently keeps the last of two equal keys in an object. For a
// paying proxy that is a smuggling vector: `{"name":"free_tool","name":"priced_tool"}` may be read
// as one tool by us and as the other by the upstream. So every request body and every payment is
// parsed here, and a repeated key at any depth is refused (reason "json.duplicate_key").
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "x402/result.h"

namespace x402proxy::x402 {

// Parses one complete JSON text in a single pass and builds the DOM. Refuses:
//  - a repeated key in any object, comparing keys after unescaping ("a" equals "\u0061"):
//    reason "json.duplicate_key", message naming the key and where it sits
//    (`duplicate key "name" in params`);
//  - nesting deeper than max_depth arrays/objects: reason "json.too_deep";
//  - anything else that is not RFC 8259 JSON (invalid UTF-8, trailing data, comments, trailing
//    commas, empty input): reason "json.syntax", message with the byte offset of the fault.
// The DOM is allocated from `storage` (default: the heap); pass a monotonic resource to make a
// per-request parse allocation-cheap.
Result<boost::json::value> parse_strict_json(std::string_view text, std::size_t max_depth = 64,
                                             boost::json::storage_ptr storage = {});

}  // namespace x402proxy::x402
