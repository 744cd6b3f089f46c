// Private keys in memory and on disk. A SecretBytes zeroes itself when it goes away, cannot be
// copied by accident and has no way to be printed; errors about keys never quote the key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "x402/result.h"

namespace x402proxy::signers {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size) : bytes_(size) {}
  SecretBytes(const std::uint8_t* data, std::size_t size) : bytes_(data, data + size) {}
  ~SecretBytes() { wipe(); }
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {}
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    wipe();
    bytes_ = std::move(other.bytes_);
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t* data() { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }

 private:
  void wipe();
  std::vector<std::uint8_t> bytes_;
};

// `size` bytes from the OS CSPRNG.
Result<SecretBytes> random_secret(std::size_t size);

// A key as text: 64 hex digits (optionally 0x-prefixed) → 32 bytes, or the Solana JSON keypair
// format ([64 numbers]: the first 32 are the secret seed).
Result<SecretBytes> parse_key_text(std::string_view text);
// From a file, or from the environment variable `name` (for containers). Messages name the file
// or variable, never the content.
Result<SecretBytes> load_key_file(const std::string& path);
Result<SecretBytes> load_key_env(const std::string& name);

// Creates `path` with mode 0600 and writes `text`; refuses to overwrite an existing file.
Status write_key_file(const std::string& path, std::string_view text);

}  // namespace x402proxy::signers
