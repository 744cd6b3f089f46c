// What the fuzz targets share: a property check that aborts (libFuzzer records the input as a
// crash; the replay test fails), and the input as a string_view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace x402proxy::fuzz {

// A property violation is a finding like a crash: say which one, then abort.
[[noreturn]] inline void property_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz property violated at %s:%d: %s\n", file, line, what);
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace x402proxy::fuzz

#define FUZZ_CHECK(condition)                                             \
  do {                                                                    \
    if (!(condition))                                                     \
      ::x402proxy::fuzz::property_failed(#condition, __FILE__, __LINE__); \
  } while (false)
