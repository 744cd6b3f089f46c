// x402/strict_json.h: any byte string is parsed or refused with one of the three documented
// reasons, never a crash. What it accepts is RFC 8259 JSON that Boost.JSON's own parser reads to
// the same value, and serializing that value gives a text it accepts again (the proxy's own
// answers are built from such values), except where a number is out of double range.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_json.h"
#include "x402/strict_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace x402proxy;
  namespace json = boost::json;
  const std::string_view input = fuzz::as_text(data, size);

  auto parsed = x402::parse_strict_json(input);
  // The same parse from a per-request arena, as the proxy's hot path may do: same verdict.
  json::monotonic_resource arena;
  auto from_arena = x402::parse_strict_json(input, 64, &arena);
  FUZZ_CHECK(parsed.ok() == from_arena.ok());

  json::parse_options same_depth;  // Boost's default is 32, the strict parser's 64
  same_depth.max_depth = 64;
  json::error_code lenient_error;
  const json::value lenient = json::parse(input, lenient_error, {}, same_depth);

  if (!parsed.ok()) {
    const std::string& reason = parsed.error().reason;
    FUZZ_CHECK(reason == "json.syntax" || reason == "json.duplicate_key" ||
               reason == "json.too_deep");
    FUZZ_CHECK(from_arena.error().reason == reason);
    FUZZ_CHECK(from_arena.error().message == parsed.error().message);
    FUZZ_CHECK(!parsed.error().message.empty());
    // A duplicate key is the one thing the lenient parser takes and the strict one refuses (the
    // converse does not hold: the strict parser stops at the first repeated key, before any
    // syntax error further on).
    if (!lenient_error)
      FUZZ_CHECK(reason == "json.duplicate_key");
    return 0;
  }

  FUZZ_CHECK(fuzz::same_json(*from_arena, *parsed));
  FUZZ_CHECK(!lenient_error);
  FUZZ_CHECK(fuzz::same_json(lenient, *parsed));

  // Out-of-range numbers serialize as `Infinity` (see fuzz_json.h): no round trip to check.
  if (fuzz::holds_non_finite_number(*parsed))
    return 0;
  const std::string text = json::serialize(*parsed);
  auto again = x402::parse_strict_json(text);
  FUZZ_CHECK(again.ok());
  // The same value, but for doubles that may read back an ulp away (fuzz_json.h).
  FUZZ_CHECK(fuzz::same_json(*again, *parsed, true));
  return 0;
}
