#include "signers/solana/pda.h"

#include <openssl/evp.h>

#include <memory>

#include "signers/solana/ed25519.h"

namespace x402proxy::signers::solana {

Pubkey program_pubkey(std::string_view base58_address) {
  auto key = decode_pubkey(base58_address);
  return key.ok() ? *key : Pubkey{};
}

Result<Pubkey> find_program_address(const std::vector<std::span<const std::uint8_t>>& seeds,
                                    const Pubkey& program) {
  static constexpr std::string_view marker = "ProgramDerivedAddress";
  for (int bump = 255; bump >= 0; --bump) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr);
    for (const auto& seed : seeds)
      EVP_DigestUpdate(sha.get(), seed.data(), seed.size());
    const std::uint8_t bump_byte = static_cast<std::uint8_t>(bump);
    EVP_DigestUpdate(sha.get(), &bump_byte, 1);
    EVP_DigestUpdate(sha.get(), program.data(), program.size());
    EVP_DigestUpdate(sha.get(), marker.data(), marker.size());
    Pubkey candidate{};
    EVP_DigestFinal_ex(sha.get(), candidate.data(), nullptr);
    if (!is_on_curve(candidate))
      return candidate;
  }
  return make_error("solana.pda", "no off-curve program address for these seeds");
}

Result<Pubkey> associated_token_account(const Pubkey& owner, const Pubkey& mint,
                                        const Pubkey& token_program) {
  return find_program_address({owner, token_program, mint},
                              program_pubkey(kAssociatedTokenProgram));
}

}  // namespace x402proxy::signers::solana
