#include "x402/base64.h"

#include <array>
#include <cstdint>

namespace x402proxy::x402 {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& entry : table)
    entry = kInvalid;
  for (std::uint8_t i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = i;
  return table;
}
constexpr std::array<std::uint8_t, 256> kDecode = make_decode_table();

Error invalid(std::string message) {
  return make_error("base64.invalid", std::move(message));
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out += kAlphabet[group >> 18];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += kAlphabet[group & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t group = in[i] << 16;
    out += kAlphabet[group >> 18];
    out += kAlphabet[(group >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t group = (in[i] << 16) | (in[i + 1] << 8);
    out += kAlphabet[group >> 18];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return invalid("base64 length " + std::to_string(text.size()) +
                   " is not a multiple of 4 (padding '=' is required)");
  }
  // Up to two trailing '='; any other '=' is refused below as outside the alphabet.
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=')
    ++padding;

  const std::size_t data_size = text.size() - padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (std::size_t i = 0; i < data_size; ++i) {
    const std::uint8_t value = kDecode[static_cast<unsigned char>(text[i])];
    if (value == kInvalid) {
      const auto byte = static_cast<unsigned char>(text[i]);
      std::string shown = (byte >= 0x21 && byte < 0x7f) ? std::string(1, static_cast<char>(byte))
                                                        : "byte " + std::to_string(byte);
      return invalid("character '" + shown + "' at offset " + std::to_string(i) +
                     " is not in the standard base64 alphabet");
    }
    bits = (bits << 6) | value;
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>((bits >> bit_count) & 0xff);
    }
  }
  // A final "xxx=" leaves 2 unused bits, "xx==" leaves 4; RFC 4648 §3.5 lets a decoder refuse them
  // when non-zero, and we do, so that one byte string has exactly one accepted text.
  if (bit_count > 0 && (bits & ((1u << bit_count) - 1)) != 0) {
    return invalid("base64 text has non-zero bits after its last byte (not canonical)");
  }
  return out;
}

}  // namespace x402proxy::x402
