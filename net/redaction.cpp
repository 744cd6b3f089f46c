#include "net/redaction.h"

#include <cctype>

namespace x402proxy::net {
namespace {

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// base58 and base64 (standard and URL-safe) alphabets together, with padding.
bool is_encoded(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/' || c == '=' ||
         c == '-' || c == '_';
}

}  // namespace

std::string reason_code(std::string_view text) {
  if (text.empty() || text.size() > 64)
    return "unspecified";
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
      return "unspecified";
  }
  return std::string(text);
}

std::string redact_secrets(std::string_view text, std::size_t max_length) {
  std::string out;
  out.reserve(std::min(text.size(), max_length + 16));
  std::size_t i = 0;
  while (i < text.size()) {
    // A hex run, with an optional 0x in front.
    std::size_t start = i;
    std::size_t j = i;
    if (text.size() - i > 2 && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X'))
      j += 2;
    std::size_t hex_end = j;
    while (hex_end < text.size() && is_hex(text[hex_end]))
      ++hex_end;
    if (hex_end - j > 40) {  // longer than an address: a signature, calldata, a hash
      out += "[redacted]";
      i = hex_end;
      continue;
    }
    std::size_t encoded_end = start;
    bool upper = false;
    bool digit = false;
    while (encoded_end < text.size() && is_encoded(text[encoded_end])) {
      upper = upper || std::isupper(static_cast<unsigned char>(text[encoded_end]));
      digit = digit || std::isdigit(static_cast<unsigned char>(text[encoded_end]));
      ++encoded_end;
    }
    // Longer than a Solana address and mixed like random bytes are (a snake_case reason is not).
    if (encoded_end - start >= 45 && upper && digit) {
      out += "[redacted]";
      i = encoded_end;
      continue;
    }
    // Copy the word (or the single character) unchanged, control characters as spaces.
    std::size_t word_end = std::max(encoded_end, start + 1);
    for (std::size_t k = start; k < word_end; ++k) {
      const unsigned char c = static_cast<unsigned char>(text[k]);
      out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
    }
    i = word_end;
  }
  if (out.size() > max_length) {
    out.resize(max_length);
    out += "…";
  }
  return out;
}

}  // namespace x402proxy::net
