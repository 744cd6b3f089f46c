#include "app/keygen_command.h"

#include <cstdio>

#include "signers/evm/hex.h"
#include "signers/evm/secp256k1_keys.h"
#include "signers/key_material.h"
#include "signers/solana/base58.h"
#include "signers/solana/ed25519.h"

namespace x402proxy::app {

int run_keygen_command(const std::string& family, const std::string& out_path) {
  if (out_path.empty()) {
    std::fprintf(stderr, "x402-mcp-proxy keygen: --out FILE is required\n");
    return 2;
  }
  if (family == "solana") {
    auto key = signers::solana::SolanaKey::generate();
    if (!key.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy keygen: %s\n", key.error().message.c_str());
      return 1;
    }
    // The Solana CLI's keypair file format: a JSON array of the 64 secret-key bytes.
    std::string text = key->keypair_json();
    auto written = signers::write_key_file(out_path, text + "\n");
    std::fill(text.begin(), text.end(), '\0');
    if (!written.ok()) {
      std::fprintf(stderr, "x402-mcp-proxy keygen: %s\n", written.error().message.c_str());
      return 1;
    }
    std::printf("%s\n", signers::solana::base58_encode(key->public_key()).c_str());
    return 0;
  }
  if (family != "evm") {
    std::fprintf(stderr, "x402-mcp-proxy keygen: unknown key kind '%s' (evm or solana)\n",
                 family.c_str());
    return 2;
  }
  auto secret = signers::random_secret(32);
  if (!secret.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy keygen: %s\n", secret.error().message.c_str());
    return 1;
  }
  // The file holds the hex text; the text buffer is itself a secret and is wiped after use.
  signers::SecretBytes text(66);
  std::string hex = signers::evm::to_hex(std::span(secret->data(), secret->size()));
  std::copy(hex.begin(), hex.end(), text.data());
  std::fill(hex.begin(), hex.end(), '\0');
  auto key = signers::evm::EvmKey::from_secret(std::move(secret).value());
  if (!key.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy keygen: %s\n", key.error().message.c_str());
    return 1;
  }
  std::string_view content(reinterpret_cast<const char*>(text.data()), text.size());
  if (auto written = signers::write_key_file(out_path, std::string(content) + "\n");
      !written.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy keygen: %s\n", written.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", signers::evm::to_checksum_string(key->address()).c_str());
  return 0;
}

}  // namespace x402proxy::app
