#include "signers/evm/keccak.h"

#include <cryptopp/keccak.h>

namespace x402proxy::signers::evm {

Hash32 keccak256(std::span<const std::uint8_t> bytes) {
  CryptoPP::Keccak_256 hash;
  hash.Update(bytes.data(), bytes.size());
  Hash32 out;
  hash.Final(out.data());
  return out;
}

Hash32 keccak256(std::string_view text) {
  return keccak256(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace x402proxy::signers::evm
