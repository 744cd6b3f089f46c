#include "signers/evm/eip712.h"

#include <vector>

namespace x402proxy::signers::evm {
namespace {

// abi.encode: every field one 32-byte big-endian word.
class AbiWords {
 public:
  void add(const Hash32& word) { bytes_.insert(bytes_.end(), word.begin(), word.end()); }
  void add(const Address& address) {
    bytes_.insert(bytes_.end(), 12, 0);
    bytes_.insert(bytes_.end(), address.bytes.begin(), address.bytes.end());
  }
  void add(const Uint256& value) {
    Hash32 word{};
    Uint256 rest = value;
    for (int i = 31; i >= 0 && rest != 0; --i) {
      word[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(rest & 0xff);
      rest >>= 8;
    }
    add(word);
  }
  Hash32 hash() const { return keccak256(bytes_); }

 private:
  std::vector<std::uint8_t> bytes_;
};

const Hash32& domain_typehash() {
  static const Hash32 hash = keccak256(
      "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
  return hash;
}

const Hash32& transfer_typehash() {
  static const Hash32 hash = keccak256(
      "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,"
      "uint256 validBefore,bytes32 nonce)");
  return hash;
}

}  // namespace

Hash32 domain_separator(const Eip712Domain& domain) {
  AbiWords words;
  words.add(domain_typehash());
  words.add(keccak256(domain.name));
  words.add(keccak256(domain.version));
  words.add(Uint256(domain.chain_id));
  words.add(domain.verifying_contract);
  return words.hash();
}

Hash32 struct_hash(const TransferAuthorization& authorization) {
  AbiWords words;
  words.add(transfer_typehash());
  words.add(authorization.from);
  words.add(authorization.to);
  words.add(authorization.value);
  words.add(authorization.valid_after);
  words.add(authorization.valid_before);
  words.add(authorization.nonce);
  return words.hash();
}

Hash32 typed_data_digest(const Eip712Domain& domain, const TransferAuthorization& authorization) {
  std::vector<std::uint8_t> bytes{0x19, 0x01};
  Hash32 separator = domain_separator(domain);
  Hash32 message = struct_hash(authorization);
  bytes.insert(bytes.end(), separator.begin(), separator.end());
  bytes.insert(bytes.end(), message.begin(), message.end());
  return keccak256(bytes);
}

}  // namespace x402proxy::signers::evm
