#include "signers/key_material.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/crypto.h>

#include "signers/evm/hex.h"

namespace x402proxy::signers {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

}  // namespace

void SecretBytes::wipe() {
  if (!bytes_.empty())
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

Result<SecretBytes> random_secret(std::size_t size) {
  SecretBytes out(size);
  std::size_t filled = 0;
  while (filled < size) {
    ssize_t n = getrandom(out.data() + filled, size - filled, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return make_error("key.random",
                        std::string("the OS random generator failed: ") + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  return out;
}

Result<SecretBytes> parse_key_text(std::string_view text) {
  text = trim(text);
  if (text.starts_with("[")) {
    // Solana keypair file: 64 numbers 0..255; the first 32 are the Ed25519 seed.
    SecretBytes seed(32);
    std::size_t index = 0;
    std::size_t pos = 1;
    while (pos < text.size() && text[pos] != ']') {
      while (pos < text.size() && (text[pos] == ' ' || text[pos] == ',' || text[pos] == '\n' ||
                                   text[pos] == '\r' || text[pos] == '\t')) {
        ++pos;
      }
      if (pos >= text.size() || text[pos] == ']')
        break;
      unsigned value = 0;
      std::size_t digits = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) &&
             digits < 4) {
        value = value * 10 + static_cast<unsigned>(text[pos] - '0');
        ++pos;
        ++digits;
      }
      if (digits == 0 || value > 255) {
        return make_error("key.format", "a Solana keypair file is a JSON array of 64 bytes");
      }
      if (index < 32)
        seed.data()[index] = static_cast<std::uint8_t>(value);
      ++index;
    }
    if (index != 64)
      return make_error("key.format", "a Solana keypair file is a JSON array of 64 bytes");
    return seed;
  }
  auto bytes = evm::from_hex(text, 32);
  if (!bytes.ok()) {
    return make_error("key.format", "expected 64 hex digits (32 bytes) or a Solana JSON keypair");
  }
  SecretBytes key(bytes->data(), bytes->size());
  OPENSSL_cleanse(bytes->data(), bytes->size());
  return key;
}

Result<SecretBytes> load_key_file(const std::string& path) {
  std::ifstream file(path);
  if (!file)
    return make_error("key.file", "cannot read key file " + path);
  std::stringstream text;
  text << file.rdbuf();
  std::string content = text.str();
  auto key = parse_key_text(content);
  OPENSSL_cleanse(content.data(), content.size());
  if (!key.ok())
    return make_error(key.error().reason, "key file " + path + ": " + key.error().message);
  return key;
}

Result<SecretBytes> load_key_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr)
    return make_error("key.env", "environment variable " + name + " is not set");
  auto key = parse_key_text(value);
  if (!key.ok())
    return make_error(key.error().reason,
                      "environment variable " + name + ": " + key.error().message);
  return key;
}

Status write_key_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error("key.file", "cannot create key file " + path + ": " + std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ::close(fd);
      return make_error("key.file", "cannot write key file " + path);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    return make_error("key.file", "cannot write key file " + path);
  return ok_status();
}

}  // namespace x402proxy::signers
