#include "facilitator/service/spl_account_layouts.h"

#include <algorithm>

namespace x402proxy::facilitator {

namespace {

template <std::size_t N>
void put_u64(std::array<std::uint8_t, N>& out, std::size_t offset, std::uint64_t value) {
  for (int i = 0; i < 8; ++i)
    out[offset + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (8 * i));
}

}  // namespace

std::array<std::uint8_t, kMintSize> mint_layout(std::uint64_t supply, std::uint8_t decimals) {
  std::array<std::uint8_t, kMintSize> out{};  // both COption tags 0 = None
  put_u64(out, 36, supply);
  out[44] = decimals;
  out[45] = 1;  // is_initialized
  return out;
}

std::array<std::uint8_t, kTokenAccountSize> token_account_layout(
    const signers::solana::Pubkey& mint, const signers::solana::Pubkey& owner,
    std::uint64_t amount) {
  std::array<std::uint8_t, kTokenAccountSize> out{};  // delegate, is_native, close: None
  std::copy(mint.begin(), mint.end(), out.begin());
  std::copy(owner.begin(), owner.end(), out.begin() + 32);
  put_u64(out, 64, amount);
  out[108] = 1;  // AccountState::Initialized
  return out;
}

}  // namespace x402proxy::facilitator
