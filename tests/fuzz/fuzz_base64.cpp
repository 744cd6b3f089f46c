// x402/base64.h: the strict decoder never crashes on any text, and the encoding is canonical both
// ways: every accepted text is the encoding of what it decodes to (one text per byte string, RFC
// 4648 §3.5 as the header promises), and every byte string decodes back from its encoding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_check.h"
#include "x402/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace x402proxy;
  const std::string_view input = fuzz::as_text(data, size);

  // The input as a header value a client sent.
  auto decoded = x402::base64_decode(input);
  if (decoded.ok()) {
    FUZZ_CHECK(input.size() % 4 == 0);
    FUZZ_CHECK(decoded->size() == input.size() / 4 * 3 - (input.ends_with("==")  ? 2
                                                          : input.ends_with("=") ? 1
                                                                                 : 0));
    FUZZ_CHECK(x402::base64_encode(*decoded) == input);
  } else {
    FUZZ_CHECK(decoded.error().reason == "base64.invalid");
    FUZZ_CHECK(!decoded.error().message.empty());
  }

  // The input as bytes the proxy encodes (a PAYMENT-REQUIRED header).
  const std::string encoded = x402::base64_encode(input);
  FUZZ_CHECK(encoded.size() == (input.size() + 2) / 3 * 4);
  auto round_trip = x402::base64_decode(encoded);
  FUZZ_CHECK(round_trip.ok());
  FUZZ_CHECK(*round_trip == input);
  return 0;
}
